"""Intake under crashes and store outages, on the real RabbitMQ and the embedded store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pymongo import MongoClient

from services.intake import store as intake_store
from services.intake.app import create_app
from shared.bus.amqp import AmqpBus
from shared.embedded import EmbeddedMongo
from shared.ids import new_id
from shared.messages import ContactReceived, Envelope
from shared.runtime import Runtime, open_store
from shared.settings import Settings
from tests.support.broker import private_vhost, take_envelopes

pytestmark = pytest.mark.integration

KEY = "app-key-test"
BODY = {
    "app_user_id": "u-2001",
    "text": "มิเตอร์ไฟหมุนเร็วผิดปกติ",
    "locale": "th-TH",
    "consent_to_disclose": False,
    "customer": {"name": "สมชาย", "phone": "0812457731", "email": "c@example.com"},
}


@pytest.fixture
def vhost() -> Iterator[str]:
    with private_vhost("intake-once") as url:
        yield url


def _intake(mongo_url: str, amqp_url: str) -> tuple[TestClient, str]:
    settings = Settings(app_api_keys=[KEY], mongo_db_prefix=f"t{new_id().lower()[-8:]}")
    runtime = Runtime(
        service="intake",
        settings=settings,
        bus=AmqpBus(amqp_url),
        store=open_store(settings, "intake", mongo_url),
    )
    return TestClient(create_app(runtime)), f"{settings.mongo_db_prefix}_intake"


def _post(client: TestClient, key: str) -> Any:
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": key}
    return client.post("/v1/app/contacts", json=BODY, headers=headers)


def _queued(amqp_url: str) -> list[Envelope]:
    return asyncio.run(take_envelopes("privacy.contacts", amqp_url))


def test_retry_after_a_crash_between_publish_and_claim_completion_keeps_the_contact_id(
    mongo_url: str, vhost: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, db_name = _intake(mongo_url, vhost)

    async def crash(*_: object) -> None:
        raise RuntimeError("intake died after the publish")

    with client, MongoClient(mongo_url) as raw:
        with monkeypatch.context() as patch:
            patch.setattr(intake_store, "complete_keys", crash)
            with pytest.raises(RuntimeError, match="intake died"):
                _post(client, "retry-1")
        # The claim the dead request left behind has gone stale by the time the client retries.
        claims = raw[db_name][intake_store.IDEMPOTENCY]
        claim = claims.find_one({"state": "pending"})
        assert claim is not None
        claims.update_one(
            {"_id": claim["_id"]},
            {"$set": {"created_at": claim["created_at"] - timedelta(minutes=5)}},
        )
        answer = _post(client, "retry-1")
        again = _post(client, "retry-1")
        raw.drop_database(db_name)
    assert answer.status_code == 202, answer.text
    assert again.json()["id"] == answer.json()["id"]
    published = _queued(vhost)
    contacts = [e.message() for e in published]
    assert all(isinstance(c, ContactReceived) for c in contacts)
    contact_ids = {c.contact.id for c in contacts if isinstance(c, ContactReceived)}
    # Both publishes (the dead request's and the retry's) are one contact under one message id,
    # so privacy's inbox takes it once.
    assert len(published) == 2
    assert contact_ids == {answer.json()["id"]}
    assert len({e.id for e in published}) == 1


def test_store_outage_answers_503_with_retry_after_and_readyz_says_why(
    tmp_path: Path, vhost: str
) -> None:
    server = EmbeddedMongo(tmp_path / "data")
    url = server.start()
    client, _ = _intake(url, vhost)
    try:
        with client:
            assert _post(client, "before").status_code == 202
            server.stop()
            answer = _post(client, "during")
            ready = client.get("/readyz")
    finally:
        server.stop()
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert ready.status_code == 503
    assert any("store" in reason for reason in ready.json()["reasons"])
