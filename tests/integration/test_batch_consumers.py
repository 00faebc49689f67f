"""Batch consumers on the real broker and store: every delivery keeps its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from services.privacy import store as pstore
from services.privacy.screening import Screener, blind_indexer, key_ring
from services.privacy.vaulting import SubjectVault
from services.routing.app import Routing
from services.routing.cases import store as case_store
from services.routing.cases.domain import case_number
from shared.bus import QueueSpec, Subscription, base
from shared.bus.amqp import REASON_HEADER, AmqpBus
from shared.clock import FrozenClock
from shared.errors import Poison, StoreUnavailable
from shared.ids import new_id
from shared.messages import Envelope, Identity
from shared.settings import Settings
from shared.store import MongoInbox, Store
from tests.support.broker import (
    connected_bus,
    delete_queues,
    get_dead,
    topic_of,
    until,
    waiting_messages,
)
from tests.support.broker import unique_spec as new_spec
from tests.support.messages import contact, topic_envelope
from tests.support.routing import (
    RecordingBus,
    case_of,
    indexed_routing,
    screened,
)

pytestmark = pytest.mark.integration

SETTINGS = Settings(vault_kek="k1:batch-kek", blind_index_key="batch-index-key")


@pytest.fixture
async def spec() -> AsyncIterator[QueueSpec]:
    queue = new_spec()
    yield queue
    await delete_queues(queue)


class Handlers:
    """A consumer's single and batch handlers over one rule of which message fails how."""

    def __init__(
        self, *, poison: set[str] | None = None, failing: dict[str, int] | None = None
    ) -> None:
        self.poison = poison or set()
        self.failing = failing or {}  # message id: transient failures still to come
        self.handled: list[str] = []
        self.batches: list[list[str]] = []
        self.calls: dict[str, int] = {}

    def _handle(self, envelope: Envelope) -> None:
        self.calls[envelope.id] = self.calls.get(envelope.id, 0) + 1
        if envelope.id in self.poison:
            raise Poison("no unit takes this topic")
        if self.failing.get(envelope.id, 0) > 0:
            self.failing[envelope.id] -= 1
            raise StoreUnavailable("the store is paused")
        self.handled.append(envelope.id)

    async def one(self, envelope: Envelope) -> None:
        self._handle(envelope)

    async def many(self, envelopes: Sequence[Envelope]) -> list[BaseException | None]:
        self.batches.append([e.id for e in envelopes])
        outcomes: list[BaseException | None] = []
        for envelope in envelopes:
            try:
                self._handle(envelope)
            except Exception as exc:
                outcomes.append(exc)
            else:
                outcomes.append(None)
        return outcomes

    def subscription(self, spec: QueueSpec, inbox: MongoInbox) -> Subscription:
        # A long wait, so what was published before subscribing comes as one batch.
        return Subscription(
            queue=spec.name,
            handler=self.one,
            inbox=inbox,
            batch_handler=self.many,
            batch_size=32,
            max_wait=0.5,
            prefetch=64,
        )


async def _published(bus: AmqpBus, spec: QueueSpec, count: int) -> list[Envelope]:
    envelopes = [topic_envelope(topic_of(spec), text=f"n{i}") for i in range(count)]
    for envelope in envelopes:
        await bus.publish(envelope)
    return envelopes


async def test_a_batch_skips_a_message_handled_before_and_dead_letters_only_its_poison(
    spec: QueueSpec, store: Store
) -> None:
    bus = await connected_bus(spec)
    inbox = MongoInbox(store)
    seen, poison, *good = await _published(bus, spec, 6)
    await inbox.complete(spec.name, seen.id)  # handled by an earlier delivery
    handlers = Handlers(poison={poison.id})
    try:
        await bus.subscribe(handlers.subscription(spec, inbox))
        dead = await get_dead(spec, timeout=20)
        await until(lambda: len(handlers.handled) == len(good))
    finally:
        await bus.close()
    assert handlers.batches == [[poison.id, *(e.id for e in good)]]  # one batch, no duplicate
    assert handlers.handled == [e.id for e in good]
    assert dead.message_id == poison.id
    assert "poison: no unit takes this topic" in str((dead.headers or {})[REASON_HEADER])
    claims = await inbox.claim_many(spec.name, [e.id for e in (seen, poison, *good)])
    # The good ones are done; the poison one's claim was given back.
    assert claims == {seen.id: "done", poison.id: "new", **{e.id: "done" for e in good}}
    assert await waiting_messages(spec.name) == 0


