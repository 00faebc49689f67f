"""The LINE webhook on the real store, over every sample body LINE would post."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Header, Response

from services.intake.channels.line import channel as line_channel
from services.intake.channels.line.media import content_base
from shared.bus.amqp import AmqpBus
from shared.bus.inproc import InProcessBus
from tests.support.intake import DEAD_BROKER, FlakyBus, IntakeUnderTest, running_intake

pytestmark = pytest.mark.integration

LINE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "channels" / "line"
SECRET: str = json.loads((LINE_DIR / "secrets.json").read_text())["channel_secret"]
SIGNATURES: dict[str, str] = json.loads((LINE_DIR / "signatures.json").read_text())
TOKEN = "line-channel-token-test"
PHOTO = b"\xff\xd8\xff\xe0 fallen pole photo \xff\xd9"
IMAGE_ID = "581175058933457683"  # image_message.json; the fake LINE serves only this one


def sample(name: str) -> bytes:
    """Return a sample body exactly as LINE posted it."""
    return (LINE_DIR / name).read_bytes()


def sign(body: bytes) -> str:
    """Sign ``body`` as LINE does with the sample channel secret."""
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


class FakeLineContent:
    """LINE's content API on a local port: serves known message content to the right token."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.app = FastAPI()
        self.base_url = ""

        @self.app.get("/v2/bot/message/{message_id}/content")
        def content(
            message_id: str, authorization: Annotated[str | None, Header()] = None
        ) -> Response:
            self.seen.append((message_id, authorization))
            if authorization != f"Bearer {TOKEN}":
                return Response(status_code=401)
            if message_id != IMAGE_ID:
                return Response(status_code=404)
            return Response(PHOTO, media_type="image/jpeg")


