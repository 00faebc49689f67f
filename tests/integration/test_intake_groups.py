"""Intake's group acceptance: requests arriving together share their store writes.

On the real RabbitMQ (a private virtual host) and the embedded store, many
requests accepted at once must each get their own answer, every contact be
published once with its own request's correlation id, and one request's
conflict or failed publish leave the others accepted and itself unwritten.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from services.intake import store as intake_store
from services.intake.accept import accept_once
from shared.bus.amqp import AmqpBus
from shared.errors import BusUnavailable, Conflict
from shared.ids import new_id
from shared.logging import correlation_scope
from shared.messages import Contact, ContactReceived, Envelope
from shared.runtime import Runtime
from shared.settings import Settings
from shared.store import Store
from tests.support.broker import private_vhost, take_envelopes
from tests.support.messages import contact as app_contact

pytestmark = pytest.mark.integration


class Writes(monitoring.CommandListener):
    """Count the write commands (and finds) sent to each collection."""

    def __init__(self) -> None:
        self.seen: Counter[tuple[str, str]] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in {"insert", "update", "delete", "find"}:
            self.seen[(event.command_name, str(event.command.get(event.command_name)))] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


class FailingFor(AmqpBus):
    """The real bus, except that publishing the contacts in ``refused`` fails."""

    refused: set[str]

    async def publish(self, envelope: Envelope) -> None:
        message = envelope.message()
        if isinstance(message, ContactReceived) and message.contact.id in self.refused:
            raise BusUnavailable("broker did not confirm (test)")
        await super().publish(envelope)


@pytest.fixture
def vhost() -> Iterator[str]:
    with private_vhost("intake-groups") as url:
        yield url


@pytest.fixture
async def intake(mongo_url: str, vhost: str) -> AsyncIterator[tuple[Runtime, Writes]]:
    writes = Writes()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, tz_aware=True, event_listeners=[writes]
    )
    store = Store(client, f"groups_{new_id().lower()}")
    await store.ensure_indexes(intake_store.INDEXES)
    bus = FailingFor(vhost)
    bus.refused = set()
    await bus.connect()
    runtime = Runtime(service="intake", settings=Settings(), bus=bus, store=store)
    yield runtime, writes
    await bus.close()
    await client.drop_database(store.db.name)
    await client.close()


async def published(amqp_url: str) -> list[Envelope]:
    return await take_envelopes("privacy.contacts", amqp_url)


async def accept(runtime: Runtime, contact: Contact, *, key: str, body: str = "b") -> str:
    # Each request under its own correlation id, as the HTTP middleware sets it.
    with correlation_scope(f"corr-{key}"):
        return await accept_once(
            runtime,
            key=key,
            body_hash=body,
            contact=contact,
            raw=f"payload {key}".encode(),
            content_type="application/json",
        )


async def test_requests_accepted_together_share_writes_and_keep_their_own_answers(
    intake: tuple[Runtime, Writes], vhost: str
) -> None:
    runtime, writes = intake
    contacts = [app_contact() for _ in range(40)]
    answers = await asyncio.gather(
        *(accept(runtime, c, key=f"app:k{n}") for n, c in enumerate(contacts))
    )

    assert answers == [c.id for c in contacts]
    sent = await published(vhost)
    assert sorted(e.message().contact.id for e in sent) == sorted(answers)  # type: ignore[attr-defined]
    # Each contact carries the correlation id of the request it came in.
    by_contact = {e.message().contact.id: e.correlation_id for e in sent}  # type: ignore[attr-defined]
    assert by_contact == {c.id: f"corr-app:k{n}" for n, c in enumerate(contacts)}
    store = runtime.store
    keys = await store[intake_store.IDEMPOTENCY].find().to_list()
    assert {k["state"] for k in keys} == {"done"}
    assert len(keys) == 40
    assert await store[intake_store.RAW].count_documents({}) == 40
    # One at a time these would be 40 claims, 40 archives and 40 completions.
    assert writes.seen[("insert", intake_store.IDEMPOTENCY)] < 10
    assert writes.seen[("insert", intake_store.RAW)] < 10
    assert writes.seen[("update", intake_store.IDEMPOTENCY)] < 10
    # New claims: nothing of theirs can be archived already, so the archive is not read.
    assert writes.seen[("find", intake_store.RAW)] == 0


async def test_a_conflicting_request_fails_alone_and_leaves_nothing_written(
    intake: tuple[Runtime, Writes], vhost: str
) -> None:
    runtime, _ = intake
    first = app_contact()
    assert await accept(runtime, first, key="app:used", body="one") == first.id
    await published(vhost)

    others = [app_contact() for _ in range(6)]
    reused = app_contact()
    results = await asyncio.gather(
        *(accept(runtime, c, key=f"app:o{n}") for n, c in enumerate(others)),
        accept(runtime, reused, key="app:used", body="two"),
        return_exceptions=True,
    )

    assert results[:6] == [c.id for c in others]
    assert isinstance(results[6], Conflict)
    assert "different body" in str(results[6])
    sent = await published(vhost)
    assert sorted(e.message().contact.id for e in sent) == sorted(c.id for c in others)  # type: ignore[attr-defined]
    store = runtime.store
    assert await store[intake_store.RAW].count_documents({"_id": reused.raw_ref}) == 0
    earlier = await store[intake_store.IDEMPOTENCY].find_one({"_id": "app:used"})
    assert earlier is not None
    assert earlier["contact_id"] == first.id


async def test_a_failed_publish_undoes_only_its_own_request(
    intake: tuple[Runtime, Writes], vhost: str
) -> None:
    runtime, _ = intake
    contacts = [app_contact() for _ in range(8)]
    doomed = contacts[3]
    runtime.bus.refused = {doomed.id}  # type: ignore[attr-defined]
    results = await asyncio.gather(
        *(accept(runtime, c, key=f"app:p{n}") for n, c in enumerate(contacts)),
        return_exceptions=True,
    )

    assert isinstance(results[3], BusUnavailable)
    assert [r for n, r in enumerate(results) if n != 3] == [
        c.id for c in contacts if c is not doomed
    ]
    store = runtime.store
    # Its claim and archive are gone, so the client's retry starts afresh.
    assert await store[intake_store.IDEMPOTENCY].find_one({"_id": "app:p3"}) is None
    assert await store[intake_store.RAW].count_documents({"_id": doomed.raw_ref}) == 0
    runtime.bus.refused = set()  # type: ignore[attr-defined]
    assert await accept(runtime, doomed, key="app:p3") == doomed.id
    sent = await published(vhost)
    assert sorted(e.message().contact.id for e in sent) == sorted(c.id for c in contacts)  # type: ignore[attr-defined]


async def test_two_requests_with_one_key_at_once_make_one_contact(
    intake: tuple[Runtime, Writes], vhost: str
) -> None:
    runtime, _ = intake
    original, retry = app_contact(), app_contact()
    crowd = [app_contact() for _ in range(5)]
    results = await asyncio.gather(
        accept(runtime, original, key="app:twice"),
        *(accept(runtime, c, key=f"app:c{n}") for n, c in enumerate(crowd)),
        accept(runtime, retry, key="app:twice"),
    )

    # The retry never shares the original's group: it finds the key done and
    # answers with the original contact.
    assert results[0] == results[-1] == original.id
    sent = await published(vhost)
    ids = [e.message().contact.id for e in sent]  # type: ignore[attr-defined]
    assert ids.count(original.id) == 1
    assert retry.id not in ids
