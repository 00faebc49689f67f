"""The app channel on the real store: authentication, idempotency, errors, nothing half-written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pymongo import MongoClient

from services.intake.app import create_app
from shared.bus.amqp import AmqpBus
from shared.bus.inproc import InProcessBus
from shared.ids import new_id
from shared.runtime import Runtime, open_store
from shared.settings import Settings

pytestmark = pytest.mark.integration

KEY = "app-key-test"
BODY = {
    "app_user_id": "u-1001",
    "text": "ไฟดับทั้งซอย",
    "locale": "th-TH",
    "consent_to_disclose": False,
    "customer": {"name": "สมหญิง", "phone": "0812457730", "email": "s@example.com"},
}


def _client(mongo_url: str, bus: object) -> tuple[TestClient, Settings]:
    settings = Settings(app_api_keys=[KEY], mongo_db_prefix=f"t{new_id().lower()[-8:]}")
    runtime = Runtime(
        service="intake",
        settings=settings,
        bus=bus,  # type: ignore[arg-type]
        store=open_store(settings, "intake", mongo_url),
    )
    return TestClient(create_app(runtime)), settings


@pytest.fixture
def intake(mongo_url: str) -> Iterator[tuple[TestClient, InProcessBus, MongoClient]]:  # type: ignore[type-arg]
    bus = InProcessBus()
    client, settings = _client(mongo_url, bus)
    with client, MongoClient(mongo_url) as raw:
        yield client, bus, raw[f"{settings.mongo_db_prefix}_intake"]  # type: ignore[misc]


def _post(client: TestClient, body: object, *, key: str | None = "k1", auth: str = KEY) -> object:
    headers = {"Authorization": f"Bearer {auth}"}
    if key:
        headers["Idempotency-Key"] = key
    return client.post("/v1/app/contacts", json=body, headers=headers)


def test_accepted_contact_is_archived_and_on_the_bus(intake) -> None:  # type: ignore[no-untyped-def]
    client, bus, db = intake
    answer = _post(client, BODY)
    assert answer.status_code == 202
    contact_id = answer.json()["id"]
    assert db["raw"].count_documents({"_id": f"raw-{contact_id}"}) == 1
    queued = bus._queues["privacy.contacts"].pending
    assert queued.qsize() == 1


def test_same_key_same_body_answers_the_first_contact_again(intake) -> None:  # type: ignore[no-untyped-def]
    client, bus, db = intake
    first = _post(client, BODY, key="same")
    again = _post(client, BODY, key="same")
    assert first.json()["id"] == again.json()["id"]
    assert db["raw"].count_documents({}) == 1
    assert bus._queues["privacy.contacts"].pending.qsize() == 1


def test_same_key_different_body_is_a_conflict(intake) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = intake
    _post(client, BODY, key="k-conflict")
    answer = _post(client, {**BODY, "text": "อีกเรื่อง"}, key="k-conflict")
    assert answer.status_code == 409
    assert "different body" in answer.json()["reason"]


def test_wrong_key_is_refused(intake) -> None:  # type: ignore[no-untyped-def]
    client, _, db = intake
    answer = _post(client, BODY, auth="not-a-key")
    assert answer.status_code == 401
    assert db["raw"].count_documents({}) == 0


def test_missing_idempotency_key_is_refused_with_reason(intake) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = intake
    answer = _post(client, BODY, key=None)
    assert answer.status_code == 422
    assert answer.json()["field"] == "Idempotency-Key"


def test_contact_without_text_or_attachments_is_refused_naming_the_reason(intake) -> None:  # type: ignore[no-untyped-def]
    client, _, db = intake
    answer = _post(client, {k: v for k, v in BODY.items() if k != "text"}, key="k-empty")
    assert answer.status_code == 422
    assert "text or at least one attachment" in answer.json()["reason"]
    assert db["raw"].count_documents({}) == 0


def test_text_longer_than_the_limit_is_refused(intake) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = intake
    answer = _post(client, {**BODY, "text": "ก" * 6000}, key="k-long")
    assert answer.status_code == 422
    assert "limit is 5000" in answer.json()["reason"]


def test_broker_down_answers_503_with_retry_after_and_keeps_nothing(mongo_url: str) -> None:
    bus = AmqpBus("amqp://guest:guest@127.0.0.1:1/", publish_timeout=1.0)
    client, settings = _client(mongo_url, bus)
    with client, MongoClient(mongo_url) as raw:
        answer = _post(client, BODY, key="k-down")
        assert answer.status_code == 503
        assert answer.headers["Retry-After"]
        db = raw[f"{settings.mongo_db_prefix}_intake"]
        assert db["raw"].count_documents({}) == 0
        assert db["idempotency"].count_documents({}) == 0


def test_claim_left_pending_by_a_crashed_request_is_taken_over_under_the_same_id(intake) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    client, _, db = intake
    keys = db["idempotency"]
    answer = _post(client, BODY, key="k-crash")
    (claim,) = list(keys.find())
    # Simulate a request that claimed the key and died before publishing.
    keys.update_one(
        {"_id": claim["_id"]},
        {"$set": {"state": "pending", "created_at": datetime.now(UTC) - timedelta(minutes=5)}},
    )
    retry = _post(client, BODY, key="k-crash")
    assert retry.status_code == 202
    # The dead request may have published: the retry answers with the same contact.
    assert retry.json()["id"] == answer.json()["id"]
    assert keys.find_one({"_id": claim["_id"]})["state"] == "done"
