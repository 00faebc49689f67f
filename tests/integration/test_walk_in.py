"""Walk-in contacts: the console checks the staff login, intake de-duplicates and publishes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.console.app import create_app as create_console
from services.intake.app import create_app as create_intake
from shared.bus.inproc import InProcessBus
from shared.ids import new_id
from shared.internal_api import Acting, ActingAuth
from shared.messages import ContactReceived, Envelope
from shared.runtime import Runtime, open_store
from shared.settings import Settings
from tests.conftest import FIXTURES

pytestmark = pytest.mark.integration

SAMPLES = FIXTURES / "channels" / "walk_in" / "walkin_contacts.jsonl"


SERVICE_TOKEN = "service-token-walkin"


def _settings() -> Settings:
    return Settings(
        admin_password="admin-password-walkin",  # type: ignore[arg-type]
        service_token=SERVICE_TOKEN,  # type: ignore[arg-type]
        mongo_db_prefix=f"w{new_id().lower()[-8:]}",
    )


@pytest.fixture
def intake(mongo_url: str) -> Iterator[tuple[TestClient, InProcessBus]]:
    """Intake's internal walk-in endpoint, called as a counter agent would through the console."""
    settings = _settings()
    bus = InProcessBus()
    runtime = Runtime(
        service="intake",
        settings=settings,
        bus=bus,
        store=open_store(settings, "intake", mongo_url),
    )
    with TestClient(create_intake(runtime)) as client:
        client.auth = ActingAuth(
            Acting(user="counter1", role="agent"),
            token=SERVICE_TOKEN,
            acting_key=settings.acting_key.get_secret_value(),
            audience="intake",
        )
        yield client, bus


@pytest.fixture
def console(mongo_url: str) -> Iterator[TestClient]:
    """The console alone: enough to check who may record a walk-in and what it must hold."""
    settings = _settings()
    runtime = Runtime(
        service="console",
        settings=settings,
        bus=InProcessBus(),
        store=open_store(settings, "console", mongo_url),
    )
    with TestClient(create_console(runtime)) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "admin", "password": "admin-password-walkin"}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


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


def test_every_counter_entry_becomes_one_walk_in_contact(intake) -> None:  # type: ignore[no-untyped-def]
    client, bus = intake
    samples = _samples()
    for entry in samples:
        answer = client.post("/internal/v1/walk-in", json=entry)
        assert answer.status_code == 202, answer.text
    contacts = [m.contact for m in _published(bus)]
    assert len(contacts) == len(samples)
    assert {c.channel for c in contacts} == {"walk_in"}
    assert all(c.meta["staff_id"] for c in contacts)


def test_an_entry_for_an_organisation_this_install_does_not_serve_is_refused(intake) -> None:  # type: ignore[no-untyped-def]
    client, bus = intake
    entry = {**_samples()[0], "org": "egat"}
    answer = client.post("/internal/v1/walk-in", json=entry)
    assert answer.status_code == 422
    assert "not 'egat'" in answer.text
    assert _published(bus) == []


def test_same_branch_day_and_queue_number_is_one_contact(intake) -> None:  # type: ignore[no-untyped-def]
    client, bus = intake
    entry = _samples()[0]
    first = client.post("/internal/v1/walk-in", json=entry)
    again = client.post("/internal/v1/walk-in", json=entry)
    assert first.json()["id"] == again.json()["id"]
    assert len(_published(bus)) == 1


def test_invalid_national_id_is_kept_and_flagged(intake) -> None:  # type: ignore[no-untyped-def]
    client, bus = intake
    entry = next(
        e for e in _samples() if (e.get("customer") or {}).get("national_id") == "1509901234562"
    )
    assert client.post("/internal/v1/walk-in", json=entry).status_code == 202
    (contact,) = [m.contact for m in _published(bus)]
    assert "invalid_national_id" in contact.flags
    assert contact.customer.national_id == "1509901234562"


def test_anonymous_complainant_is_recorded_without_identity(intake) -> None:  # type: ignore[no-untyped-def]
    client, bus = intake
    entry = next(e for e in _samples() if e.get("customer") is None)
    assert client.post("/internal/v1/walk-in", json=entry).status_code == 202
    (contact,) = [m.contact for m in _published(bus)]
    assert contact.customer.is_empty()
    assert contact.consent == "withheld"
    assert "anonymous" in contact.flags


def test_walk_in_needs_a_logged_in_user(console) -> None:  # type: ignore[no-untyped-def]
    client = console
    answer = client.post(
        "/api/v1/contacts/walk-in", json=_samples()[0], headers={"Authorization": "Bearer nonsense"}
    )
    assert answer.status_code == 401


def test_walk_in_without_text_is_refused_naming_the_field(console) -> None:  # type: ignore[no-untyped-def]
    client = console
    entry = {**_samples()[0], "text": ""}
    answer = client.post("/api/v1/contacts/walk-in", json=entry)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "text"


def test_only_counter_roles_may_record_a_walk_in(intake) -> None:  # type: ignore[no-untyped-def]
    client, bus = intake
    answer = client.post(
        "/internal/v1/walk-in",
        json=_samples()[0],
        auth=ActingAuth(
            Acting(user="m1", role="manager"),
            token=SERVICE_TOKEN,
            acting_key=_settings().acting_key.get_secret_value(),
            audience="intake",
        ),
    )
    assert answer.status_code == 403
    assert _published(bus) == []


def test_walk_in_without_the_service_token_is_refused(intake) -> None:  # type: ignore[no-untyped-def]
    client, bus = intake
    answer = client.post(
        "/internal/v1/walk-in",
        json=_samples()[0],
        headers={"X-Service-Token": "wrong", "X-Acting-User": "x", "X-Acting-Role": "agent"},
        auth=None,
    )
    assert answer.status_code == 401
    assert _published(bus) == []
