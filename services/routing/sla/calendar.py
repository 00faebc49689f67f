"""Business calendars: the hours an SLA clock runs, reckoned in Asia/Bangkok. No I/O."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, NamedTuple, get_args

import holidays
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from shared.clock import BANGKOK

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)
ZERO = timedelta(0)
_DAY_MINUTES = 24 * 60
_HHMM = re.compile(r"(\d{1,2}):(\d{2})")
# A calendar that stays shut this long is a configuration mistake; stop rather than loop forever.
_HORIZON = timedelta(days=3660)


def as_utc(at: datetime) -> datetime:
    """Return ``at`` in UTC; refuse a naive datetime, whose zone would be a guess."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()} refused: pass an aware datetime")
    return at.astimezone(UTC)


class Period(NamedTuple):
    """One opening period of a weekday, in minutes after local midnight (end exclusive)."""

    start: int
    end: int


def _minutes(text: object) -> int:
    """Parse ``'HH:MM'`` (``'24:00'`` allowed as an end) into minutes after midnight."""
    if not isinstance(text, str):
        # YAML 1.1 reads an unquoted 13:00 as the base-60 number 780, so say how to fix it.
        raise ValueError(f"time {text!r} must be a quoted 'HH:MM' string")
    match = _HHMM.fullmatch(text)
    if match is not None:
        hours, minutes = int(match[1]), int(match[2])
        if minutes < 60 and hours * 60 + minutes <= _DAY_MINUTES:
            return hours * 60 + minutes
    raise ValueError(f"time {text!r} is not a time of day 'HH:MM' from 00:00 to 24:00")


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_day(day: object, pairs: object) -> tuple[Period, ...]:
    """Parse one weekday's ``[[start, end], ...]``; refuse reversed or overlapping periods."""
    if day not in WEEKDAYS:
        raise ValueError(f"unknown weekday {day!r}; use one of {', '.join(WEEKDAYS)}")
    if not isinstance(pairs, list | tuple):
        raise ValueError(f"{day}: periods must be a list of [start, end] pairs")
    periods: list[Period] = []
    for pair in pairs:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(f"{day}: period {pair!r} is not a [start, end] pair")
        period = Period(_minutes(pair[0]), _minutes(pair[1]))
        if period.start >= period.end:
            raise ValueError(f"{day}: period {pair[0]}-{pair[1]} does not end after it starts")
        periods.append(period)
    periods.sort()
    for before, after in itertools.pairwise(periods):
        if after.start < before.end:
            raise ValueError(
                f"{day}: periods {_hhmm(before.start)}-{_hhmm(before.end)} and "
                f"{_hhmm(after.start)}-{_hhmm(after.end)} overlap"
            )
    return tuple(periods)


