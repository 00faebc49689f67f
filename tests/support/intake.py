"""Intake's HTTP app on the real store and a chosen bus, for channel tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from pymongo import MongoClient
from pymongo.database import Database

from services.intake.app import create_app
from shared.bus.base import Bus
from shared.bus.inproc import InProcessBus
from shared.errors import BusUnavailable
from shared.ids import new_id
from shared.messages import Contact, ContactReceived, Envelope
from shared.runtime import Runtime, open_store
from shared.settings import Settings

DEAD_BROKER = "amqp://guest:guest@127.0.0.1:1/"


@dataclass
class IntakeUnderTest:
    """A running intake app, its bus and its database seen through a plain client."""

    client: TestClient
    bus: Bus
    db: Database[dict[str, Any]]

    def published(self) -> list[Contact]:
        """Return the contacts waiting in privacy's queue, in publish order."""
        return published(self.bus)


def published(bus: Bus) -> list[Contact]:
    """Return the contacts waiting in privacy's queue of an in-process bus, in publish order."""
    assert isinstance(bus, InProcessBus)
    queue = bus._queues["privacy.contacts"].pending  # nobody consumes in these tests
    contacts = []
    for body, _ in list(queue._queue):  # type: ignore[attr-defined]
        message = Envelope.from_json(body).message()
        assert isinstance(message, ContactReceived)
        contacts.append(message.contact)
    return contacts


class FlakyBus(InProcessBus):
    """An in-process bus whose broker fails to confirm the first ``failures`` publishes."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def publish(self, envelope: Envelope) -> None:
        """Refuse while failures remain, then publish normally."""
        if self.failures > 0:
            self.failures -= 1
            raise BusUnavailable("broker did not confirm in time")
        await super().publish(envelope)


@contextmanager
def running_intake(mongo_url: str, bus: Bus, **settings: Any) -> Iterator[IntakeUnderTest]:
    """Run intake on a database of its own with ``settings``; drop the database afterwards."""
    config = Settings(mongo_db_prefix=f"t{new_id().lower()[-10:]}", **settings)
    runtime = Runtime(
        service="intake",
        settings=config,
        bus=bus,
        store=open_store(config, "intake", mongo_url),
    )
    name = f"{config.mongo_db_prefix}_intake"
    raw: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    with TestClient(create_app(runtime)) as client, raw:
        yield IntakeUnderTest(client, bus, raw[name])
        raw.drop_database(name)
