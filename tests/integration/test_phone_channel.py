"""The CTI webhook on the real store, over the sample events of seven calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.bus.amqp import AmqpBus
from shared.bus.inproc import InProcessBus
from shared.messages import Contact
from tests.support.intake import DEAD_BROKER, FlakyBus, IntakeUnderTest, running_intake

pytestmark = pytest.mark.integration

PHONE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "channels" / "phone"
EVENTS: list[dict[str, Any]] = [
    json.loads(line)
    for line in (PHONE_DIR / "cti_events.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
TOKEN = "pbx-token-test"
OTHER_PBX = "pbx-token-other"

FIRST_CALL = "1794963731.2591"
ABANDONED_CALL = "1794963940.2603"
ANONYMOUS_CALL = "1794964803.2660"
CALLBACKS = ("1794965462.2688", "1794968110.2744")
OR_CALL = "1794967339.5117"
REPEAT_CALL = "1794973650.3012"


@pytest.fixture
def intake(mongo_url: str) -> Iterator[IntakeUnderTest]:
    with running_intake(mongo_url, InProcessBus(), cti_tokens=[TOKEN, OTHER_PBX]) as running:
        yield running


def post(intake: IntakeUnderTest, body: object, token: str | None = TOKEN) -> httpx.Response:
    """Post one CTI event or a list of them, as a PBX would."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer: httpx.Response = intake.client.post("/v1/phone/events", json=body, headers=headers)
    return answer


def post_all(intake: IntakeUnderTest) -> dict[str, Contact]:
    """Post every sample event in order, one request each; return the contacts by call id."""
    for event in EVENTS:
        assert post(intake, event).status_code == 202
    return {c.thread.call_id or "": c for c in intake.published()}


def events_of(call_id: str) -> list[dict[str, Any]]:
    """Return the sample events of one call."""
    return [e for e in EVENTS if e["callId"] == call_id]


def test_seven_sample_calls_become_one_contact_per_completed_call(
    intake: IntakeUnderTest,
) -> None:
    contacts = post_all(intake)
    assert len(intake.published()) == 7
    assert set(contacts) == {e["callId"] for e in EVENTS}
    assert all(c.channel == "phone" and c.dedupe_key == f"phone:{k}" for k, c in contacts.items())
    assert intake.db["calls"].count_documents({}) == 7
    assert intake.db["raw"].count_documents({"channel": "phone"}) == 7


def test_contact_is_published_when_the_call_hangs_up_not_before(
    intake: IntakeUnderTest,
) -> None:
    newcall, answer = events_of(FIRST_CALL)[:2]
    assert post(intake, newcall).json()["contacts"] == []
    assert post(intake, answer).json()["contacts"] == []
    assert intake.published() == []
    hangup = post(intake, events_of(FIRST_CALL)[2])
    assert hangup.status_code == 202
    (contact,) = intake.published()
    assert hangup.json()["contacts"] == [contact.id]


def test_answered_outage_call_is_summarised_in_thai_with_its_metadata(
    intake: IntakeUnderTest,
) -> None:
    contact = post_all(intake)[FIRST_CALL]
    assert contact.text == "สายเข้า 1129 เมนู outage รับสายโดย A1023 สนทนา 267 วินาที"
    assert contact.customer.phone == "+66864427139"
    assert contact.flags == ()
    assert contact.org == "pea"
    assert contact.meta["ivr_path"] == "lang:th>main:1:report_fault>fault:1:outage"
    assert contact.meta["topic_hint"] == "outage"
    assert contact.meta["queue"] == "1129-fault"
    assert contact.meta["agent"] == "A1023"
    assert contact.meta["talk_s"] == 267
    assert contact.meta["direction"] == "in"
    assert contact.meta["cause"] == "normalClearing"
    assert str(contact.meta["recording_url"]).endswith("/1794963731.2591.wav")


def test_call_given_up_in_the_queue_is_flagged_abandoned_with_a_callback_ref(
    intake: IntakeUnderTest,
) -> None:
    contact = post_all(intake)[ABANDONED_CALL]
    assert contact.flags == ("abandoned",)
    assert contact.customer.phone == "+6644251873"
    assert str(contact.meta["callback_number_ref"]).startswith("cbn-")
    assert "ไม่ได้รับสาย" in contact.text
    assert "4251873" not in json.dumps(contact.meta)


def test_callbacks_are_attempts_with_the_number_only_in_the_identity(
    intake: IntakeUnderTest,
) -> None:
    contacts = post_all(intake)
    abandoned = contacts[ABANDONED_CALL]
    no_answer, busy = (contacts[call_id] for call_id in CALLBACKS)
    for attempt in (no_answer, busy):
        assert attempt.flags == ("callback_attempt",)
        assert attempt.customer.phone == "+6644251873"
        assert attempt.meta["callback_number_ref"] == abandoned.meta["callback_number_ref"]
        assert "4251873" not in json.dumps(attempt.meta) + attempt.text
    assert no_answer.text == "โทรกลับจาก 1129 โดย A1040 ไม่มีผู้รับสาย"
    assert busy.text == "โทรกลับจาก 1129 โดย A1040 สายไม่ว่าง"


