"""Phone intake: number normalisation, CTI events folded per call, Asterisk AMI mapping."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from services.intake.channels.phone.events import (
    CallRecord,
    CtiEvent,
    ami_to_cti,
    callback_of,
    fold,
    fold_calls,
    normalise_number,
    parse_ami,
    parse_cti_event,
    topic_hint,
)
from shared.clock import BANGKOK
from shared.errors import Invalid

PHONE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "channels" / "phone"

FIRST_CALL = "1794963731.2591"
ABANDONED_CALL = "1794963940.2603"


def cti_events() -> list[CtiEvent]:
    """Return the sample CTI events, validated the way the webhook validates them."""
    lines = (PHONE_DIR / "cti_events.jsonl").read_text().splitlines()
    return [parse_cti_event(line) for line in lines if line.strip()]


def records() -> dict[str, CallRecord]:
    """Return the sample calls folded into one record each."""
    return fold_calls(cti_events())


def ami_blocks() -> list[dict[str, str]]:
    """Return the raw AMI sample split into blocks."""
    return parse_ami((PHONE_DIR / "ami_sample.txt").read_bytes().decode("utf-8"))


def bkk(hour: int, minute: int, second: int) -> datetime:
    """Return a time on 18 Nov 2026 in Bangkok."""
    return datetime(2026, 11, 18, hour, minute, second, tzinfo=BANGKOK)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0864427139", "+66864427139"),
        ("+66864427139", "+66864427139"),
        ("086-442-7139", "+66864427139"),
        ("+66 86 442 7139", "+66864427139"),
        ("66864427139", "+66864427139"),
        ("๐๘๖๔๔๒๗๑๓๙", "+66864427139"),
        ("044251873", "+6644251873"),
        ("053-491-228", "+6653491228"),
        ("1129", "1129"),
        ("1365", "1365"),
        ("1204", "1204"),
        ("anonymous", None),
        ("Withheld", None),
        ("", None),
        ("   ", None),
        (None, None),
        ("0000000000", None),
        ("not a number", None),
    ],
)
def test_number_normalises_to_e164_keeps_hotlines_and_drops_withheld(
    raw: str | None, expected: str | None
) -> None:
    assert normalise_number(raw) == expected


def test_all_18_events_fold_into_7_call_records() -> None:
    events = cti_events()
    assert len(events) == 18
    calls = records()
    assert len(calls) == 7
    assert all(call.complete for call in calls.values())


def test_answered_outage_call_has_agent_queue_times_talk_and_recording() -> None:
    call = records()[FIRST_CALL]
    assert (call.direction, call.caller, call.dialled) == ("in", "+66864427139", "1129")
    assert (call.agent, call.queue) == ("A1023", "1129-fault")
    assert (call.started_at, call.answered_at, call.ended_at) == (
        bkk(8, 2, 11),
        bkk(8, 4, 35),
        bkk(8, 9, 2),
    )
    assert (call.cause, call.duration_s, call.talk_s) == ("normalClearing", 411, 267)
    assert call.recording_url is not None
    assert call.recording_url.endswith("1794963731.2591.wav")
    assert not call.abandoned
    assert topic_hint(call.ivr_path) == "outage"


def test_call_given_up_in_the_queue_is_the_only_abandoned_call() -> None:
    calls = records()
    assert [call_id for call_id, call in calls.items() if call.abandoned] == [ABANDONED_CALL]
    abandoned = calls[ABANDONED_CALL]
    assert (abandoned.cause, abandoned.answered_at, abandoned.talk_s) == ("cancel", None, 0)
    assert abandoned.caller == "+6644251873"
    assert abandoned.recording_url is None


def test_anonymous_caller_has_no_caller_number() -> None:
    call = records()["1794964803.2660"]
    assert call.caller is None
    assert call.agent == "A1031"
    assert topic_hint(call.ivr_path) == "bill_amount"


def test_plus66_and_zero_prefixed_caller_of_a_repeat_call_are_the_same_number() -> None:
    calls = records()
    assert normalise_number("+66864427139") == normalise_number("0864427139")
    assert calls["1794973650.3012"].caller == calls[FIRST_CALL].caller
    assert topic_hint(calls["1794973650.3012"].ivr_path) == topic_hint(calls[FIRST_CALL].ivr_path)


def test_outbound_calls_of_a1040_are_callback_attempts_on_the_abandoned_caller() -> None:
    calls = records()
    attempts = [call for call in calls.values() if call.agent == "A1040"]
    assert [call.direction for call in attempts] == ["out", "out"]
    assert {callback_of(call) for call in attempts} == {calls[ABANDONED_CALL].caller}
    assert [call.cause for call in attempts] == ["noAnswer", "busy"]
    assert not any(call.abandoned for call in attempts)


def test_inbound_call_is_no_callback_attempt() -> None:
    assert callback_of(records()[ABANDONED_CALL]) is None


def test_fuel_quality_call_to_the_or_hotline() -> None:
    call = records()["1794967339.5117"]
    assert (call.caller, call.dialled, call.agent) == ("+66819876543", "1365", "R2007")
    assert topic_hint(call.ivr_path) == "fuel_quality"


def test_folding_is_order_free_and_idempotent() -> None:
    events = cti_events()
    assert fold_calls(list(reversed(events)) + events) == records()


def test_hangup_seen_first_still_dates_the_call_from_its_duration() -> None:
    hangup = next(e for e in cti_events() if e.call_id == FIRST_CALL and e.event == "hangup")
    assert fold(None, hangup).started_at == bkk(8, 2, 11)


def test_answered_call_whose_hangup_is_seen_first_is_not_abandoned() -> None:
    hangup = next(e for e in cti_events() if e.call_id == FIRST_CALL and e.event == "hangup")
    assert not fold(None, hangup).abandoned


def test_folding_an_event_of_another_call_is_invalid() -> None:
    calls = records()
    event = next(e for e in cti_events() if e.call_id == ABANDONED_CALL)
    with pytest.raises(Invalid):
        fold(calls[FIRST_CALL], event)


def test_ivr_path_may_be_one_comma_separated_string() -> None:
    data = json.loads((PHONE_DIR / "cti_events.jsonl").read_text().splitlines()[1])
    listed = parse_cti_event(data).ivr_path
    data["ivr_path"] = ",".join(step for step in data["ivr_path"])
    assert parse_cti_event(data).ivr_path == listed
    assert listed[0].meaning is None  # "lang:th" chooses a language, not a topic


def test_topic_hint_of_an_empty_path_is_none() -> None:
    assert topic_hint(()) is None


NEW_CALL = {
    "event": "newCall",
    "callId": "1.1",
    "timestamp": "2026-11-18T08:00:00+07:00",
    "direction": "in",
    "from": "0864427139",
    "to": "1129",
}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"event": "ringing"}, "event", "newCall"),
        ({"callId": None}, "callId", "string"),
        ({"timestamp": "2026-11-18T08:00:00"}, "timestamp", "timezone"),
        ({"direction": "sideways"}, "direction", "'in' or 'out'"),
        ({"ivr_path": ["main"]}, "ivr_path", "menu:key"),
        ({"cause": "busy"}, None, "only a hangup"),
        ({"event": "hangup"}, None, "needs a cause"),
        ({"event": "hangup", "cause": "busy", "duration_s": 3, "talk_s": 9}, None, "talk_s"),
        ({"duration_s": -1}, "duration_s", "greater than or equal"),
    ],
)
def test_bad_cti_event_is_invalid_with_a_clear_reason(
    change: dict[str, object], field: str | None, words: str
) -> None:
    with pytest.raises(Invalid) as caught:
        parse_cti_event(NEW_CALL | change)
    assert words in caught.value.reason
    assert caught.value.field == field


def test_cti_body_that_is_not_json_is_invalid() -> None:
    with pytest.raises(Invalid, match="not JSON"):
        parse_cti_event(b"event=newCall")


def test_ami_sample_splits_into_its_seven_crlf_blocks() -> None:
    blocks = ami_blocks()
    assert [b["Event"] for b in blocks] == [
        "Newchannel",
        "Newchannel",
        "DialBegin",
        "DialEnd",
        "Hangup",
        "Hangup",
        "Cdr",
    ]
    assert blocks[0]["AccountCode"] == ""
    assert blocks[-1]["CallerID"] == '"" <0864427139>'


def test_ami_sample_maps_to_new_call_answer_and_hangup_of_the_same_call() -> None:
    events = ami_to_cti(ami_blocks(), agents={"1023": "A1023"})
    assert [(e.event, e.call_id) for e in events] == [
        ("newCall", FIRST_CALL),
        ("answer", FIRST_CALL),
        ("hangup", FIRST_CALL),
    ]


def test_ami_sample_folds_to_the_same_call_as_the_cti_events() -> None:
    from_ami = fold_calls(ami_to_cti(ami_blocks(), agents={"1023": "A1023"}))[FIRST_CALL]
    from_cti = records()[FIRST_CALL]
    same = ("direction", "caller", "dialled", "agent", "queue", "cause", "duration_s", "talk_s")
    assert {k: getattr(from_ami, k) for k in same} == {k: getattr(from_cti, k) for k in same}
    for moment in ("started_at", "answered_at", "ended_at"):
        ami_at, cti_at = getattr(from_ami, moment), getattr(from_cti, moment)
        assert abs(ami_at - cti_at) < timedelta(seconds=1), moment


def test_ami_agent_is_the_extension_when_no_agent_map_is_given() -> None:
    answer = ami_to_cti(ami_blocks())[1]
    assert answer.user == "1023"


@pytest.mark.parametrize("agent_leg", ["never dialled", "did not answer"])
def test_ami_call_hung_up_before_any_answer_is_abandoned(agent_leg: str) -> None:
    if agent_leg == "never dialled":
        blocks = [b for b in ami_blocks() if b["Event"] not in {"DialBegin", "DialEnd"}]
    else:
        blocks = [b | {"DialStatus": "NOANSWER"} for b in ami_blocks()]
    call = fold_calls(ami_to_cti(blocks))[FIRST_CALL]
    assert (call.cause, call.answered_at, call.talk_s) == ("cancel", None, 0)
    assert call.abandoned


def test_ami_event_without_timestamp_is_invalid() -> None:
    blocks = ami_blocks()
    del blocks[0]["Timestamp"]
    with pytest.raises(Invalid, match="timestampevents"):
        ami_to_cti(blocks)