class CalendarSpec(BaseModel):
    """A calendar as the organisation's YAML writes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    kind: Literal["24x7", "business_hours"]
    periods: dict[Weekday, tuple[Period, ...]] = Field(default_factory=dict)
    holidays: tuple[date, ...] = ()
    public_holidays: Literal["TH"] | None = None

    @field_validator("periods", mode="before")
    @classmethod
    def _parse_periods(cls, raw: object) -> object:
        if not isinstance(raw, dict):
            return raw  # let pydantic name the type error
        return {day: _parse_day(day, pairs) for day, pairs in raw.items()}

    @model_validator(mode="after")
    def _consistent_kind(self) -> CalendarSpec:
        if self.kind == "24x7" and (self.periods or self.holidays or self.public_holidays):
            raise ValueError(
                "a 24x7 calendar takes no periods or holidays; to close on holidays use "
                "kind business_hours with 00:00-24:00 periods"
            )
        if self.kind == "business_hours" and not any(self.periods.values()):
            raise ValueError("a business_hours calendar needs at least one period")
        return self

    @field_serializer("periods")
    def _dump_periods(self, periods: dict[Weekday, tuple[Period, ...]]) -> dict[str, Any]:
        return {day: [[_hhmm(p.start), _hhmm(p.end)] for p in ps] for day, ps in periods.items()}


class BusinessCalendar:
    """When business time runs: always, or the opening periods less every holiday."""

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        always = (Period(0, _DAY_MINUTES),)
        # 24x7 is every day open 00:00-24:00, so one algorithm serves both kinds.
        self._periods: dict[Weekday, tuple[Period, ...]] = (
            dict.fromkeys(WEEKDAYS, always) if spec.kind == "24x7" else dict(spec.periods)
        )
        self._closed: set[date] = set(spec.holidays)
        # Kept apart from the file's holidays so removing one never reopens a file holiday.
        self._adhoc: set[date] = set()
        self._public = (
            holidays.country_holidays(spec.public_holidays) if spec.public_holidays else None
        )

    @property
    def id(self) -> str:
        """Return the calendar's configured id."""
        return self.spec.id

    @property
    def adhoc_holidays(self) -> frozenset[date]:
        """Return the holidays added at run time (not the file's or the public ones)."""
        return frozenset(self._adhoc)

    def add_holiday(self, day: date) -> None:
        """Close on ``day`` from now on, e.g. a holiday the cabinet has just announced."""
        if self.spec.kind == "24x7":
            raise ValueError(f"calendar {self.id!r} is 24x7 and never closes")
        self._adhoc.add(day)

    def remove_holiday(self, day: date) -> bool:
        """Open on ``day`` again if it was added at run time; say whether it was."""
        if day not in self._adhoc:
            return False
        self._adhoc.discard(day)
        return True

    def is_holiday(self, day: date) -> bool:
        """Say whether local ``day`` is a public, local or ad-hoc holiday."""
        return (
            day in self._closed
            or day in self._adhoc
            or (self._public is not None and day in self._public)
        )

    def is_open(self, at: datetime) -> bool:
        """Say whether business time runs at instant ``at``."""
        at = as_utc(at)
        return any(start <= at < end for start, end in self._day(_local_date(at)))

    def next_open(self, at: datetime) -> datetime:
        """Return ``at`` if open, else the instant the calendar next opens."""
        at = as_utc(at)
        first = next(self._open_from(at, last_day=_local_date(at + _HORIZON)), None)
        if first is None:
            raise ValueError(f"calendar {self.id!r} does not open within {_HORIZON.days} days")
        return first[0]

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """Return the instant ``duration`` of business time after ``start``."""
        start = as_utc(start)
        if duration < ZERO:
            raise ValueError(f"duration {duration} is negative")
        remaining = duration
        if not remaining:
            return start
        for begin, end in self._open_from(start, last_day=_local_date(start + _HORIZON)):
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise ValueError(
            f"calendar {self.id!r} has less than {duration} of business time "
            f"in the {_HORIZON.days} days after {start.isoformat()}"
        )

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Return how much business time runs from ``a`` to ``b``."""
        a, b = as_utc(a), as_utc(b)
        if b < a:
            raise ValueError(f"{b.isoformat()} is before {a.isoformat()}")
        total = ZERO
        for begin, end in self._open_from(a, last_day=_local_date(b)):
            if begin >= b:
                break
            total += min(end, b) - begin
        return total

    def _day(self, day: date) -> list[tuple[datetime, datetime]]:
        """Return local ``day``'s open intervals as UTC pairs."""
        if self.is_holiday(day):
            return []
        midnight = datetime.combine(day, time(), BANGKOK)
        return [
            (
                (midnight + timedelta(minutes=period.start)).astimezone(UTC),
                (midnight + timedelta(minutes=period.end)).astimezone(UTC),
            )
            for period in self._periods.get(WEEKDAYS[day.weekday()], ())
        ]

    def _open_from(self, at: datetime, *, last_day: date) -> Iterator[tuple[datetime, datetime]]:
        """Yield open intervals through local ``last_day``, clipped to begin at ``at`` or later."""
        day = _local_date(at)
        while day <= last_day:
            for begin, end in self._day(day):
                if end > at:
                    yield max(begin, at), end
            day += timedelta(days=1)


def _local_date(at: datetime) -> date:
    return at.astimezone(BANGKOK).date()
