"""The bus's delivery outcomes under faults, on the real RabbitMQ and the embedded store."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from shared.bus import QueueSpec, Subscription
from shared.bus.amqp import REASON_HEADER
from shared.messages import Envelope
from shared.store import MongoInbox, Store
from tests.support.broker import (
    connected_bus,
    get_dead,
    topic_of,
    until,
    waiting_messages,
)
from tests.support.messages import topic_envelope

pytestmark = pytest.mark.integration


async def _drained(spec: QueueSpec) -> None:
    for _ in range(150):
        if await waiting_messages(spec.name) == 0:
            return
        await asyncio.sleep(0.2)


class FlakyCollection:
    """A collection whose first ``failures`` calls fail as an unreachable server does."""

    def __init__(self, collection: Any, owner: FlakyStore) -> None:
        self._collection, self._owner = collection, owner

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._collection, name)
        if not callable(method):
            return method

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self._owner.failures > 0:
                self._owner.failures -= 1
                raise ServerSelectionTimeoutError("store did not answer")
            return await method(*args, **kwargs)

        return call


class FlakyStore(Store):
    """The test's store, failing the inbox's first ``failures`` operations."""

    def __init__(self, store: Store, failures: int) -> None:
        super().__init__(store.client, store.db.name)
        self.failures = failures

    def __getitem__(self, collection: str) -> Any:
        real = super().__getitem__(collection)
        return FlakyCollection(real, self) if collection == MongoInbox.COLLECTION else real


async def test_unknown_message_version_is_dead_lettered_at_once_with_its_reason(
    spec: QueueSpec,
) -> None:
    bus = await connected_bus(spec)
    calls: list[str] = []

    async def handle(envelope: Envelope) -> None:
        calls.append(envelope.id)

    await bus.subscribe(Subscription(queue=spec.name, handler=handle))
    envelope = topic_envelope(topic_of(spec)).model_copy(update={"version": 99})
    await bus.publish(envelope)
    dead = await get_dead(spec, timeout=20)
    assert "undecodable reply.requested v99" in str(dead.headers[REASON_HEADER])
    # Parked on its first delivery: never requeued, and the handler never saw it.
    assert int((dead.headers or {}).get("x-delivery-count", 0)) == 0  # type: ignore[call-overload]
    assert calls == []
    await bus.close()


async def test_store_error_inside_the_inbox_ends_in_the_message_handled_and_acked(
    spec: QueueSpec, store: Store
) -> None:
    bus = await connected_bus(spec)
    handled: list[str] = []

    async def handle(envelope: Envelope) -> None:
        handled.append(envelope.id)

    # The store fails under the inbox itself, whatever inbox call comes first.
    inbox = MongoInbox(FlakyStore(store, failures=2))
    await bus.subscribe(Subscription(queue=spec.name, handler=handle, inbox=inbox, prefetch=1))
    envelope = topic_envelope(topic_of(spec))
    await bus.publish(envelope)
    await until(lambda: len(handled) == 1)
    await _drained(spec)
    await bus.close()
    assert handled == [envelope.id]
    assert await waiting_messages(spec.name) == 0


async def test_two_copies_of_one_message_delivered_at_once_have_one_effect(
    spec: QueueSpec, store: Store
) -> None:
    bus = await connected_bus(spec)
    effects: list[str] = []

    async def handle(envelope: Envelope) -> None:
        await asyncio.sleep(0.5)  # the second copy arrives while the first is handled
        effects.append(envelope.id)

    await bus.subscribe(
        Subscription(queue=spec.name, handler=handle, inbox=MongoInbox(store), prefetch=4)
    )
    envelope = topic_envelope(topic_of(spec))
    await bus.publish(envelope)
    await bus.publish(envelope)
    await until(lambda: len(effects) >= 1)
    await _drained(spec)
    await asyncio.sleep(1)
    await bus.close()
    assert effects == [envelope.id]
