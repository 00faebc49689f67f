"""Cases: lifecycle events with sequence numbers, closing rules, and the SLA as the case moves."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache

import pytest

from services.routing.assignment.rules import Area, Choice
from services.routing.cases import lifecycle
from services.routing.cases import work as casework
from services.routing.cases.domain import Case, Classification, case_numbers_in
from services.routing.org.config import OrgConfig, load_org
from services.routing.sla.case import SlaKeeper
from shared.clock import BANGKOK
from shared.errors import Conflict
from shared.ids import new_id
from shared.messages import Envelope
from tests.support.messages import screened_message

# Tuesday 1 December 2026, 09:00 in Bangkok: an ordinary working morning.
MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)


@cache
def pea() -> OrgConfig:
    """Return the demo electricity distributor."""
    return load_org("pea")


def new_case(
    *,
    topic: str = "billing",
    urgency: str = "normal",
    unit: str = "pea-billing",
    at: datetime = MORNING,
    tier: str = "standard",
) -> tuple[Case, SlaKeeper]:
    """Open, route and start the SLA of a case the way routing does."""
    sla = SlaKeeper(pea())
    message = screened_message(received_at=at)
    case = lifecycle.open_case(
        message,
        case_id=new_id(),
        number="VOC-2026-000123",
        at=at,
        causation=Envelope.of(message),
        classification=Classification(
            category="complaint", topic=topic, urgency=urgency, confident=True, source="model"
        ),
        area=Area(),
        tier=tier,
    )
    lifecycle.route(case, Choice(unit, "r", "rule r"), at=at, causation=None)
    sla.start(case, at)
    return case, sla


def test_every_change_records_an_event_with_the_next_sequence_number() -> None:
    case, sla = new_case()
    casework.acknowledge(case, at=MORNING, actor="billing.orawan", sla=sla)
    casework.resolve(case, summary="แก้ไขหน่วยแล้ว", at=MORNING, actor="billing.orawan", sla=sla)

    types = [event["type"] for event in case.timeline]
    assert types == ["case.opened", "case.routed", "case.acknowledged", "case.resolved"]
    assert [event["seq"] for event in case.timeline] == [1, 2, 3, 4]
    assert [json.loads(json.dumps(e))["data"]["seq"] for e in case.outbox] == [1, 2, 3, 4]


def test_a_case_cannot_close_without_being_resolved() -> None:
    case, _ = new_case()

    with pytest.raises(Conflict, match="routed cannot become closed"):
        case.move("closed")


def test_rating_closes_the_case_with_a_closure_record() -> None:
    case, sla = new_case()
    casework.resolve(case, summary="done", at=MORNING, actor="a", sla=sla)

    casework.rate(
        case,
        score=5,
        comment="ดีมาก",
        channel="line",
        at=MORNING,
        actor="customer",
        sla=sla,
        supervisor="billing.sup.pimchanok",
    )

    assert case.status == "closed"
    assert case.closure is not None
    assert case.closure.score == 5
    assert case.closure.channel == "line"
    assert case.closure.on_behalf is False
    assert case.timeline[-1]["detail"]["closure"]["comment"] == "ดีมาก"


def test_low_rating_closes_then_reopens_the_case_to_the_supervisor() -> None:
    case, sla = new_case()
    casework.resolve(case, summary="done", at=MORNING, actor="a", sla=sla)

    casework.rate(
        case,
        score=2,
        comment=None,
        channel="email",
        at=MORNING,
        actor="customer",
        sla=sla,
        supervisor="billing.sup.pimchanok",
    )

    assert [e["type"] for e in case.timeline[-2:]] == ["case.closed", "case.reopened"]
    assert case.status == "in_progress"
    assert case.assignee == "billing.sup.pimchanok"
    reopened = case.timeline[-1]["detail"]
    assert reopened["to"] == {"role": "supervisor", "user": "billing.sup.pimchanok"}
    assert "supervisor" in reopened["reason"]
    assert case.sla_next_due is not None  # a fresh clock runs for the second attempt


def test_rating_a_case_that_is_not_resolved_is_refused() -> None:
    case, sla = new_case()

    with pytest.raises(Conflict, match="only a resolved case takes a rating"):
        casework.rate(
            case,
            score=4,
            comment=None,
            channel="line",
            at=MORNING,
            actor="c",
            sla=sla,
            supervisor=None,
        )


def test_acknowledgement_on_behalf_closes_only_once_a_supervisor_certifies_it() -> None:
    case, sla = new_case()
    casework.resolve(case, summary="done", at=MORNING, actor="a", sla=sla)

    casework.record_on_behalf(
        case,
        channel="phone",
        note="ลูกค้ารับทราบทางโทรศัพท์",
        score=None,
        at=MORNING,
        actor="cc.nattaya",
    )
    assert (case.status, case.pending_closure is not None) == ("resolved", True)

    casework.certify_closure(case, at=MORNING, actor="cc.sup.wanida", sla=sla, supervisor=None)

    assert case.status == "closed"
    assert case.closure is not None
    assert case.closure.on_behalf is True
    assert case.closure.certified_by == "cc.sup.wanida"
    assert case.closure.recorded_by == "cc.nattaya"


def test_the_person_who_recorded_an_acknowledgement_cannot_certify_it() -> None:
    case, sla = new_case()
    casework.resolve(case, summary="done", at=MORNING, actor="a", sla=sla)
    casework.record_on_behalf(
        case, channel="letter", note="n", score=None, at=MORNING, actor="cc.sup.wanida"
    )

    with pytest.raises(Conflict, match="cannot also certify"):
        casework.certify_closure(case, at=MORNING, actor="cc.sup.wanida", sla=sla, supervisor=None)


def test_certifying_without_a_recorded_acknowledgement_is_refused() -> None:
    case, sla = new_case()
    casework.resolve(case, summary="done", at=MORNING, actor="a", sla=sla)

    with pytest.raises(Conflict, match="awaiting certification"):
        casework.certify_closure(case, at=MORNING, actor="sup", sla=sla, supervisor=None)


def test_waiting_for_the_customer_pauses_the_sla_and_their_answer_resumes_it() -> None:
    case, sla = new_case()
    due = case.sla["due"]["resolution"]

    casework.request_info(case, question="ขอเลขผู้ใช้ไฟ", at=MORNING, actor="a", sla=sla)
    # Nothing comes due while the case waits for the customer.
    assert (case.status, case.sla_next_due) == ("pending_customer", None)

    answer = screened_message(received_at=MORNING + timedelta(days=1))
    lifecycle.add_contact(
        case,
        answer,
        at=MORNING + timedelta(days=1),
        joined_by="reply",
        sla=sla,
        causation=Envelope.of(answer),
    )

    assert case.status == "in_progress"
    assert case.timeline[-1]["detail"]["resumed"] is True
    clock = sla.clock(case)
    assert clock is not None
    assert clock.paused_since is None
    # A whole business day passed while paused, so resolution is due a business day later.
    assert datetime.fromisoformat(case.sla["due"]["resolution"]) > datetime.fromisoformat(due)


def test_transfer_carries_used_time_over_to_the_new_units_calendar() -> None:
    case, sla = new_case(topic="billing", unit="pea-billing")
    two_hours_later = MORNING + timedelta(hours=2)

    casework.transfer(
        case,
        unit="pea-chiangmai",
        reason="เป็นเรื่องของพื้นที่",
        at=two_hours_later,
        actor="a",
        sla=sla,
    )

    clock = sla.clock(case)
    assert clock is not None
    assert clock.calendar_id == "pea-office-north"
    assert clock.elapsed("resolution", two_hours_later) == timedelta(hours=2)
    assert [e["type"] for e in case.timeline[-2:]] == ["case.transferred", "case.routed"]
    assert case.unit == "pea-chiangmai"
    assert case.assignee is None


def test_correcting_urgency_applies_the_stricter_policy_from_the_case_start() -> None:
    case, sla = new_case(topic="meter", unit="pea-metering")
    assert case.sla["policy_id"] == "standard"

    casework.reclassify(
        case, {"urgency": "urgent"}, at=MORNING + timedelta(hours=1), actor="a", sla=sla
    )

    assert case.sla["policy_id"] == "urgent"
    assert datetime.fromisoformat(case.sla["due"]["resolution"]) == MORNING + timedelta(hours=8)
    assert case.classification.source == "agent"
    assert case.sla_history[-1]["why"] == "reclassified"


def test_a_reply_queues_reply_requested_with_the_case_events() -> None:
    case, sla = new_case()

    casework.reply(case, text="กำลังตรวจสอบ", request_id="rq-1", at=MORNING, actor="a", sla=sla)

    assert [e["type"] for e in case.outbox[-2:]] == ["case.updated", "reply.requested"]
    assert case.outbox[-1]["data"]["reply_handle"] == case.reply_handle
    assert "first_response" in case.sla["met_at"]


def test_case_numbers_are_read_in_any_case_and_deduplicated() -> None:
    found = case_numbers_in(
        "Re: [voc-2026-000123] ไฟดับ", "<VOC-2026-000123.x@mail>", "VOC-2025-999999"
    )

    assert found == ["VOC-2026-000123", "VOC-2025-999999"]
