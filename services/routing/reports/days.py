"""Bangkok days as the report rollups key them, and the mark a case write leaves for its day.

Every write of a case (``insert_case`` and ``save_case`` of ``cases/store.py``) stores
``report_pending``: the key of the day the case was opened in,
``<org>:<YYYY-MM-DD>`` (Bangkok). The mark rides in the same update as the
case, so no change is ever left out of the figures, whatever fails after
the write; ``rollups.py`` rebuilds the marked days and clears the marks.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from shared.clock import BANGKOK

PENDING = "report_pending"


def day_of(at: datetime) -> date:
    """Return the Bangkok day of an instant."""
    return at.astimezone(BANGKOK).date()


def day_key(org: str, day: date) -> str:
    """Return the rollup key of ``org``'s ``day``: ``pea:2026-10-05``."""
    return f"{org}:{day.isoformat()}"


def parse_key(key: str) -> tuple[str, date]:
    """Return the organisation and the day of a rollup key."""
    org, _, day = key.partition(":")
    return org, date.fromisoformat(day)


def report_mark(org: str, created_at: datetime) -> dict[str, str]:
    """Return the field a case write stores so its day's rollup is rebuilt."""
    return {PENDING: day_key(org, day_of(created_at))}


def day_start(day: date) -> datetime:
    """Return the first instant of a Bangkok day."""
    return datetime.combine(day, time(), tzinfo=BANGKOK)


def days_between(start: datetime, end: datetime) -> list[date]:
    """Return the Bangkok days of [start, end), both the first instant of a Bangkok day."""
    first, last = day_of(start), day_of(end)
    return [first + timedelta(days=n) for n in range((last - first).days)]
