"""Notify's round trips to the store: many notifications share a few bulk writes.

Counted with the store's own per-collection counters (``top``), on a database
of the test's own, so nothing else running on the server is counted.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.directory import OrgDirectory
from services.notify.domain import Intent
from services.notify.handlers import Notify
from services.notify.reachability import Reachability
from services.notify.store import MongoDeliveries
from shared.bus.amqp import AmqpBus
from shared.clock import SystemClock
from shared.ids import new_id
from shared.messages import Contact, ContactScreened, Envelope, Identity
from shared.store import Store
from tests.support import messages
from tests.support.broker import private_vhost, until, waiting_messages
from tests.support.messages import screened_message
from tests.support.notify_stack import NotifyStack, case_event, expiring, notify_stack
from tests.support.store_commands import server_commands

pytestmark = pytest.mark.integration

LEASE = timedelta(seconds=90)


@pytest.fixture
async def stack(mongo_url: str) -> AsyncIterator[NotifyStack]:
    # Polling as often as in production: the idle looks are counted too.
    async with notify_stack(mongo_url, notify_poll_interval_s=1.0) as running:
        yield running


def line_contact() -> Contact:
    return messages.line_contact(
        "U" + secrets.token_hex(16),
        meta={
            "line_event_type": "message",
            "reply_token": secrets.token_hex(16),
            "reply_token_expires_at": expiring(600),
        },
    )


def walk_in() -> Contact:
    contact_id = new_id()
    return Contact.model_validate(
        {
            "id": contact_id,
            "channel": "walk_in",
            "org": "pea",
            "received_at": datetime.now(UTC),
            "dedupe_key": f"walk_in:{contact_id}",
            "text": "มิเตอร์หมุนเร็วผิดปกติ",
            "customer": Identity(name="ประสิทธิ์", phone="053491228"),  # a landline: a call back
            "raw_ref": f"raw-{contact_id}",
        }
    )


async def wait_until(done: object, *, timeout: float = 20.0) -> None:
    assert callable(done)
    for _ in range(int(timeout / 0.05)):
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("notify did not finish in time")


async def test_a_burst_of_contacts_costs_about_one_store_command_each(
    stack: NotifyStack,
) -> None:
    contacts = [line_contact() for _ in range(10)] + [walk_in() for _ in range(10)]
    stack.line.reply_tokens |= {str(c.meta["reply_token"]) for c in contacts if c.meta}
    screened: list[ContactScreened] = await asyncio.gather(*map(stack.screen, contacts))
    before = await server_commands(stack.notify_store)

    # Each case is opened and routed: two notifications a contact, the first
    # on LINE taking the reply token, the second pushed; a walk-in's two
    # become call-back tasks announced to agents.
    for item in screened:
        case_id = f"case-{item.contact_id}"
        await stack.publish(case_event(item, "case.opened", case_id=case_id, seq=1))
        await stack.publish(case_event(item, "case.routed", case_id=case_id, seq=2))
    await wait_until(
        lambda: (
            len(stack.line.delivered) == 20
            and len(stack.published("notification.callback_requested")) == 20
        )
    )
    await asyncio.sleep(0.5)  # the last outcomes and marks are written
    spent = await server_commands(stack.notify_store) - before

    deliveries = stack.notify_store["deliveries"]
    statuses = Counter([doc["status"] async for doc in deliveries.find({})])
    assert statuses == {"sent": 20, "callback_task": 20}
    assert await deliveries.count_documents({"announce_pending": True}) == 0
    endpoints = Counter(endpoint for endpoint, _, _ in stack.line.delivered)
    assert endpoints == {"reply": 10, "push": 10}
    # Writes that did not wait for each other cost about 45 here: records,
    # outcomes and marks in small groups, each reply token asked of the store.
    assert sum(spent.values()) <= len(contacts), spent


def intent(case_id: str) -> Intent:
    return Intent(
        event_id=new_id(),
        correlation_id=new_id(),
        occurred_at=datetime.now(UTC),
        kind="acknowledged",
        case_id=case_id,
        case_number="VOC-2026-000321",
        reply_handle=f"rh-{case_id}",
        language="th",
    )


async def test_records_made_within_the_linger_go_in_one_write(store: Store) -> None:
    deliveries = MongoDeliveries(store, linger=0.2)
    before = await server_commands(store)

    async def record(index: int) -> None:
        await asyncio.sleep(index * 0.01)
        now = datetime.now(UTC)
        assert await deliveries.record_intent(
            intent(f"case-{index}"), at=now, owner="a", lease=LEASE
        )

    await asyncio.gather(*map(record, range(10)))

    assert (await server_commands(store) - before)["deliveries"] == 1
    assert await store["deliveries"].count_documents({}) == 10


async def test_records_outcomes_and_marks_written_together_are_one_command(store: Store) -> None:
    deliveries = MongoDeliveries(store, linger=0.2)
    now = datetime.now(UTC)
    first = [intent(f"case-first-{n}") for n in range(3)]
    recorded = [
        doc
        for doc in await asyncio.gather(
            *(deliveries.record_intent(i, at=now, owner="a", lease=LEASE) for i in first)
        )
        if doc is not None
    ]
    assert len(recorded) == 3
    before = await server_commands(store)

    again = intent("case-second")
    fresh, duplicate, earlier, *_ = await asyncio.gather(
        deliveries.record_intent(again, at=now, owner="a", lease=LEASE),
        deliveries.record_intent(again, at=now, owner="b", lease=LEASE),  # redelivered
        deliveries.record_intent(first[0], at=now, owner="b", lease=LEASE),  # recorded before
        *(deliveries.settle(doc, fields={"status": "sent", "updated_at": now}) for doc in recorded),
        deliveries.announced(recorded[1]["_id"]),
    )

    assert (await server_commands(store) - before)["deliveries"] == 1
    assert fresh is not None
    assert duplicate is None
    assert earlier is None
    docs = {doc["_id"]: doc async for doc in store["deliveries"].find({})}
    assert len(docs) == 4
    assert [docs[doc["_id"]]["status"] for doc in recorded] == ["sent"] * 3
    assert docs[fresh["_id"]]["lease_owner"] == "a"  # the redelivery changed nothing
    assert docs[fresh["_id"]]["intent"] == fresh["intent"]


async def test_a_reply_token_seen_taken_is_not_asked_of_the_store_again(store: Store) -> None:
    replica = MongoDeliveries(store)
    before = await server_commands(store)

    now = datetime.now(UTC)
    first, second = await asyncio.gather(
        replica.claim_reply_token("rh-1", at=now), replica.claim_reply_token("rh-1", at=now)
    )
    assert (first, second) == (True, False)
    assert await replica.claim_reply_token("rh-1", at=now) is False
    assert (await server_commands(store) - before)["reply_tokens_used"] == 1
    # Another replica knows nothing of it: the store says it is taken.
    assert await MongoDeliveries(store).claim_reply_token("rh-1", at=now) is False
    assert (await server_commands(store) - before)["reply_tokens_used"] == 2


async def test_outcomes_waiting_to_be_written_are_written_when_deliveries_are_released(
    store: Store,
) -> None:
    deliveries = MongoDeliveries(store, linger=30)
    now = datetime.now(UTC)
    record = asyncio.create_task(
        deliveries.record_intent(intent("case-released"), at=now, owner="a", lease=LEASE)
    )
    await asyncio.sleep(0.05)
    assert await store["deliveries"].count_documents({}) == 0  # still waiting for company

    await deliveries.release([], now=now)

    assert await asyncio.wait_for(record, 1) is not None
    assert await store["deliveries"].count_documents({"case_id": "case-released"}) == 1


@pytest.fixture
def vhost() -> Iterator[str]:
    with private_vhost("notify-batches") as url:
        yield url


async def test_case_events_from_the_broker_are_recorded_in_batches_once_each(
    store: Store, vhost: str
) -> None:
    deliveries = MongoDeliveries(store)  # no linger: only the batch makes one write
    recorded: list[str] = []

    async def enqueue(intent: Intent) -> bool:
        now = datetime.now(UTC)
        if await deliveries.record_intent(intent, at=now, owner="a", lease=LEASE) is None:
            return False
        recorded.append(intent.event_id)
        return True

    clock = SystemClock()
    reachability = Reachability(deliveries=deliveries, clock=clock)
    consumer = Notify(directory=OrgDirectory(), reachability=reachability, enqueue=enqueue)
    bus = AmqpBus(vhost)
    await bus.connect()
    try:
        envelopes = [
            Envelope.of(case_event(screened_message(channel="line"), "case.opened"))
            for _ in range(20)
        ]
        before = await server_commands(store)
        for envelope in [*envelopes, envelopes[0]]:  # the first one comes twice
            await bus.publish(envelope)
        for subscription in consumer.subscriptions():
            await bus.subscribe(subscription)
        await until(lambda: len(recorded) == 20, timeout=10)
        await asyncio.sleep(0.3)  # the duplicate is handled too
        spent = await server_commands(store) - before
    finally:
        await bus.close()

    assert sorted(recorded) == sorted(e.id for e in envelopes)
    assert await store["deliveries"].count_documents({}) == 20
    assert await waiting_messages("notify.events", vhost) == 0  # all acknowledged
    assert spent["deliveries"] <= 3, spent  # a write per batch, not per event
