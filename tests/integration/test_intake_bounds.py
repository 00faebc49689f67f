"""Intake's doors refuse what no sender should send: bodies over the limit, impossible times.

Over-size bodies are refused while they are read (the client's stream is not
drained), implausible instants get 422 naming the field instead of a 500 or
an absurd date on the contact, and a LINE media message whose id is not a
LINE message id never has a content URL built from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.intake.app import mount
from services.intake.channels.app import AppChannel
from services.intake.channels.app import channel as app_channel
from services.intake.channels.line.media import FetchFailed, LineContentClient
from services.intake.channels.walkin import WalkInChannel
from services.intake.channels.walkin import channel as walkin_channel
from services.intake.settings import IntakeSettings
from shared.bus.inproc import InProcessBus
from shared.http import install_common
from shared.runtime import Runtime
from shared.settings import Settings
from shared.store import Store
from tests.conftest import FIXTURES
from tests.support.acting import acting_headers
from tests.support.intake import IntakeUnderTest, running_intake

pytestmark = pytest.mark.integration

APP_KEY = "app-key-bounds"
LINE_SECRET = "line-secret-bounds"
PBX_TOKEN = "pbx-token-bounds"
FAX_SECRET = "fax-secret-bounds"
SERVICE_TOKEN = "service-token-bounds"
CHUNK = 64 * 1024
APP_BODY = {"app_user_id": "u-bounds", "text": "ไฟดับทั้งซอย", "locale": "th-TH"}
WALK_IN = json.loads(
    (FIXTURES / "channels" / "walk_in" / "walkin_contacts.jsonl").read_text().splitlines()[0]
)


# --- Bodies over the limit ----------------------------------------------------


class Stream:
    """A request body sent in chunks, counting how many the server pulled."""

    def __init__(self, chunks: int, first: bytes = b"") -> None:
        self.chunks = chunks
        self.first = first
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for index in range(self.chunks):
            self.pulled += 1
            yield (self.first if index == 0 else b"") + b" " * CHUNK


@pytest.fixture
async def doors(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """The app and walk-in doors, called over ASGI, which pulls the body only when asked."""
    settings = Settings(env="test", app_api_keys=[APP_KEY], service_token=SERVICE_TOKEN)
    runtime = Runtime(
        service="intake", settings=settings, bus=InProcessBus(), store=store, owns_bus=False
    )
    app = FastAPI(title="vocdesk intake")
    install_common(app)
    intake = IntakeSettings()
    mount(app, runtime, [AppChannel(runtime, intake), WalkInChannel(runtime, intake)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
        yield client


def app_headers(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": "k-big", **extra}


async def test_app_body_streamed_past_the_limit_is_refused_before_it_is_read_whole(
    doors: httpx.AsyncClient,
) -> None:
    body = Stream(chunks=100, first=b'{"app_user_id": "u-1", "text": "')  # 6.4 MB, no length
    answer = await doors.post("/v1/app/contacts", content=body, headers=app_headers())
    assert answer.status_code == 413
    assert f"limit of {app_channel.MAX_BODY_BYTES} bytes" in answer.json()["reason"]
    assert body.pulled <= app_channel.MAX_BODY_BYTES // CHUNK + 1


async def test_app_body_declaring_a_length_over_the_limit_is_refused_unread(
    doors: httpx.AsyncClient,
) -> None:
    body = Stream(chunks=100)
    headers = app_headers(**{"Content-Length": str(100 * CHUNK)})
    answer = await doors.post("/v1/app/contacts", content=body, headers=headers)
    assert answer.status_code == 413
    assert f"limit is {app_channel.MAX_BODY_BYTES}" in answer.json()["reason"]
    assert body.pulled == 0


async def test_walk_in_body_streamed_past_the_limit_is_refused_before_it_is_read_whole(
    doors: httpx.AsyncClient,
) -> None:
    body = Stream(chunks=100, first=b'{"text": "')
    headers = acting_headers(audience="intake", token=SERVICE_TOKEN, role="agent")
    answer = await doors.post("/internal/v1/walk-in", content=body, headers=headers)
    assert answer.status_code == 413
    assert "limit" in answer.json()["reason"]
    assert body.pulled <= walkin_channel.MAX_BODY_BYTES // CHUNK + 1


async def test_walk_in_body_is_not_read_for_a_caller_without_credentials(
    doors: httpx.AsyncClient,
) -> None:
    body = Stream(chunks=100)
    answer = await doors.post("/internal/v1/walk-in", content=body)
    assert answer.status_code == 401
    assert body.pulled == 0


# --- Times no clock could have written ------------------------------------------


@pytest.fixture(scope="module")
def intake(mongo_url: str) -> Iterator[IntakeUnderTest]:
    with running_intake(
        mongo_url,
        InProcessBus(),
        app_api_keys=[APP_KEY],
        line_channel_secret=LINE_SECRET,
        line_channel_token="line-token-bounds",
        line_api_base="http://127.0.0.1:9",  # nothing listens: a fetch would fail and be recorded
        cti_tokens=[PBX_TOKEN],
        fax_hmac_secret=FAX_SECRET,
        service_token=SERVICE_TOKEN,
    ) as running:
        yield running


def days_ahead(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def assert_refused_naming(answer: httpx.Response, field: str) -> None:
    assert answer.status_code == 422, answer.text
    assert field in answer.json().get("field", ""), answer.json()
    assert answer.json()["reason"]


def nothing_kept(intake: IntakeUnderTest) -> bool:
    return intake.db["raw"].count_documents({}) == 0 and not intake.published()


@pytest.fixture
def clean(intake: IntakeUnderTest) -> IntakeUnderTest:
    for name in ("raw", "idempotency", "calls", "media"):
        intake.db[name].delete_many({})
    intake.bus._queues["privacy.contacts"].pending._queue.clear()  # type: ignore[attr-defined]
    return intake


IMPOSSIBLE = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "1970-01-01T00:00:00+00:00",
    "8999-06-01T00:00:00+07:00",
]


@pytest.mark.parametrize("when", [*IMPOSSIBLE, "ahead", "2026-11-18T07:12:00"])
def test_app_submitted_at_outside_the_window_is_refused_and_nothing_kept(
    clean: IntakeUnderTest, when: str
) -> None:
    submitted_at = days_ahead(3).isoformat() if when == "ahead" else when
    answer = clean.client.post(
        "/v1/app/contacts",
        json={**APP_BODY, "submitted_at": submitted_at},
        headers={"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": f"k-{when}"},
    )
    assert_refused_naming(answer, "submitted_at")
    assert nothing_kept(clean)


def test_app_submitted_at_is_on_the_contact(clean: IntakeUnderTest) -> None:
    answer = clean.client.post(
        "/v1/app/contacts",
        json={**APP_BODY, "submitted_at": "2026-11-18T07:12:00+07:00"},
        headers={"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": "k-dated"},
    )
    assert answer.status_code == 202, answer.text
    (contact,) = clean.published()
    assert datetime.fromisoformat(str(contact.meta["submitted_at"])) == datetime(
        2026, 11, 18, 0, 12, tzinfo=UTC
    )


def line_body(millis: int) -> bytes:
    event = {
        "type": "message",
        "message": {"type": "text", "id": "549022703851103947", "text": "ไฟดับ"},
        "webhookEventId": f"01BOUNDS{millis}",
        "deliveryContext": {"isRedelivery": False},
        "timestamp": millis,
        "source": {"type": "user", "userId": "U7681f72f1b90f2ee524d386cb31080b0"},
        "replyToken": "802d886e6cce3d06aec40b37306533a8",
        "mode": "active",
    }
    return json.dumps(
        {"destination": "U4387c8e2b7608813dcbd4a6f73c05a95", "events": [event]}
    ).encode()


def post_line(intake: IntakeUnderTest, body: bytes) -> httpx.Response:
    digest = hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()
    headers = {"x-line-signature": base64.b64encode(digest).decode()}
    return intake.client.post("/v1/line/webhook", content=body, headers=headers)


def millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)


@pytest.mark.parametrize(
    "when",
    [
        datetime(9999, 12, 31, 23, 59, 30, tzinfo=UTC),  # its reply token would expire past 9999
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2300, 1, 1, tzinfo=UTC),
        "ahead",
    ],
)
def test_line_event_timestamp_outside_the_window_is_refused_and_nothing_kept(
    clean: IntakeUnderTest, when: datetime | str
) -> None:
    instant = days_ahead(3) if when == "ahead" else when
    assert isinstance(instant, datetime)
    answer = post_line(clean, line_body(millis(instant)))
    assert_refused_naming(answer, "events[0].timestamp")
    assert nothing_kept(clean)


def cti(timestamp: str, event: str = "newCall") -> dict[str, Any]:
    return {
        "event": event,
        "callId": f"bounds.{timestamp}",
        "timestamp": timestamp,
        "direction": "in",
        "from": "0864427139",
        "to": "1129",
    }


@pytest.mark.parametrize(
    "when", ["8999-06-01T00:00:00+07:00", "2150-01-01T00:00:00+07:00", "ahead"]
)
def test_phone_event_timestamp_outside_the_window_is_refused_and_nothing_stored(
    clean: IntakeUnderTest, when: str
) -> None:
    timestamp = days_ahead(2).isoformat() if when == "ahead" else when
    answer = clean.client.post(
        "/v1/phone/events", json=cti(timestamp), headers={"Authorization": f"Bearer {PBX_TOKEN}"}
    )
    assert_refused_naming(answer, "timestamp")
    assert clean.db["calls"].count_documents({}) == 0


def test_one_phone_event_ahead_refuses_its_batch_naming_it(clean: IntakeUnderTest) -> None:
    batch = [cti("2026-11-18T08:02:11+07:00"), cti(days_ahead(2).isoformat(), "answer")]
    answer = clean.client.post(
        "/v1/phone/events", json=batch, headers={"Authorization": f"Bearer {PBX_TOKEN}"}
    )
    assert_refused_naming(answer, "[1].timestamp")
    assert clean.db["calls"].count_documents({}) == 0


BOUNDARY = "bounds-boundary"


def fax_form(received_at: str) -> bytes:
    meta = {
        "id": f"fx-bounds-{received_at}",
        "num_pages": 1,
        "caller_id": "053398112",
        "to_number": "+6625551129",
        "status": "received",
        "received_at": received_at,
    }
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="fax"\r\n\r\n'
            f"{json.dumps(meta)}\r\n"
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="fax.tiff"\r\n'
            "Content-Type: image/tiff\r\n\r\n"
        ).encode()
        + (FIXTURES / "channels" / "fax" / "letter_g3.tiff").read_bytes()
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


@pytest.mark.parametrize("when", [IMPOSSIBLE[0], IMPOSSIBLE[2], "ahead"])
def test_fax_received_at_outside_the_window_is_refused_before_ocr(
    clean: IntakeUnderTest, when: str
) -> None:
    body = fax_form(days_ahead(2).isoformat() if when == "ahead" else when)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "X-Fax-Signature": hmac.new(FAX_SECRET.encode(), body, hashlib.sha256).hexdigest(),
    }
    answer = clean.client.post("/v1/fax/inbound", content=body, headers=headers)
    assert_refused_naming(answer, "received_at")
    assert nothing_kept(clean)


@pytest.mark.parametrize("field", ["queued_at", "served_at"])
@pytest.mark.parametrize("when", [IMPOSSIBLE[0], IMPOSSIBLE[1], "ahead"])
def test_walk_in_times_outside_the_window_are_refused(
    clean: IntakeUnderTest, field: str, when: str
) -> None:
    instant = days_ahead(2).isoformat() if when == "ahead" else when
    entry = {**WALK_IN, "queue_no": f"Z{len(when)}", field: instant}
    if field == "queued_at":
        entry["served_at"] = None
    headers = acting_headers(
        audience="intake",
        token=SERVICE_TOKEN,
        role="agent",
        acting_key=Settings().acting_key.get_secret_value(),  # the running intake's key
    )
    answer = clean.client.post("/internal/v1/walk-in", json=entry, headers=headers)
    assert_refused_naming(answer, field)
    assert nothing_kept(clean)


# --- LINE message ids ---------------------------------------------------------------


def media_body(message_id: str) -> bytes:
    event = {
        "type": "message",
        "message": {"type": "image", "id": message_id, "contentProvider": {"type": "line"}},
        "webhookEventId": f"01MEDIA{hashlib.sha256(message_id.encode()).hexdigest()[:16]}",
        "deliveryContext": {"isRedelivery": False},
        "timestamp": millis(datetime(2026, 11, 18, 8, tzinfo=UTC)),
        "source": {"type": "user", "userId": "U7681f72f1b90f2ee524d386cb31080b0"},
        "replyToken": "802d886e6cce3d06aec40b37306533a8",
        "mode": "active",
    }
    return json.dumps(
        {"destination": "U4387c8e2b7608813dcbd4a6f73c05a95", "events": [event]}
    ).encode()


BAD_IDS = [
    "../../profile/U7681f72f1b90f2ee524d386cb31080b0",
    "581175058933457683/content?x=",
    "๕๘๑๑๗๕๐๕๘๙๓๓๔๕๗๖๘๓",  # Thai digits: str.isdigit() says yes
    "5" * 33,
    "",
    "581175058933457683\n",
]


@pytest.mark.parametrize("message_id", BAD_IDS)
def test_media_with_an_id_not_of_line_shape_is_kept_without_media_and_never_fetched(
    clean: IntakeUnderTest, caplog: pytest.LogCaptureFixture, message_id: str
) -> None:
    caplog.set_level(logging.WARNING, logger="services.intake")
    answer = post_line(clean, media_body(message_id))
    assert answer.status_code == 200, answer.text
    (contact,) = clean.published()
    assert contact.meta["media_status"] == "invalid_message_id"
    assert "media_message_id" not in contact.meta
    assert "line_message_id" not in contact.meta
    assert clean.db["media"].count_documents({}) == 0
    (record,) = [r for r in caplog.records if "line media not fetched" in r.getMessage()]
    assert getattr(record, "contact_id", None) == contact.id
    logged = record.getMessage() + json.dumps(record.__dict__, default=str)
    assert message_id not in logged or not message_id
    assert "U7681f72f1b90f2ee524d386cb31080b0" not in logged


@pytest.mark.parametrize("message_id", BAD_IDS)
async def test_content_client_never_sends_an_id_not_of_line_shape(message_id: str) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=b"photo")

    transport = httpx.MockTransport(answer)
    async with httpx.AsyncClient(transport=transport, base_url="http://line.test") as http:
        result = await LineContentClient(http, "token").fetch(message_id)
    assert isinstance(result, FetchFailed)
    assert not result.retryable
    assert sent == []