async def test_a_transient_failure_in_a_batch_is_held_then_requeued_and_handled_once(
    spec: QueueSpec, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A short hold, so the message outlasts it and goes back to the queue.
    monkeypatch.setattr(base, "HOLD_S", 0.1)
    bus = await connected_bus(spec)
    flaky, *others = await _published(bus, spec, 4)
    # Fails in the batch, in the hold after it, and once more when redelivered.
    handlers = Handlers(failing={flaky.id: 3})
    try:
        await bus.subscribe(handlers.subscription(spec, MongoInbox(store)))
        await until(lambda: len(handlers.handled) == 4)
        await asyncio.sleep(0.5)  # nothing more arrives
    finally:
        await bus.close()
    assert sorted(handlers.handled) == sorted(e.id for e in (flaky, *others))
    assert handlers.calls[flaky.id] == 4
    assert all(handlers.calls[e.id] == 1 for e in others)
    assert len(handlers.batches) == 2  # the redelivery came as a batch of its own
    assert await waiting_messages(spec.name) == 0


async def test_a_failing_batch_handler_leaves_each_message_to_be_handled_one_by_one(
    spec: QueueSpec, store: Store
) -> None:
    bus = await connected_bus(spec)
    envelopes = await _published(bus, spec, 5)
    handlers = Handlers()

    async def broken(_: Sequence[Envelope]) -> list[BaseException | None]:
        raise RuntimeError("the batch could not be read")

    subscription = handlers.subscription(spec, MongoInbox(store))
    try:
        await bus.subscribe(
            Subscription(**{**subscription.__dict__, "batch_handler": broken})  # type: ignore[arg-type]
        )
        await until(lambda: len(handlers.handled) == 5)
        await asyncio.sleep(0.3)
    finally:
        await bus.close()
    assert sorted(handlers.handled) == sorted(e.id for e in envelopes)
    assert await waiting_messages(spec.name) == 0


@pytest.fixture
async def routing(store: Store, tmp_path: Path) -> tuple[Routing, RecordingBus, FrozenClock]:
    return await indexed_routing(store, tmp_path)


async def test_two_contacts_of_one_customer_in_one_batch_share_one_case_as_one_by_one(
    routing: tuple[Routing, RecordingBus, FrozenClock],
) -> None:
    service, _, clock = routing
    subject = f"sub_{new_id()}"
    first = screened(clock, channel="line", subject_ref=subject, text="ไฟดับทั้งซอย")
    again = screened(clock, channel="line", subject_ref=subject, text="ยังดับอยู่")
    other = screened(clock, channel="line", text="ไฟดับทั้งซอย")
    envelopes = [Envelope.of(m) for m in (first, again, other)]
    outcomes = await service.contacts.on_contacts_screened(envelopes)
    assert outcomes == [None, None, None]
    case = await case_of(service, first.contact_id)
    assert [c.contact_id for c in case.contacts] == [first.contact_id, again.contact_id]
    assert (await case_of(service, other.contact_id)).id != case.id

    # Delivered again in a later batch: read ahead as cased, nothing changes.
    assert await service.contacts.on_contacts_screened(envelopes[:2]) == [None, None]
    case_again = await case_of(service, first.contact_id)
    assert case_again.version == case.version


async def test_a_batch_gives_a_poison_contact_its_own_outcome(
    routing: tuple[Routing, RecordingBus, FrozenClock],
) -> None:
    service, _, clock = routing
    good = screened(clock, channel="line", text="ไฟดับทั้งซอย")
    foreign = screened(clock, channel="line", org="or", text="ไฟดับทั้งซอย")
    envelopes = [Envelope.of(foreign), Envelope.of(good)]
    outcomes = await service.contacts.on_contacts_screened(envelopes)
    assert isinstance(outcomes[0], Poison)
    assert outcomes[1] is None
    await case_of(service, good.contact_id)
    found = await case_store.find_by_contact(service.runtime.store, foreign.contact_id)
    assert found is None


async def test_case_numbers_stay_unique_and_gapless_across_concurrent_batches(
    routing: tuple[Routing, RecordingBus, FrozenClock],
) -> None:
    service, _, clock = routing
    batches = [
        [Envelope.of(screened(clock, channel="line", text="ไฟดับทั้งซอย")) for _ in range(8)]
        for _ in range(3)
    ]
    results = await asyncio.gather(*(service.contacts.on_contacts_screened(b) for b in batches))
    assert all(outcome is None for outcomes in results for outcome in outcomes)
    numbers = []
    for batch in batches:
        for envelope in batch:
            case = await case_of(service, envelope.data["contact_id"])
            numbers.append(case.number)
    year = clock.now().year
    assert sorted(numbers) == [case_number(year, serial) for serial in range(1, 25)]


async def test_privacy_screens_two_contacts_of_one_customer_in_one_batch_as_one_customer(
    store: Store,
) -> None:
    await store.ensure_indexes(pstore.INDEXES)
    screener = Screener(
        store,
        vault=SubjectVault(store, key_ring(SETTINGS)),
        indexer=blind_indexer(SETTINGS),
    )
    phone = "081" + str(int(new_id()[-10:], 36))[-7:].rjust(7, "1")
    earlier = contact(channel="app", customer=Identity(phone=phone), text="มิเตอร์เสีย")
    (before,) = await screener.screen_many([earlier], at=earlier.received_at)
    assert not isinstance(before, Exception)
    first = contact(channel="phone", customer=Identity(phone=phone, name="สมหญิง"), text="ไฟดับ")
    second = contact(channel="phone", customer=Identity(phone=phone), text="สายเข้า")
    results = await screener.screen_many([earlier, first, second, first], at=earlier.received_at)
    assert not any(isinstance(r, Exception) for r in results)
    again, one, _, one_again = results
    assert again == before  # screened before: the stored copy, not a new one
    assert one == one_again
    assert {r.subject_ref for r in results if not isinstance(r, Exception)} == {before.subject_ref}
    assert await store[pstore.SUBJECTS].count_documents({}) == 1
    assert await store[pstore.CONTACTS].count_documents({}) == 3