@pytest.fixture(scope="module")
def line_content() -> Iterator[FakeLineContent]:
    fake = FakeLineContent()
    config = uvicorn.Config(fake.app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "fake LINE content server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    fake.base_url = f"http://127.0.0.1:{port}"
    yield fake
    server.should_exit = True
    thread.join(timeout=10)


def line_settings(fake: FakeLineContent) -> dict[str, Any]:
    """Return the settings of an intake that trusts the sample secret and the fake LINE."""
    return {
        "line_channel_secret": SECRET,
        "line_channel_token": TOKEN,
        "line_api_base": fake.base_url,
    }


@pytest.fixture
def intake(mongo_url: str, line_content: FakeLineContent) -> Iterator[IntakeUnderTest]:
    with running_intake(mongo_url, InProcessBus(), **line_settings(line_content)) as running:
        yield running


def post(intake: IntakeUnderTest, name: str) -> httpx.Response:
    """Post a sample body with its recorded signature."""
    return post_raw(intake, sample(name), SIGNATURES[name])


def post_raw(intake: IntakeUnderTest, body: bytes, signature: str | None) -> httpx.Response:
    """Post ``body`` as LINE would, with ``signature`` if given."""
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["x-line-signature"] = signature
    answer: httpx.Response = intake.client.post("/v1/line/webhook", content=body, headers=headers)
    return answer


def wait_for_media(intake: IntakeUnderTest, message_id: str) -> dict[str, Any]:
    """Wait until the background fetch of ``message_id`` has an outcome, and return it."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        record = intake.db["media"].find_one({"_id": message_id})
        if record is not None and record["state"] in {"stored", "failed"}:
            return record
        time.sleep(0.05)
    raise AssertionError(f"media {message_id} was not fetched in time")


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_every_signed_sample_is_answered_200_with_one_contact_per_event(
    intake: IntakeUnderTest, name: str
) -> None:
    events = json.loads(sample(name))["events"]
    answer = post(intake, name)
    assert answer.status_code == 200
    contacts = intake.published()
    assert [c.dedupe_key for c in contacts] == [f"line:{e['webhookEventId']}" for e in events]
    assert all(c.channel == "line" for c in contacts)
    assert intake.db["raw"].count_documents({"channel": "line"}) == len(events)


def test_tampered_body_is_refused_401_and_nothing_is_archived_or_published(
    intake: IntakeUnderTest,
) -> None:
    tampered = sample("text_message.json").replace("ไฟดับ".encode(), "ไฟตก".encode(), 1)
    answer = post_raw(intake, tampered, SIGNATURES["text_message.json"])
    assert answer.status_code == 401
    assert "does not match" in answer.json()["reason"]
    assert intake.db["raw"].count_documents({}) == 0
    assert intake.published() == []


def test_reserialised_body_fails_the_signature_made_over_the_raw_bytes(
    intake: IntakeUnderTest,
) -> None:
    reserialised = json.dumps(json.loads(sample("follow.json"))).encode()
    assert post_raw(intake, reserialised, SIGNATURES["follow.json"]).status_code == 401
    assert intake.published() == []


def test_missing_signature_is_refused_401(intake: IntakeUnderTest) -> None:
    answer = post_raw(intake, sample("text_message.json"), None)
    assert answer.status_code == 401
    assert answer.json()["reason"] == "missing x-line-signature header"


def test_verify_request_with_no_events_answers_200_and_creates_nothing(
    intake: IntakeUnderTest,
) -> None:
    answer = post(intake, "empty_events.json")
    assert answer.status_code == 200
    assert answer.json() == {"events": 0, "accepted": 0, "duplicates": 0}
    assert intake.db["raw"].count_documents({}) == 0
    assert intake.published() == []


def test_redelivered_line_event_creates_no_second_contact(intake: IntakeUnderTest) -> None:
    assert post(intake, "text_message.json").json()["accepted"] == 1
    again = post(intake, "redelivery.json")
    assert again.status_code == 200
    assert again.json() == {"events": 1, "accepted": 0, "duplicates": 1}
    assert len(intake.published()) == 1
    assert intake.db["raw"].count_documents({}) == 1


def test_multi_event_request_becomes_one_contact_per_event_in_order(
    intake: IntakeUnderTest,
) -> None:
    assert post(intake, "multi_event.json").json()["accepted"] == 3
    voltage, connection, image = intake.published()
    assert len({voltage.id, connection.id, image.id}) == 3
    assert voltage.text.startswith("ไฟตกทุกเย็น")
    assert connection.text.startswith("สอบถามค่ะ")
    assert voltage.customer.line_user_id == image.customer.line_user_id
    assert voltage.customer.line_user_id != connection.customer.line_user_id
    # The image joins the first user's conversation; the other user has their own.
    assert image.thread.conversation == voltage.thread.conversation
    assert connection.thread.conversation != voltage.thread.conversation
    assert image.flags == ("media",)


def test_group_message_is_keyed_by_group_id_with_no_sender(intake: IntakeUnderTest) -> None:
    post(intake, "group_message.json")
    (contact,) = intake.published()
    assert contact.thread.conversation == "Cd3e7496be2633e3ff2daa06cfe3eccfe"
    assert contact.customer.is_empty()
    assert contact.flags == ("group",)
    assert "ไฟฟ้าสาธารณะ" in contact.text


@pytest.mark.parametrize(
    ("name", "flag"),
    [
        ("follow.json", "follow"),
        ("unfollow.json", "unfollow"),
        ("postback_csat.json", "postback"),
        ("sticker_message.json", "sticker"),
        ("location_message.json", "location"),
    ],
)
def test_events_that_are_not_complaints_are_flagged(
    intake: IntakeUnderTest, name: str, flag: str
) -> None:
    post(intake, name)
    (contact,) = intake.published()
    assert contact.flags == (flag,)
    assert contact.customer.line_user_id is not None


def test_text_message_is_a_plain_contact_without_flags(intake: IntakeUnderTest) -> None:
    post(intake, "text_message.json")
    (contact,) = intake.published()
    assert contact.flags == ()
    assert "เครื่องผลิตออกซิเจน" in contact.text
    assert contact.customer.line_user_id == "U7681f72f1b90f2ee524d386cb31080b0"


def test_csat_postback_carries_action_case_and_score(intake: IntakeUnderTest) -> None:
    post(intake, "postback_csat.json")
    (contact,) = intake.published()
    assert contact.meta["postback_action"] == "csat"
    assert contact.meta["postback_case"] == "VOC-2026-000123"
    assert contact.meta["postback_score"] == 4


def test_location_message_carries_the_coordinates(intake: IntakeUnderTest) -> None:
    post(intake, "location_message.json")
    (contact,) = intake.published()
    assert contact.location is not None
    assert (contact.location.lat, contact.location.long) == (14.946817, 102.005893)
    assert contact.text.startswith("หม้อแปลงหน้าวัดบ้านโคกกรวด")


def test_reply_token_travels_only_in_reply_meta_with_its_expiry(intake: IntakeUnderTest) -> None:
    post(intake, "follow.json")
    post(intake, "unfollow.json")
    follow, unfollow = intake.published()
    assert follow.meta["reply_token"] == "cca2002818bba53c51d0ec923b1dfa42"
    sent_at = datetime.fromtimestamp(1794968100, UTC) + timedelta(milliseconds=640)
    assert follow.meta["reply_token_expires_at"] == (sent_at + timedelta(minutes=1)).isoformat()
    assert not any(key.startswith("reply_") for key in unfollow.meta)


def test_line_user_id_appears_only_in_the_customer(intake: IntakeUnderTest) -> None:
    post(intake, "text_message.json")
    (contact,) = intake.published()
    user_id = contact.customer.line_user_id
    assert user_id is not None
    assert user_id not in contact.model_dump_json(exclude={"customer"})


def test_image_is_published_pending_and_its_content_stored_by_sha256_afterwards(
    intake: IntakeUnderTest, line_content: FakeLineContent
) -> None:
    assert post(intake, "image_message.json").status_code == 200
    (contact,) = intake.published()
    assert contact.flags == ("media",)
    assert contact.meta["media_message_id"] == IMAGE_ID
    assert contact.meta["media_status"] == "pending"
    media = wait_for_media(intake, IMAGE_ID)
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert media["state"] == "stored"
    assert media["contact_id"] == contact.id
    assert media["sha256"] == digest
    stored = intake.db["attachments"].find_one({"_id": digest})
    assert stored is not None
    assert (bytes(stored["data"]), stored["content_type"], stored["size"]) == (
        PHOTO,
        "image/jpeg",
        len(PHOTO),
    )
    assert (IMAGE_ID, f"Bearer {TOKEN}") in line_content.seen


def test_media_line_no_longer_has_is_recorded_as_failed(intake: IntakeUnderTest) -> None:
    post(intake, "multi_event.json")
    media = wait_for_media(intake, "509281018923902636")
    assert media["state"] == "failed"
    assert media["error"] == "LINE answered 404"


def test_unknown_event_type_is_archived_and_flagged_unknown_event(
    intake: IntakeUnderTest,
) -> None:
    event = {
        "type": "futureThing",
        "webhookEventId": "01JFUTURE0000000000000000",
        "deliveryContext": {"isRedelivery": False},
        "timestamp": 1795071751260,
        "source": {"type": "user", "userId": "U7681f72f1b90f2ee524d386cb31080b0"},
        "mode": "active",
    }
    body = json.dumps({"destination": "Ubot", "events": [event]}).encode()
    answer = post_raw(intake, body, sign(body))
    assert answer.status_code == 200
    (contact,) = intake.published()
    assert contact.flags == ("unknown_event",)
    assert contact.meta["line_event_type"] == "futureThing"
    archived = intake.db["raw"].find_one({"_id": contact.raw_ref})
    assert archived is not None
    assert json.loads(archived["body"]) == event


def test_body_over_the_size_limit_is_refused_413(intake: IntakeUnderTest) -> None:
    body = b'{"events": [], "pad": "' + b"x" * line_channel.MAX_BODY_BYTES + b'"}'
    assert post_raw(intake, body, sign(body)).status_code == 413
    assert intake.published() == []


def test_broker_down_answers_503_with_retry_after_and_keeps_nothing(
    mongo_url: str, line_content: FakeLineContent
) -> None:
    bus = AmqpBus(DEAD_BROKER, publish_timeout=1.0)
    with running_intake(mongo_url, bus, **line_settings(line_content)) as down:
        answer = post(down, "image_message.json")
        assert answer.status_code == 503
        assert answer.headers["Retry-After"]
        for collection in ("raw", "idempotency", "media", "attachments"):
            assert down.db[collection].count_documents({}) == 0, collection


def test_event_refused_during_a_broker_outage_is_accepted_on_redelivery(
    mongo_url: str, line_content: FakeLineContent
) -> None:
    with running_intake(mongo_url, FlakyBus(failures=1), **line_settings(line_content)) as flaky:
        assert post(flaky, "text_message.json").status_code == 503
        again = post(flaky, "redelivery.json")
        assert again.status_code == 200
        assert again.json()["accepted"] == 1
        assert len(flaky.published()) == 1


def test_too_many_requests_from_one_bot_answer_429_with_retry_after(
    mongo_url: str, line_content: FakeLineContent
) -> None:
    limits = {"rate_line_per_s": 0.01, "rate_line_burst": 2}
    settings = line_settings(line_content) | limits
    with running_intake(mongo_url, InProcessBus(), **settings) as limited:
        assert post(limited, "follow.json").status_code == 200
        assert post(limited, "unfollow.json").status_code == 200
        answer = post(limited, "sticker_message.json")
        assert answer.status_code == 429
        assert int(answer.headers["Retry-After"]) >= 1
        assert len(limited.published()) == 2


def test_content_api_is_api_data_for_the_default_base_and_the_base_itself_otherwise() -> None:
    assert content_base("https://api.line.me/") == "https://api-data.line.me"
    assert content_base("http://127.0.0.1:9000/") == "http://127.0.0.1:9000"
