"""LINE webhook bodies: signature check and parsing, over every sample body."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from linebot.v3.webhook import WebhookParser

from services.intake.channels.line.events import (
    LineEvent,
    dedupe_key,
    parse_webhook,
    reply_token_expiry,
    verify_signature,
)
from shared.clock import BANGKOK
from shared.errors import ConfigError, Invalid, Unauthorized

LINE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "channels" / "line"
SECRET: str = json.loads((LINE_DIR / "secrets.json").read_text())["channel_secret"]
SIGNATURES: dict[str, str] = json.loads((LINE_DIR / "signatures.json").read_text())


def body(name: str) -> bytes:
    """Return a sample body exactly as LINE posted it."""
    return (LINE_DIR / name).read_bytes()


def only_event(name: str) -> LineEvent:
    """Parse a sample that holds exactly one event and return it."""
    events = parse_webhook(body(name))
    assert len(events) == 1
    return events[0]


def test_every_sample_body_has_a_signature() -> None:
    samples = {p.name for p in LINE_DIR.glob("*.json")} - {"secrets.json", "signatures.json"}
    assert samples == set(SIGNATURES)


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_signature_of_every_sample_verifies(name: str) -> None:
    verify_signature(body(name), SIGNATURES[name], SECRET)


def test_tampered_body_is_unauthorized() -> None:
    tampered = body("postback_csat.json").replace(b"score=4", b"score=5")
    with pytest.raises(Unauthorized, match="does not match"):
        verify_signature(tampered, SIGNATURES["postback_csat.json"], SECRET)


def test_reserialised_body_no_longer_verifies() -> None:
    reserialised = json.dumps(json.loads(body("text_message.json"))).encode()
    with pytest.raises(Unauthorized):
        verify_signature(reserialised, SIGNATURES["text_message.json"], SECRET)


def test_signature_of_another_body_is_unauthorized() -> None:
    with pytest.raises(Unauthorized):
        verify_signature(body("text_message.json"), SIGNATURES["follow.json"], SECRET)


def test_blank_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError):
        verify_signature(body("follow.json"), SIGNATURES["follow.json"], "")


def test_wrong_secret_is_unauthorized() -> None:
    with pytest.raises(Unauthorized):
        verify_signature(body("follow.json"), SIGNATURES["follow.json"], "0" * 32)


@pytest.mark.parametrize("signature", [None, "", "not base64 at all ✗"])
def test_missing_or_garbled_signature_is_unauthorized(signature: str | None) -> None:
    with pytest.raises(Unauthorized):
        verify_signature(body("follow.json"), signature, SECRET)


@pytest.mark.parametrize(
    ("name", "event_type", "message_type"),
    [
        ("text_message.json", "message", "text"),
        ("text_with_pii.json", "message", "text"),
        ("image_message.json", "message", "image"),
        ("location_message.json", "message", "location"),
        ("sticker_message.json", "message", "sticker"),
        ("follow.json", "follow", None),
        ("unfollow.json", "unfollow", None),
        ("postback_csat.json", "postback", None),
        ("redelivery.json", "message", "text"),
        ("group_message.json", "message", "text"),
    ],
)
def test_each_sample_parses_to_its_event_type(
    name: str, event_type: str, message_type: str | None
) -> None:
    event = only_event(name)
    assert (event.type, event.message_type) == (event_type, message_type)
    assert event.raw is None  # nothing in the samples is left not understood


def test_text_message_carries_text_sender_and_aware_timestamp() -> None:
    event = only_event("text_message.json")
    assert event.text is not None
    assert "ไฟดับ" in event.text
    assert event.message_id == "520551691417807334"
    assert (event.source_type, event.user_id) == ("user", "U7681f72f1b90f2ee524d386cb31080b0")
    assert event.reply_token == "7ed9127d7602dff3ca6d3a915c1fb5b7"
    assert event.timestamp == datetime(2026, 11, 18, 6, 41, 12, 318000, tzinfo=BANGKOK)
    assert event.mode == "active"
    assert not event.is_redelivery


def test_image_message_content_is_fetched_from_line_by_message_id() -> None:
    event = only_event("image_message.json")
    assert event.content_provider is not None
    assert event.content_provider.type == "line"
    assert event.content_provider.original_content_url is None
    assert event.message_id == "581175058933457683"


def test_location_message_carries_lat_long_address_and_title() -> None:
    location = only_event("location_message.json").location
    assert location is not None
    assert (location.lat, location.long) == (14.946817, 102.005893)
    assert location.title == "หม้อแปลงหน้าวัดบ้านโคกกรวด"
    assert location.address is not None
    assert "นครราชสีมา" in location.address


def test_location_comes_from_the_same_user_as_the_text_message() -> None:
    assert only_event("location_message.json").user_id == only_event("text_message.json").user_id


def test_sticker_message_carries_package_and_sticker_ids() -> None:
    sticker = only_event("sticker_message.json").sticker
    assert sticker is not None
    assert (sticker.package_id, sticker.sticker_id) == ("11537", "52002750")


def test_follow_has_a_reply_token_and_unfollow_has_none() -> None:
    assert only_event("follow.json").reply_token is not None
    unfollow = only_event("unfollow.json")
    assert unfollow.reply_token is None
    assert unfollow.user_id == "Ueafaedea357c6138c81794ec6ad2dc81"


def test_csat_postback_data_parses_into_a_dict() -> None:
    event = only_event("postback_csat.json")
    assert event.postback_data == "action=csat&case=VOC-2026-000123&score=4"
    assert event.postback == {"action": "csat", "case": "VOC-2026-000123", "score": "4"}


def test_group_message_without_user_id_is_keyed_by_group_id() -> None:
    event = only_event("group_message.json")
    assert (event.source_type, event.user_id) == ("group", None)
    assert event.group_id == "Cd3e7496be2633e3ff2daa06cfe3eccfe"
    assert event.conversation == event.group_id


def test_redelivery_has_the_same_dedupe_key_as_the_original_text_message() -> None:
    original, again = only_event("text_message.json"), only_event("redelivery.json")
    assert again.is_redelivery
    assert dedupe_key(again) == dedupe_key(original) == "01M7NY5KS1HTZ4K1XM632FF14F"
    assert again.message_id == original.message_id


def test_multi_event_body_yields_three_events_from_two_users() -> None:
    events = parse_webhook(body("multi_event.json"))
    assert [e.message_type for e in events] == ["text", "text", "image"]
    assert len({e.user_id for e in events}) == 2
    assert events[0].user_id == events[2].user_id
    assert len({dedupe_key(e) for e in events}) == 3


def test_empty_events_body_yields_no_event() -> None:
    assert parse_webhook(body("empty_events.json")) == []


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_parser_agrees_with_line_bot_sdk(name: str) -> None:
    sdk_events = WebhookParser(SECRET).parse(body(name).decode("utf-8"), SIGNATURES[name])
    ours = parse_webhook(body(name))
    assert [(e.webhook_event_id, e.type) for e in ours] == [
        (e.webhook_event_id, e.type) for e in sdk_events
    ]


def test_unknown_future_event_type_is_kept_with_its_raw_dict() -> None:
    raw = {
        "type": "reaction",
        "reaction": {"emoji": "👍"},
        "webhookEventId": "01FUTURE",
        "deliveryContext": {"isRedelivery": False},
        "timestamp": 1794958872318,
        "source": {"type": "user", "userId": "U7681f72f1b90f2ee524d386cb31080b0"},
        "mode": "active",
    }
    [event] = parse_webhook(json.dumps({"destination": "Ubot", "events": [raw]}).encode())
    assert event.type == "unknown"
    assert event.raw == raw
    assert dedupe_key(event) == "01FUTURE"
    assert event.user_id == "U7681f72f1b90f2ee524d386cb31080b0"


def test_message_of_a_future_content_type_keeps_its_sender_and_raw_dict() -> None:
    raw = json.loads(body("text_message.json"))["events"][0]
    raw["message"] = {"type": "hologram", "id": "1"}
    [event] = parse_webhook(json.dumps({"events": [raw]}).encode())
    assert (event.type, event.message_type, event.message_id) == ("message", None, "1")
    assert event.user_id == "U7681f72f1b90f2ee524d386cb31080b0"
    assert event.raw == raw


def test_known_event_in_an_unexpected_shape_is_kept_as_unknown() -> None:
    raw = json.loads(body("location_message.json"))["events"][0]
    del raw["message"]["latitude"]
    [event] = parse_webhook(json.dumps({"events": [raw]}).encode())
    assert (event.type, event.raw) == ("unknown", raw)
    assert dedupe_key(event) == "01M7NY8ZBVZBK5C9XH6PHNZT23"


def test_postback_data_that_is_not_a_querystring_stays_raw() -> None:
    raw = json.loads(body("postback_csat.json"))["events"][0]
    raw["postback"] = {"data": "richmenu-outage"}
    [event] = parse_webhook(json.dumps({"events": [raw]}).encode())
    assert (event.postback_data, event.postback) == ("richmenu-outage", None)


@pytest.mark.parametrize("bad", [b"not json", b"[]", b'{"destination": "U1"}'])
def test_body_without_an_events_list_is_invalid(bad: bytes) -> None:
    with pytest.raises(Invalid):
        parse_webhook(bad)


def test_event_without_webhook_event_id_is_invalid() -> None:
    raw = json.loads(body("follow.json"))["events"][0]
    del raw["webhookEventId"]
    with pytest.raises(Invalid) as caught:
        parse_webhook(json.dumps({"events": [raw]}).encode())
    assert caught.value.field == "events[0].webhookEventId"


def test_reply_token_expires_one_minute_after_the_event() -> None:
    event = only_event("text_message.json")
    assert reply_token_expiry(event.timestamp) == event.timestamp + timedelta(minutes=1)
