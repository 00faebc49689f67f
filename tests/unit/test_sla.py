"""Behaviour of business calendars, SLA policy selection and the SLA clock."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import holidays
import pytest
import yaml

from services.routing.sla.calendar import BusinessCalendar, CalendarSpec
from services.routing.sla.policies import EscalationStep, SlaClock, SlaPolicy, select_policy
from shared.clock import BANGKOK
from shared.errors import Conflict
from shared.ids import new_id

OFFICE_HOURS = [["08:30", "12:00"], ["13:00", "16:30"]]


def bkk(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """Return a 2026 Bangkok wall-clock instant."""
    return datetime(2026, month, day, hour, minute, tzinfo=BANGKOK)


def office(**extra: Any) -> BusinessCalendar:
    """Return a Mon-Fri office calendar with a lunch break and Thai public holidays."""
    days = ("mon", "tue", "wed", "thu", "fri")
    spec = {"id": f"office-{new_id()}", "kind": "business_hours", "public_holidays": "TH"}
    return BusinessCalendar(
        CalendarSpec.model_validate(spec | {"periods": dict.fromkeys(days, OFFICE_HOURS)} | extra)
    )


def always() -> BusinessCalendar:
    """Return a fresh 24x7 calendar."""
    return BusinessCalendar(CalendarSpec(id=f"24x7-{new_id()}", kind="24x7"))


def policy(calendar: BusinessCalendar, **fields: Any) -> SlaPolicy:
    """Return a policy on ``calendar``; an 8 h resolution target unless ``fields`` say otherwise."""
    data: dict[str, Any] = {"id": f"p-{new_id()}", "calendar": calendar.id}
    data.setdefault("targets", {"resolution": timedelta(hours=8)})
    return SlaPolicy.model_validate(data | fields)


def round_trip(clock: SlaClock) -> SlaClock:
    """Store and reload ``clock`` the way a case document would, through JSON."""
    doc = json.loads(json.dumps(clock.to_doc()))
    return SlaClock.from_doc(doc, calendars={clock.calendar.id: clock.calendar})


def test_resolution_due_skips_lunch_break_and_weekend() -> None:
    calendar = office()
    start = datetime(2026, 11, 27, 11, 0, tzinfo=BANGKOK)  # a Friday
    clock = SlaClock.start(
        policy(calendar, targets={"resolution": timedelta(hours=8, minutes=30)}), calendar, start
    )

    # Friday 11:00-12:00 and 13:00-16:30 give 4.5 h; Monday 08:30-12:00 gives 3.5 h.
    assert clock.due["resolution"] == datetime(2026, 11, 30, 13, 30, tzinfo=BANGKOK)
    assert clock.due["resolution"].tzinfo == UTC


def test_business_time_lands_on_closing_instant_not_after_lunch() -> None:
    calendar = office()

    due = calendar.add_business_time(bkk(1, 9), timedelta(hours=3))

    assert due == bkk(1, 12)


def test_thai_public_holiday_is_not_business_time() -> None:
    # Dec 5 2026 is a Saturday; the holidays package gives Monday Dec 7 in lieu.
    assert "in lieu" in holidays.country_holidays("TH").get(date(2026, 12, 7), "")
    calendar = office()

    assert not calendar.is_open(bkk(7, 10))
    assert calendar.next_open(bkk(7, 10)) == bkk(8, 8, 30)
    assert calendar.business_time_between(bkk(4, 16), bkk(8, 9, 30)) == timedelta(hours=1.5)


def test_resolution_due_skips_songkran() -> None:
    # Songkran 2026 is Monday 13 to Wednesday 15 April.
    calendar = office()
    start = datetime(2026, 4, 10, 15, 30, tzinfo=BANGKOK)  # Friday before Songkran
    clock = SlaClock.start(policy(calendar), calendar, start)

    # Friday gives 1 h; Thursday 16 April gives 3.5 h before lunch and 3.5 h after.
    assert clock.due["resolution"] == datetime(2026, 4, 16, 16, 30, tzinfo=BANGKOK)
    assert not calendar.is_open(datetime(2026, 4, 14, 10, 0, tzinfo=BANGKOK))


def test_local_holiday_from_spec_is_not_business_time() -> None:
    calendar = office(holidays=["2026-12-02"])

    assert not calendar.is_open(bkk(2, 10))
    assert calendar.is_open(bkk(3, 10))


def test_adhoc_holiday_added_at_runtime_moves_due_time() -> None:
    calendar = office()
    start = datetime(2026, 11, 26, 16, 0, tzinfo=BANGKOK)  # Thursday
    clock = SlaClock.start(
        policy(calendar, targets={"first_response": timedelta(hours=1)}), calendar, start
    )
    assert clock.due["first_response"] == datetime(2026, 11, 27, 9, 0, tzinfo=BANGKOK)

    calendar.add_holiday(date(2026, 11, 27))
    clock.reschedule(start + timedelta(minutes=10))

    assert clock.due["first_response"] == datetime(2026, 11, 30, 9, 0, tzinfo=BANGKOK)


def test_clock_pauses_in_pending_customer() -> None:
    calendar = office()
    clock = SlaClock.start(policy(calendar), calendar, datetime(2026, 11, 30, 9, 0, tzinfo=BANGKOK))
    due_before = clock.due["resolution"]

    paused_at = datetime(2026, 11, 30, 10, 0, tzinfo=BANGKOK)

    clock.pause(paused_at)
    assert clock.next_due() is None
    assert clock.elapsed("resolution", bkk(1, 9)) == timedelta(hours=1)
    with pytest.raises(Conflict):
        clock.pause(bkk(1, 9))

    clock.resume(bkk(1, 10))
    paused = calendar.business_time_between(paused_at, bkk(1, 10))
    assert clock.due["resolution"] == calendar.add_business_time(due_before, paused)
    assert clock.due["resolution"] == bkk(2, 10)


def test_transfer_carries_over_consumed_time() -> None:
    office_calendar, hotline = office(), always()
    clock = SlaClock.start(policy(office_calendar), office_calendar, bkk(1, 9))

    clock.transfer(hotline, bkk(1, 11))

    assert clock.elapsed("resolution", bkk(1, 11)) == timedelta(hours=2)
    assert clock.due["resolution"] == bkk(1, 17)
    assert round_trip(clock).calendar is hotline


def test_each_escalation_step_fires_once() -> None:
    calendar = always()
    steps = [
        [0.5, "remind_assignee", "resolution"],
        [0.75, "supervisor", "resolution"],
        [1.0, "escalation_unit", "resolution"],
        [1.5, "executive", "resolution"],
    ]
    clock = SlaClock.start(
        policy(calendar, targets={"resolution": "PT4H"}, escalation=steps), calendar, bkk(1, 8)
    )

    assert clock.due_steps(bkk(1, 9, 59)) == []
    first = clock.due_steps(bkk(1, 10, 10))
    assert [step.action for step in first] == ["remind_assignee"]
    clock.mark_fired(first[0].key)
    clock = round_trip(clock)
    assert clock.due_steps(bkk(1, 10, 10)) == []
    assert clock.next_due() == bkk(1, 11)

    later = clock.due_steps(bkk(1, 15))
    assert [step.action for step in later] == ["supervisor", "escalation_unit", "executive"]
    for step in later:
        clock.mark_fired(step.key)
    assert clock.due_steps(bkk(1, 15)) == []
    assert clock.due_breaches(bkk(1, 15)) == ["resolution"]
    clock.mark_breach_reported("resolution")
    assert clock.next_due() is None


def test_escalation_thresholds_fall_in_business_hours() -> None:
    calendar = office()
    steps = [EscalationStep(fraction=0.5, action="supervisor", target="resolution")]
    start = bkk(4, 15)  # Friday afternoon
    clock = SlaClock.start(
        policy(calendar, targets={"resolution": "PT7H"}, escalation=steps), calendar, start
    )

    # 1.5 h on Friday, Monday is the in-lieu holiday, so 2 h more on Tuesday morning.
    assert clock.step_due[steps[0].key] == bkk(8, 10, 30)
    assert clock.due_steps(bkk(7, 23)) == []


def test_state_moves_from_ok_to_warning_to_breached() -> None:
    calendar = always()
    steps = [[0.75, "supervisor", "first_response"], [1.5, "executive", "first_response"]]
    targets = {"first_response": "PT1H", "resolution": "P1D"}
    clock = SlaClock.start(policy(calendar, targets=targets, escalation=steps), calendar, bkk(1, 8))

    assert clock.state(bkk(1, 8, 30)) == {"first_response": "ok", "resolution": "ok"}
    assert clock.state(bkk(1, 8, 45))["first_response"] == "warning"
    assert clock.state(bkk(1, 9))["first_response"] == "breached"


def test_met_target_stops_counting_and_escalating() -> None:
    calendar = always()
    steps = [[0.5, "remind_assignee", "first_response"]]
    targets = {"first_response": "PT1H", "resolution": "PT8H"}
    clock = SlaClock.start(policy(calendar, targets=targets, escalation=steps), calendar, bkk(1, 8))

    clock.met("first_response", bkk(1, 8, 20))
    clock.met("first_response", bkk(1, 8, 50))  # a later reply is not the first response

    assert clock.elapsed("first_response", bkk(1, 12)) == timedelta(minutes=20)
    assert clock.due_steps(bkk(1, 12)) == []
    assert clock.state(bkk(1, 12))["first_response"] == "ok"
    assert clock.next_due() == bkk(1, 16)


def test_24x7_calendar_counts_nights() -> None:
    calendar = always()

    assert calendar.add_business_time(bkk(4, 22), timedelta(hours=4)) == bkk(5, 2)
    # Dec 5 is a public holiday, but a 24x7 desk works through it.
    assert calendar.business_time_between(bkk(5, 0), bkk(6, 0)) == timedelta(hours=24)


def test_most_specific_policy_wins() -> None:
    calendar = always()
    catch_all = policy(calendar)
    outage = policy(calendar, category="outage")
    urgent_outage = policy(calendar, category="outage", urgency="urgent")
    key_account = policy(calendar, tier="key_account")
    also_two = policy(calendar, category="outage", tier="key_account")
    listed = [catch_all, outage, urgent_outage, key_account, also_two]

    def pick(**case: str | None) -> SlaPolicy | None:
        fields: dict[str, str | None] = dict.fromkeys(("category", "topic", "urgency", "tier"))
        return select_policy(listed, **(fields | case))

    assert pick(category="billing") is catch_all
    assert pick(category="outage", urgency="normal") is outage
    assert pick(category="outage", urgency="urgent") is urgent_outage
    # urgent_outage and also_two both name two fields; the one listed first wins.
    assert pick(category="outage", urgency="urgent", tier="key_account") is urgent_outage
    assert select_policy([outage], category=None, topic=None, urgency=None, tier=None) is None


@pytest.mark.parametrize(
    ("periods", "reason"),
    [
        ({"monday": OFFICE_HOURS}, "unknown weekday 'monday'"),
        ({"mon": [["12:00", "08:30"]]}, "does not end after it starts"),
        ({"mon": [["08:30", "12:00"], ["11:00", "13:00"]]}, "overlap"),
        ({"mon": [["08:30", "25:00"]]}, "not a time of day"),
        (yaml.safe_load("mon: [[08:30, 13:00]]"), "quoted 'HH:MM'"),
        ({}, "needs at least one period"),
    ],
)
def test_bad_calendar_spec_is_refused_with_reason(periods: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        CalendarSpec.model_validate({"id": "bad", "kind": "business_hours", "periods": periods})


def test_24x7_calendar_with_holidays_is_refused() -> None:
    with pytest.raises(ValueError, match="24x7 calendar takes no periods or holidays"):
        CalendarSpec.model_validate({"id": "bad", "kind": "24x7", "public_holidays": "TH"})


def test_calendar_spec_dumps_back_to_yaml_form() -> None:
    spec = office(holidays=["2026-12-02"]).spec

    assert CalendarSpec.model_validate(spec.model_dump(mode="json")) == spec
    assert spec.model_dump(mode="json")["periods"]["mon"] == OFFICE_HOURS


def test_naive_datetime_refused() -> None:
    calendar = office()
    naive = datetime(2026, 12, 1, 9, 0)

    with pytest.raises(ValueError, match="naive"):
        calendar.is_open(naive)
    with pytest.raises(ValueError, match="naive"):
        calendar.add_business_time(naive, timedelta(hours=1))
    with pytest.raises(ValueError, match="naive"):
        SlaClock.start(policy(calendar), calendar, naive)


def test_clock_round_trips_through_json_with_seconds_and_iso_instants() -> None:
    calendar = office()
    clock = SlaClock.start(policy(calendar), calendar, bkk(1, 9))
    clock.pause(bkk(1, 10))

    doc = clock.to_doc()

    assert doc["consumed"] == {"resolution": 3600.0}
    assert doc["paused_since"] == "2026-12-01T03:00:00Z"
    assert round_trip(clock) == clock
