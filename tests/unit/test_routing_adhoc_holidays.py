"""Ad-hoc holidays on a business calendar: added and removed at run time, apart from the file's."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from services.routing.sla.calendar import BusinessCalendar, CalendarSpec
from shared.clock import BANGKOK

WEEKDAY_HOURS = [["08:30", "12:00"], ["13:00", "16:30"]]
FILE_HOLIDAY = date(2026, 12, 2)
OTHER_DAY = date(2026, 12, 3)


def office() -> BusinessCalendar:
    """Return a Mon-Fri office calendar with one holiday from the file."""
    days = ("mon", "tue", "wed", "thu", "fri")
    return BusinessCalendar(
        CalendarSpec.model_validate(
            {
                "id": "office",
                "kind": "business_hours",
                "periods": dict.fromkeys(days, WEEKDAY_HOURS),
                "holidays": [str(FILE_HOLIDAY)],
            }
        )
    )


def test_removing_an_adhoc_holiday_opens_the_day_again() -> None:
    calendar = office()
    start = datetime(2026, 12, 3, 8, 30, tzinfo=BANGKOK)
    usual = calendar.add_business_time(start, timedelta(hours=1))

    calendar.add_holiday(OTHER_DAY)
    closed = calendar.add_business_time(start, timedelta(hours=1))
    removed = calendar.remove_holiday(OTHER_DAY)

    assert closed > usual
    assert removed
    assert calendar.add_business_time(start, timedelta(hours=1)) == usual
    assert calendar.adhoc_holidays == frozenset()


def test_removing_never_reopens_a_holiday_of_the_file() -> None:
    calendar = office()
    calendar.add_holiday(FILE_HOLIDAY)

    assert calendar.remove_holiday(FILE_HOLIDAY)
    assert not calendar.remove_holiday(FILE_HOLIDAY)
    assert calendar.is_holiday(FILE_HOLIDAY)


def test_a_24x7_calendar_takes_no_holiday() -> None:
    calendar = BusinessCalendar(CalendarSpec(id="always", kind="24x7"))

    with pytest.raises(ValueError, match="24x7"):
        calendar.add_holiday(OTHER_DAY)
    assert not calendar.remove_holiday(OTHER_DAY)
