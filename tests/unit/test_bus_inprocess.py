"""The in-process bus keeps RabbitMQ's semantics: topics, outcomes, limits, idempotency."""

from __future__ import annotations

import asyncio

import pytest

from shared.bus import DELIVERY_LIMIT, MemoryInbox, QueueSpec, Subscription, topic_matches
from shared.bus.inproc import InProcessBus
from shared.errors import BusUnavailable, Poison, Retry, Unroutable
from shared.messages import Envelope
from tests.support.messages import received, topic_envelope


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("contact.received.*", "contact.received.line", True),
        ("contact.received.*", "contact.received", False),
        ("contact.received.*", "contact.received.line.extra", False),
        ("case.#", "case.routed.pea-triage", True),
        ("case.#", "case", True),
        ("case.#", "cases.opened", False),
        ("#", "anything.at.all", True),
        ("a.*.c", "a.b.c", True),
        ("a.#.c", "a.b.x.c", True),
        ("a.#.c", "a.b.x.d", False),
    ],
)
def test_topic_patterns_match_like_amqp(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern, key) is expected


def _bus() -> InProcessBus:
    return InProcessBus({"q": QueueSpec("q", ("t.#",)), "other": QueueSpec("other", ("u.*",))})


async def test_message_reaches_only_bound_queues_after_a_json_round_trip() -> None:
    bus = _bus()
    got: list[Envelope] = []

    async def handle(envelope: Envelope) -> None:
        got.append(envelope)

    await bus.subscribe(Subscription(queue="q", handler=handle))
    sent = topic_envelope("t.x")
    await bus.publish(sent)
    await bus.drain()
    assert got == [sent]
    assert got[0] is not sent  # delivered as a parsed copy, not the same object
    await bus.close()


async def test_unroutable_message_is_refused() -> None:
    bus = _bus()
    with pytest.raises(Unroutable):
        await bus.publish(topic_envelope("nobody.listens"))
    await bus.close()


async def test_closed_bus_refuses_to_publish() -> None:
    bus = _bus()
    await bus.close()
    with pytest.raises(BusUnavailable):
        await bus.publish(topic_envelope("t.x"))


async def test_poison_is_dead_lettered_at_once_with_its_reason_and_consumer_continues() -> None:
    bus = _bus()
    calls: list[str] = []

    async def handle(envelope: Envelope) -> None:
        calls.append(envelope.id)
        if envelope.message().text == "bad":  # type: ignore[attr-defined]
            raise Poison("text is bad")

    await bus.subscribe(Subscription(queue="q", handler=handle, prefetch=1))
    await bus.publish(topic_envelope("t.x", text="bad"))
    await bus.publish(topic_envelope("t.x", text="good"))
    await bus.drain()
    dead = bus.dead_letters("q")
    assert len(calls) == 2
    assert len(dead) == 1
    assert "text is bad" in dead[0].reason
    await bus.close()


async def test_failing_message_is_dead_lettered_after_the_delivery_limit() -> None:
    bus = _bus()
    attempts = 0

    async def handle(_: Envelope) -> None:
        nonlocal attempts
        attempts += 1
        raise Retry("downstream is down")

    await bus.subscribe(Subscription(queue="q", handler=handle))
    await bus.publish(topic_envelope("t.x"))
    await bus.drain()
    assert attempts == DELIVERY_LIMIT
    assert "delivery limit" in bus.dead_letters("q")[0].reason
    await bus.close()


async def test_same_message_twice_has_one_effect() -> None:
    bus = _bus()
    effects: list[str] = []

    async def handle(envelope: Envelope) -> None:
        effects.append(envelope.id)

    await bus.subscribe(Subscription(queue="q", handler=handle, inbox=MemoryInbox(), prefetch=1))
    envelope = topic_envelope("t.x")
    await bus.publish(envelope)
    await bus.publish(envelope)
    await bus.drain()
    assert effects == [envelope.id]
    await bus.close()


async def test_health_counts_consumers_per_queue() -> None:
    bus = _bus()

    async def handle(_: Envelope) -> None:
        await asyncio.sleep(0)

    await bus.subscribe(Subscription(queue="q", handler=handle, prefetch=3))
    health = await bus.health()
    assert health.ok
    assert health.consumers == {"q": 3}
    await bus.close()


def test_contact_received_is_published_under_its_channel() -> None:
    assert received("line").routing_key == "contact.received.line"
