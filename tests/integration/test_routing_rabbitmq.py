"""A unit's own system receives the cases routed to it from the real RabbitMQ."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import aio_pika
import pytest

from services.routing.app import INDEXES
from shared.bus.amqp import AmqpBus
from shared.bus.topology import EXCHANGE, QueueSpec
from shared.clock import BANGKOK, FrozenClock
from shared.ids import new_id
from shared.messages import CaseEvent, Envelope
from shared.store import Store
from tests.support.broker import private_vhost
from tests.support.routing import case_of, deliver, routing_for, screened

pytestmark = pytest.mark.integration


async def test_a_units_own_queue_receives_the_cases_routed_to_it(
    store: Store, tmp_path: Path
) -> None:
    await store.ensure_indexes(INDEXES)
    # A virtual host of its own: cases other tests route on the same broker to the
    # same unit would otherwise reach this unit's queue too.
    with private_vhost("unit-queue") as amqp_url:
        await _unit_queue_receives_its_cases(store, tmp_path, amqp_url)


async def _unit_queue_receives_its_cases(store: Store, tmp_path: Path, amqp_url: str) -> None:
    tag = new_id().lower()
    # Every case event must be routable (publishes are mandatory): a catch-all of the test's own.
    catch_all = QueueSpec(f"test.{tag}.case-events", ("case.#",))
    bus = AmqpBus(amqp_url, queues={catch_all.name: catch_all})
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        # What the billing department's own system declares: a queue bound to its routed cases.
        mine = await channel.declare_queue(f"test.{tag}.pea-billing", exclusive=True)
        await mine.bind(exchange, routing_key="case.routed.pea-billing")
        await bus.connect()
        clock = FrozenClock(datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK))
        routing, _ = routing_for(store, clock=clock, tmp_path=tmp_path, bus=bus)
        billing = screened(clock, text="ค่าไฟเดือนนี้แพงผิดปกติ")
        outage = screened(clock, text="ไฟดับทั้งซอย")

        await deliver(routing, billing)
        await deliver(routing, outage)
        assert await routing.relay.relay_once() == 4

        received = await mine.get(timeout=10)
        await received.ack()
        assert await mine.get(fail=False) is None  # the outage went to another unit
        envelope = Envelope.from_json(received.body)
        event = envelope.message()
        assert isinstance(event, CaseEvent)
        assert received.routing_key == "case.routed.pea-billing"
        assert (event.type, event.case.unit) == ("case.routed", "pea-billing")
        assert event.case.id == (await case_of(routing, billing.contact_id)).id
        assert received.message_id == envelope.id
    finally:
        await bus.close()
        await connection.close()
