"""The window of instants intake believes a sender's clock about.

Every channel that dates its payload (the app's ``submitted_at``, LINE's
``timestamp``, a CTI event, a fax gateway's ``received_at``, a counter's
queue time) is checked against one window:

- not before ``EARLIEST`` (2000-01-01 UTC): year 1, 1900 and the 1970 epoch
  are a reset clock or an unset field, never an event. The floor is fixed
  rather than relative to now because a spool (a PBX's, a fax gateway's, an
  app offline) may hold old events, and nothing downstream is dated by them:
  a case is dated by intake's own receipt time;
- not after ``MAX_AHEAD`` (one day) past intake's clock: more is a wrong clock
  or a forged payload, and a day covers any time zone mistaken for UTC.

Pure parsers, which have no clock, check the fixed bounds (``plausible``,
with ``LATEST`` in 2100 as the ceiling so date arithmetic can never leave the
calendar); the HTTP doors then check ``not_ahead`` against their clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.errors import Invalid

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=1)


def plausible(value: datetime) -> datetime:
    """Return ``value`` if it is an aware instant between 2000 and 2100; raise ``ValueError``.

    ``ValueError`` is what pydantic validators raise, so models call this and
    report the field themselves.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the time needs a UTC offset")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset that leaves the calendar
        raise ValueError("the time is out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"the time must be between {EARLIEST:%Y} and {LATEST:%Y}")
    return value


def not_ahead(value: datetime | None, *, now: datetime, field: str) -> None:
    """Raise ``Invalid`` naming ``field`` if ``value`` is more than ``MAX_AHEAD`` past ``now``."""
    if value is None:
        return
    if value > now + MAX_AHEAD:
        raise Invalid(
            f"{field}: {value.isoformat()} is more than a day ahead of the time it was received",
            field=field,
        )


def written(value: object) -> object:
    """Refuse a time that is not written out (a pydantic ``mode="before"`` validator).

    Pydantic would read a bare number as seconds since 1970; the doors
    describe their times as ISO 8601 strings and take nothing else.
    """
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("the time must be an ISO 8601 string with a UTC offset")
    return value
