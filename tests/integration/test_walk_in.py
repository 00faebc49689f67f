"""Walk-in contacts at the console: staff login, de-duplication, identity as given."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.console.app import create_app
from shared.bus.inproc import InProcessBus
from shared.ids import new_id
from shared.messages import ContactReceived, Envelope
from shared.runtime import Runtime, open_store
from shared.settings import Settings
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.integration

SAMPLES = SHARED_DATA / "channels" / "walk_in" / "walkin_contacts.jsonl"


@pytest.fixture
def console(mongo_url: str) -> Iterator[tuple[TestClient, InProcessBus]]:
    settings = Settings(
        admin_password="admin-password-walkin",  # type: ignore[arg-type]
        mongo_db_prefix=f"w{new_id().lower()[-8:]}",
    )
    bus = InProcessBus()
    runtime = Runtime(
        service="console", settings=settings, bus=bus,
        store=open_store(settings, "console", mongo_url),
    )
    with TestClient(create_app(runtime)) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "admin", "password": "admin-password-walkin"}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client, bus


def _samples() -> list[dict[str, Any]]:
    if not SAMPLES.exists():
        pytest.skip(f"reference data missing: {SAMPLES}")
    return [json.loads(line) for line in SAMPLES.read_text().splitlines() if line.strip()]


def _published(bus: InProcessBus) -> list[ContactReceived]:
    queue = bus._queues["privacy.contacts"].pending
    items = []
    while not queue.empty():
        body, _ = queue.get_nowait()
        message = Envelope.from_json(body).message()
        assert isinstance(message, ContactReceived)
        items.append(message)
    return items


def test_every_counter_entry_becomes_one_walk_in_contact(console) -> None:  # type: ignore[no-untyped-def]
    client, bus = console
    samples = _samples()
    for entry in samples:
        answer = client.post("/api/v1/contacts/walk-in", json=entry)
        assert answer.status_code == 202, answer.text
    contacts = [m.contact for m in _published(bus)]
    assert len(contacts) == len(samples)
    assert {c.channel for c in contacts} == {"walk_in"}
    assert all(c.meta["staff_id"] for c in contacts)


def test_same_branch_day_and_queue_number_is_one_contact(console) -> None:  # type: ignore[no-untyped-def]
    client, bus = console
    entry = _samples()[0]
    first = client.post("/api/v1/contacts/walk-in", json=entry)
    again = client.post("/api/v1/contacts/walk-in", json=entry)
    assert first.json()["id"] == again.json()["id"]
    assert len(_published(bus)) == 1


def test_invalid_national_id_is_kept_and_flagged(console) -> None:  # type: ignore[no-untyped-def]
    client, bus = console
    entry = next(e for e in _samples() if (e.get("customer") or {}).get("national_id")
                 == "1509901234562")
    assert client.post("/api/v1/contacts/walk-in", json=entry).status_code == 202
    (contact,) = [m.contact for m in _published(bus)]
    assert "invalid_national_id" in contact.flags
    assert contact.customer.national_id == "1509901234562"


def test_anonymous_complainant_is_recorded_without_identity(console) -> None:  # type: ignore[no-untyped-def]
    client, bus = console
    entry = next(e for e in _samples() if e.get("customer") is None)
    assert client.post("/api/v1/contacts/walk-in", json=entry).status_code == 202
    (contact,) = [m.contact for m in _published(bus)]
    assert contact.customer.is_empty()
    assert contact.consent == "withheld"
    assert "anonymous" in contact.flags


def test_walk_in_needs_a_logged_in_user(console) -> None:  # type: ignore[no-untyped-def]
    client, _ = console
    answer = client.post("/api/v1/contacts/walk-in", json=_samples()[0],
                         headers={"Authorization": "Bearer nonsense"})
    assert answer.status_code == 401


def test_walk_in_without_text_is_refused_naming_the_field(console) -> None:  # type: ignore[no-untyped-def]
    client, _ = console
    entry = {**_samples()[0], "text": ""}
    answer = client.post("/api/v1/contacts/walk-in", json=entry)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "text"
