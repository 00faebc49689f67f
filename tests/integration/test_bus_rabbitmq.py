"""The RabbitMQ bus against the real broker: confirms, timeouts, dead letters, restarts."""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.bus import DELIVERY_LIMIT, QueueSpec, Subscription
from shared.bus.amqp import REASON_HEADER, AmqpBus
from shared.errors import BusUnavailable, Poison, Retry
from shared.messages import Envelope
from shared.store import MongoInbox, Store
from tests.support.broker import (
    CuttableProxy,
    blackhole,
    close_all_connections,
    connected_bus,
    get_dead,
    topic_of,
    unique_spec,
)
from tests.support.messages import topic_envelope

pytestmark = pytest.mark.integration




async def _wait_for(predicate: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_publishing_to_an_unreachable_broker_fails_within_the_timeout() -> None:
    spec = unique_spec()
    bus = AmqpBus("amqp://guest:guest@127.0.0.1:1/", publish_timeout=1.0, queues={spec.name: spec})
    started = time.monotonic()
    with pytest.raises(BusUnavailable):
        await bus.publish(topic_envelope(topic_of(spec)))
    assert time.monotonic() - started < 3.0


async def test_publishing_to_a_hung_broker_fails_within_the_timeout() -> None:
    spec = unique_spec()
    async with blackhole() as port:
        bus = AmqpBus(
            f"amqp://guest:guest@127.0.0.1:{port}/", publish_timeout=1.0, queues={spec.name: spec}
        )
        started = time.monotonic()
        with pytest.raises(BusUnavailable, match="broker"):
            await bus.publish(topic_envelope(topic_of(spec)))
        assert time.monotonic() - started < 3.0


async def test_publish_after_the_broker_went_away_is_not_reported_as_sent(spec: QueueSpec) -> None:
    proxy = CuttableProxy()
    await proxy.start()
    bus = await connected_bus(spec, proxy.url, timeout=1.5)
    await bus.publish(topic_envelope(topic_of(spec)))  # confirmed while the line is up
    await proxy.cut()
    started = time.monotonic()
    with pytest.raises(BusUnavailable):
        await bus.publish(topic_envelope(topic_of(spec)))
    assert time.monotonic() - started < 3.5
    await bus.close()


async def test_poison_goes_to_the_dead_letter_queue_at_once_and_consumer_keeps_going(
    spec: QueueSpec,
) -> None:
    bus = await connected_bus(spec)
    seen: list[str] = []

    async def handle(envelope: Envelope) -> None:
        text = envelope.message().text  # type: ignore[attr-defined]
        seen.append(text)
        if text == "bad":
            raise Poison("cannot be parsed into a contact")

    await bus.subscribe(Subscription(queue=spec.name, handler=handle, prefetch=1))
    await bus.publish(topic_envelope(topic_of(spec), text="bad"))
    await bus.publish(topic_envelope(topic_of(spec), text="good"))
    await _wait_for(lambda: "good" in seen)
    dead = await get_dead(spec)
    assert "cannot be parsed into a contact" in str(dead.headers[REASON_HEADER])
    assert seen.count("bad") == 1
    await bus.close()


async def test_message_that_keeps_failing_is_dead_lettered_after_at_most_five_deliveries(
    spec: QueueSpec,
) -> None:
    bus = await connected_bus(spec)
    attempts: list[str] = []

    async def handle(envelope: Envelope) -> None:
        attempts.append(envelope.id)
        raise Retry("downstream unavailable")

    await bus.subscribe(Subscription(queue=spec.name, handler=handle))
    await bus.publish(topic_envelope(topic_of(spec)))
    dead = await get_dead(spec, timeout=20)
    assert 1 < len(attempts) <= DELIVERY_LIMIT
    assert "delivery limit" in str(dead.headers[REASON_HEADER])
    await bus.close()


async def test_same_message_delivered_twice_has_one_effect(spec: QueueSpec, store: Store) -> None:
    bus = await connected_bus(spec)
    effects: list[str] = []

    async def handle(envelope: Envelope) -> None:
        effects.append(envelope.id)

    await bus.subscribe(
        Subscription(queue=spec.name, handler=handle, inbox=MongoInbox(store), prefetch=1)
    )
    envelope = topic_envelope(topic_of(spec))
    await bus.publish(envelope)
    await bus.publish(envelope)
    later = topic_envelope(topic_of(spec))
    await bus.publish(later)
    await _wait_for(lambda: later.id in effects)
    assert effects == [envelope.id, later.id]
    await bus.close()


async def test_consumers_resume_by_themselves_after_the_broker_drops_connections(
    spec: QueueSpec,
) -> None:
    bus = await connected_bus(spec)
    handled: list[str] = []

    async def handle(envelope: Envelope) -> None:
        handled.append(envelope.id)

    await bus.subscribe(Subscription(queue=spec.name, handler=handle))
    assert (await bus.health()).consumers == {spec.name: 1}
    await asyncio.to_thread(close_all_connections)

    async def consumers() -> int:
        health = await bus.health()
        return health.consumers.get(spec.name, 0) if health.connected else 0

    deadline = time.monotonic() + 30
    while await consumers() < 1:
        assert time.monotonic() < deadline, "consumer did not come back"
        await asyncio.sleep(0.5)
    envelope = topic_envelope(topic_of(spec))
    await bus.publish(envelope)
    await _wait_for(lambda: envelope.id in handled)
    await bus.close()
