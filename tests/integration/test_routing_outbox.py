"""The outbox on the real store: a case change and its events are one write; none is lost."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from services.routing.app import INDEXES
from shared.clock import BANGKOK, FrozenClock
from shared.errors import BusUnavailable
from shared.store import Store
from tests.support.routing import RecordingBus, case_of, deliver, routing_for, screened

pytestmark = pytest.mark.integration

MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)


async def test_events_written_while_the_broker_is_down_are_published_after_a_restart(
    store: Store, tmp_path: Path
) -> None:
    await store.ensure_indexes(INDEXES)
    clock = FrozenClock(MORNING)
    down = RecordingBus(failing=True)
    before_crash, _ = routing_for(store, clock=clock, tmp_path=tmp_path, bus=down)
    message = screened(clock, text="ไฟดับ")

    await deliver(before_crash, message)
    with pytest.raises(BusUnavailable):
        await before_crash.relay.relay_once()

    stored = await store["cases"].find_one({"contacts.contact_id": message.contact_id})
    assert stored is not None
    # The case and its events were written together, and nothing left the building.
    assert [e["data"]["seq"] for e in stored["outbox"]] == [e["seq"] for e in stored["timeline"]]
    assert down.published == []

    # The process dies here; a new one starts with the broker back and relays what was left.
    up = RecordingBus()
    after_restart, _ = routing_for(store, clock=clock, tmp_path=tmp_path, bus=up)
    assert await after_restart.relay.relay_once() == 2

    case = await case_of(after_restart, message.contact_id)
    assert up.types(case.id) == ["case.opened", "case.routed"]
    assert up.published[1].routing_key == f"case.routed.{case.unit}"
    assert await after_restart.relay.relay_once() == 0  # published once, then forgotten
    stored = await store["cases"].find_one({"_id": case.id})
    assert stored is not None
    assert stored["outbox"] == []


async def test_a_relay_that_fails_half_way_keeps_the_rest_in_order(
    store: Store, tmp_path: Path
) -> None:
    await store.ensure_indexes(INDEXES)
    clock = FrozenClock(MORNING)
    bus = RecordingBus()
    routing, _ = routing_for(store, clock=clock, tmp_path=tmp_path, bus=bus)
    first = screened(clock, channel="line", text="ไฟดับ")
    await deliver(routing, first)
    await deliver(routing, screened(clock, channel="line", subject_ref=first.subject_ref))

    original = bus.publish
    sent = 0

    async def flaky(envelope: object) -> None:
        nonlocal sent
        if sent == 1:
            raise BusUnavailable("broker went away (test)")
        sent += 1
        await original(envelope)  # type: ignore[arg-type]

    bus.publish = flaky  # type: ignore[method-assign]
    with pytest.raises(BusUnavailable):
        await routing.relay.relay_once()
    bus.publish = original  # type: ignore[method-assign]
    await routing.relay.relay_once()

    assert [e.data["seq"] for e in bus.published] == [1, 2, 3]


async def test_a_relay_pass_marks_a_page_of_cases_published_in_one_write(
    store: Store, tmp_path: Path
) -> None:
    await store.ensure_indexes(INDEXES)
    clock = FrozenClock(MORNING)
    down = RecordingBus(failing=True)
    routing, _ = routing_for(store, clock=clock, tmp_path=tmp_path, bus=down)
    for n in range(6):
        await deliver(routing, screened(clock, text=f"ไฟดับ ซอย {n}"))
    with pytest.raises(BusUnavailable):
        await routing.relay.relay_once()

    writes: list[str] = []
    cases = store["cases"]
    original = cases.bulk_write, cases.update_one

    class Counting:
        """The cases collection, counting the writes that clear outboxes."""

        def __getattr__(self, name: str) -> object:
            return getattr(cases, name)

        async def bulk_write(self, requests: list[object], **kwargs: object) -> object:
            writes.append(f"bulk_write of {len(requests)}")
            return await original[0](requests, **kwargs)  # type: ignore[arg-type]

        async def update_one(self, *args: object, **kwargs: object) -> object:
            writes.append("update_one")
            return await original[1](*args, **kwargs)  # type: ignore[arg-type]

    class Watched(Store):
        def __getitem__(self, collection: str) -> object:  # type: ignore[override]
            found = super().__getitem__(collection)
            return Counting() if collection == "cases" else found

    up = RecordingBus()
    after, _ = routing_for(
        Watched(store.client, store.db.name), clock=clock, tmp_path=tmp_path, bus=up
    )
    assert await after.relay.relay_once() == 12
    assert writes == ["bulk_write of 6"]
    assert await store["cases"].count_documents({"outbox.id": {"$exists": True}}) == 0