def test_anonymous_caller_gets_a_contact_without_identity(intake: IntakeUnderTest) -> None:
    contact = post_all(intake)[ANONYMOUS_CALL]
    assert contact.customer.is_empty()
    assert contact.text.startswith("สายเข้า 1129 (ไม่แสดงหมายเลข) เมนู bill_amount")
    assert "anonymous" not in contact.model_dump_json()


def test_plus66_and_zero_prefixed_callers_normalise_to_one_e164_number(
    intake: IntakeUnderTest,
) -> None:
    contacts = post_all(intake)
    assert contacts[FIRST_CALL].customer.phone == contacts[REPEAT_CALL].customer.phone
    assert contacts[REPEAT_CALL].customer.phone == "+66864427139"
    assert contacts[OR_CALL].customer.phone == "+66819876543"


def test_call_to_the_or_hotline_is_a_contact_of_or(intake: IntakeUnderTest) -> None:
    contact = post_all(intake)[OR_CALL]
    assert contact.org == "or"
    assert contact.meta["topic_hint"] == "fuel_quality"


@pytest.mark.parametrize(
    ("token", "reason"),
    [(None, "a PBX token is required"), ("not-a-pbx", "unknown PBX token")],
)
def test_wrong_pbx_token_is_refused_401_with_reason_and_nothing_stored(
    intake: IntakeUnderTest, token: str | None, reason: str
) -> None:
    answer = post(intake, EVENTS[0], token=token)
    assert answer.status_code == 401
    assert reason in answer.json()["reason"]
    assert intake.db["calls"].count_documents({}) == 0


def test_replayed_event_has_no_second_effect(intake: IntakeUnderTest) -> None:
    post_all(intake)
    before = intake.db["calls"].find_one({"_id": FIRST_CALL})
    for event in events_of(FIRST_CALL):
        replay = post(intake, event)
        assert replay.status_code == 202
        assert replay.json() == {"events": 1, "stored": 0, "duplicates": 1, "contacts": []}
    after = intake.db["calls"].find_one({"_id": FIRST_CALL})
    assert before is not None
    assert after is not None
    assert after["events"] == before["events"]
    assert len(intake.published()) == 7
    assert intake.db["raw"].count_documents({}) == 7


def test_events_may_come_as_one_json_list(intake: IntakeUnderTest) -> None:
    answer = post(intake, EVENTS)
    assert answer.status_code == 202
    assert answer.json()["stored"] == 18
    assert len(answer.json()["contacts"]) == 7
    assert len(intake.published()) == 7


def test_event_out_of_order_still_folds_into_one_call(intake: IntakeUnderTest) -> None:
    for event in reversed(events_of(FIRST_CALL)):
        assert post(intake, event).status_code == 202
    (contact,) = intake.published()
    assert contact.text == "สายเข้า 1129 เมนู outage รับสายโดย A1023 สนทนา 267 วินาที"


def test_malformed_event_is_refused_422_naming_the_field(intake: IntakeUnderTest) -> None:
    hangup = {k: v for k, v in events_of(ABANDONED_CALL)[1].items() if k != "cause"}
    answer = post(intake, [EVENTS[0], hangup])
    assert answer.status_code == 422
    assert answer.json()["reason"].startswith("[1]")
    assert intake.db["calls"].count_documents({}) == 0


def test_broker_down_answers_503_with_retry_after_and_keeps_nothing(mongo_url: str) -> None:
    bus = AmqpBus(DEAD_BROKER, publish_timeout=1.0)
    with running_intake(mongo_url, bus, cti_tokens=[TOKEN]) as down:
        newcall, hangup = events_of(ABANDONED_CALL)
        assert post(down, newcall).status_code == 202  # stored; nothing to publish yet
        answer = post(down, hangup)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"]
        call = down.db["calls"].find_one({"_id": ABANDONED_CALL})
        assert call is not None
        assert [e["event"]["event"] for e in call["events"]] == ["newCall"]
        assert down.db["raw"].count_documents({}) == 0
        assert down.db["idempotency"].count_documents({}) == 0


def test_hangup_refused_during_a_broker_outage_is_published_when_the_pbx_retries(
    mongo_url: str,
) -> None:
    with running_intake(mongo_url, FlakyBus(failures=1), cti_tokens=[TOKEN]) as flaky:
        newcall, hangup = events_of(ABANDONED_CALL)
        post(flaky, newcall)
        assert post(flaky, hangup).status_code == 503
        retry = post(flaky, hangup)
        assert retry.status_code == 202
        assert retry.json()["stored"] == 1
        (contact,) = flaky.published()
        assert contact.flags == ("abandoned",)


def test_too_many_events_from_one_pbx_answer_429_with_retry_after(
    mongo_url: str,
) -> None:
    limits = {"rate_pbx_per_s": 0.01, "rate_pbx_burst": 2}
    with running_intake(
        mongo_url, InProcessBus(), cti_tokens=[TOKEN, OTHER_PBX], **limits
    ) as limited:
        assert post(limited, EVENTS[0]).status_code == 202
        assert post(limited, EVENTS[1]).status_code == 202
        answer = post(limited, EVENTS[2])
        assert answer.status_code == 429
        assert int(answer.headers["Retry-After"]) >= 1
        # Each PBX has a bucket of its own.
        assert post(limited, EVENTS[2], token=OTHER_PBX).status_code == 202
