"""Screened contacts on the real store: threading, reopening, callbacks, ratings, routing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from services.privacy.messages import ConsentChanged
from services.routing.app import INDEXES, Routing
from services.routing.cases import callbacks
from services.routing.cases.access import Actor
from shared.clock import BANGKOK, FrozenClock
from shared.messages import Envelope, ThreadKeys
from shared.store import Store
from tests.support.routing import RecordingBus, case_of, deliver, routing_for, screened

pytestmark = pytest.mark.integration

MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)
AGENT = Actor(user="cc.nattaya", role="agent")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MORNING)


@pytest.fixture
async def routing(store: Store, clock: FrozenClock, tmp_path: Path) -> tuple[Routing, RecordingBus]:
    await store.ensure_indexes(INDEXES)
    return routing_for(store, clock=clock, tmp_path=tmp_path)


async def test_a_line_follow_up_joins_the_customers_open_case(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock
) -> None:
    service, bus = routing
    first = screened(clock, channel="line", text="ไฟดับทั้งซอย")
    await deliver(service, first)
    clock.advance(timedelta(hours=5))
    follow_up = screened(clock, channel="line", subject_ref=first.subject_ref, text="ยังดับอยู่เลย")
    await deliver(service, follow_up)
    await service.relay.relay_once()

    case = await case_of(service, follow_up.contact_id)
    assert [c.contact_id for c in case.contacts] == [first.contact_id, follow_up.contact_id]
    assert bus.types(case.id) == ["case.opened", "case.routed", "case.contact_added"]
    assert [e.data["seq"] for e in bus.published] == [1, 2, 3]


async def test_an_email_reply_joins_the_case_of_the_mail_it_answers(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock
) -> None:
    service, _ = routing
    first = screened(clock, channel="email", thread=ThreadKeys(message_id="<a1@mail.example>"))
    await deliver(service, first)
    reply = screened(
        clock,
        channel="email",
        subject_ref=first.subject_ref,
        subject="Re: ไฟดับ",
        thread=ThreadKeys(message_id="<a2@mail.example>", in_reply_to="<a1@mail.example>"),
    )
    await deliver(service, reply)

    case = await case_of(service, reply.contact_id)
    assert len(case.contacts) == 2
    assert case.timeline[-1]["detail"]["joined_by"] == "refers to the case"


async def test_a_repeat_call_and_a_walk_in_naming_the_case_join_it(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock
) -> None:
    service, _ = routing
    call = screened(clock, channel="phone", text="สายเข้า 1129 ไฟดับ")
    await deliver(service, call)
    number = (await case_of(service, call.contact_id)).number
    clock.advance(timedelta(hours=2))
    again = screened(clock, channel="phone", subject_ref=call.subject_ref, text="โทรซ้ำ ไฟดับ")
    visit = screened(
        clock,
        channel="walk_in",
        subject_ref="sub_neighbour",
        thread=ThreadKeys(case_number=number),
        meta={"recorded_by": "counter.agent", "recorded_role": "agent"},
    )
    await deliver(service, again)
    await deliver(service, visit)

    case = await case_of(service, call.contact_id)
    assert [c.channel for c in case.contacts] == ["phone", "phone", "walk_in"]
    assert case.channels == ["phone", "walk_in"]


async def test_a_follow_up_soon_after_resolution_reopens_the_case(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock
) -> None:
    service, _ = routing
    first = screened(clock, channel="line", text="ค่าไฟแพงผิดปกติ")
    await deliver(service, first)
    case = await case_of(service, first.contact_id)
    await service.commands.resolve(case.id, AGENT, summary="ปรับปรุงหน่วยแล้ว")
    clock.advance(timedelta(days=2))

    back = screened(clock, channel="line", subject_ref=first.subject_ref, text="บิลใหม่ยังผิดอยู่")
    await deliver(service, back)

    reopened = await case_of(service, back.contact_id)
    assert reopened.id == case.id
    assert reopened.status == "in_progress"
    assert reopened.reopen_count == 1
    assert [e["type"] for e in reopened.timeline[-2:]] == ["case.reopened", "case.contact_added"]


async def test_a_redelivered_contact_changes_nothing(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock
) -> None:
    service, _ = routing
    message = screened(clock, channel="app", text="ไฟดับ")
    envelope = Envelope.of(message)
    await service.contacts.on_contact_screened(envelope)
    await service.contacts.on_contact_screened(envelope)

    case = await case_of(service, message.contact_id)
    assert case.seq == 2
    assert await service.runtime.store["cases"].count_documents({}) == 1


async def test_contacts_joining_one_case_at_once_all_land(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock
) -> None:
    service, _ = routing
    first = screened(clock, channel="line", text="ไฟดับ")
    await deliver(service, first)
    more = [screened(clock, channel="line", subject_ref=first.subject_ref) for _ in range(4)]

    await asyncio.gather(*(deliver(service, m) for m in more))

    case = await case_of(service, first.contact_id)
    assert len(case.contacts) == 5
    assert [e["seq"] for e in case.timeline] == list(range(1, 7))


async def test_an_abandoned_call_goes_on_the_callback_list_and_opens_no_case(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock
) -> None:
    service, _ = routing
    store = service.runtime.store
    ref = {"callback_number_ref": "cbn-1", "queue": "billing"}
    missed = screened(clock, channel="phone", flags=("abandoned",), meta=ref)
    clock.advance(timedelta(minutes=20))
    no_answer = screened(
        clock, channel="phone", flags=("callback_attempt",), meta={**ref, "cause": "noAnswer"}
    )
    clock.advance(timedelta(minutes=20))
    talked = screened(
        clock, channel="phone", flags=("callback_attempt",), meta={**ref, "talk_s": 95}
    )

    for message in (missed, missed, no_answer, talked, talked):
        await deliver(service, message)

    assert await store["cases"].count_documents({}) == 0
    [entry] = await callbacks.listing(store, status=None, limit=10)
    assert entry["id"] == missed.contact_id
    assert entry["status"] == "done"
    assert [a["reached"] for a in entry["attempts"]] == [False, True]


async def test_a_csat_postback_from_the_customer_closes_the_case(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock
) -> None:
    service, _ = routing
    first = screened(clock, channel="line", text="ค่าไฟแพง")
    await deliver(service, first)
    case = await case_of(service, first.contact_id)
    await service.commands.resolve(case.id, AGENT, summary="คืนเงินแล้ว")
    meta = {"postback_action": "csat", "postback_case": case.number, "postback_score": 5}

    await deliver(
        service,
        screened(
            clock, channel="line", subject_ref=first.subject_ref, flags=("postback",), meta=meta
        ),
    )

    closed = await case_of(service, first.contact_id)
    assert closed.status == "closed"
    assert closed.closure is not None
    assert (closed.closure.score, closed.closure.channel) == (5, "line")
    assert len(closed.contacts) == 1  # a rating is not a contact of the case


async def test_a_hazard_goes_to_the_area_office_assigned_under_the_hazard_sla(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock
) -> None:
    service, _ = routing
    message = screened(clock, channel="line", text="เสาไฟล้มขวางถนน สายไฟห้อย อ.สันทราย")

    await deliver(service, message)

    case = await case_of(service, message.contact_id)
    assert (case.unit, case.urgency, case.topic) == ("pea-chiangmai", "urgent", "hazard")
    assert case.assignee == "cmi.somchai"  # round robin starts with the first member
    assert case.sla["policy_id"] == "hazard"
    # The first step reminds the assignee at half of the 15-minute acknowledgement target.
    assert case.sla_next_due == MORNING + timedelta(minutes=7, seconds=30)


async def test_a_contact_the_classifier_is_unsure_about_goes_to_triage(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock
) -> None:
    service, _ = routing
    message = screened(clock, text="ไม่แน่ใจว่าต้องแจ้งเรื่องนี้ที่ไหน")

    await deliver(service, message)

    case = await case_of(service, message.contact_id)
    assert case.unit == "pea-triage"
    assert "unsure" in case.timeline[1]["detail"]["reason"]


async def test_a_consent_change_updates_the_case_and_a_late_older_one_does_not(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock
) -> None:
    service, _ = routing
    message = screened(clock, text="ค่าไฟแพง", consent="withheld")
    await deliver(service, message)
    case = await case_of(service, message.contact_id)
    newer = ConsentChanged(case_id=case.id, state="granted", at=MORNING + timedelta(minutes=5))
    older = ConsentChanged(case_id=case.id, state="withheld", at=MORNING + timedelta(minutes=1))

    await service.consent.on_consent_changed(Envelope.of(newer))
    await service.consent.on_consent_changed(Envelope.of(older))

    case = await case_of(service, message.contact_id)
    assert case.consent == "granted"
    assert case.timeline[-1]["detail"]["change"] == "consent"
    assert case.seq == 3
