"""A batch of new cases on the real store: what each case costs beside its own write."""

from __future__ import annotations

import asyncio
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from services.routing.app import Routing
from services.routing.assignment import store as assignment_store
from services.routing.assignment.dispatch import TICKET_BLOCK, read_once
from services.routing.cases import lifecycle, list_store
from services.routing.cases import store as case_store
from services.routing.reports import days as report_days
from services.routing.reports import rollups
from services.routing.reports import store as report_store
from services.routing.reports.days import report_mark
from shared.clock import FrozenClock
from shared.messages import Envelope
from shared.store import Store
from tests.support.routing import (
    RecordingBus,
    case_of,
    indexed_routing,
    routing_for,
    screened,
)
from tests.support.store_commands import server_commands

pytestmark = pytest.mark.integration

NETOPS = "pea-netops"  # round robin over three members in the demo organisation
OUTAGE = "ไฟดับทั้งซอย"


def outages(clock: FrozenClock, count: int) -> list[Envelope]:
    """Return ``count`` LINE reports of an outage, each from a customer of its own."""
    return [Envelope.of(screened(clock, channel="line", text=OUTAGE)) for _ in range(count)]


@pytest.fixture
async def routing(store: Store, tmp_path: Path) -> tuple[Routing, RecordingBus, FrozenClock]:
    return await indexed_routing(store, tmp_path)


async def test_a_batch_writes_its_lane_books_once_and_they_count_every_new_case(
    routing: tuple[Routing, RecordingBus, FrozenClock],
) -> None:
    service, _, clock = routing
    store = service.runtime.store
    envelopes = outages(clock, 10)
    before = await server_commands(store)
    outcomes = await service.contacts.on_contacts_screened(envelopes)
    after = await server_commands(store)
    assert outcomes == [None] * 10
    assert after[list_store.LANES] - before[list_store.LANES] == 1
    # Each lane's book counts what the lane holds, as if written case by case.
    cases = [await case_of(service, e.data["contact_id"]) for e in envelopes]
    lanes = Counter(lane for case in cases for lane in case.stored_lanes["lanes"])
    assert lanes
    assert await list_store.lane_counts(store, lanes) == dict(lanes)
    # Their events wait in the outbox for the relay, woken once as the batch ends.
    assert len(await case_store.pending_outbox(store)) == 10


async def test_round_robin_takes_tickets_by_block_and_still_turns_through_the_members(
    routing: tuple[Routing, RecordingBus, FrozenClock], tmp_path: Path
) -> None:
    service, _, clock = routing
    store = service.runtime.store
    await service.dispatcher.set_online(NETOPS, "netops.suda", online=True, at=clock.now())
    first = await service.dispatcher.choose(NETOPS)  # the counter is created, a block taken
    before = await server_commands(store)
    with read_once():
        # The rest of the first block and one ticket of the next.
        assignees = [await service.dispatcher.choose(NETOPS) for _ in range(TICKET_BLOCK)]
    after = await server_commands(store)
    assignees.insert(0, first)
    # Three members in turn, whatever ticket the first block started at.
    assert len(set(assignees)) == 3
    assert all(a != b for a, b in pairwise(assignees))
    # One more block of tickets, and the members' loads read once.
    assert after[case_store.COUNTERS] - before[case_store.COUNTERS] == 1
    assert after[case_store.CASES] - before[case_store.CASES] == 1
    counter = await store[case_store.COUNTERS].find_one({"_id": f"round-robin-{NETOPS}"})
    assert counter is not None
    assert counter["value"] == 2 * TICKET_BLOCK

    # Chosen side by side, as a batch's customers are: one reading of loads and presence.
    before = await server_commands(store)
    with read_once():
        together = await asyncio.gather(*(service.dispatcher.choose(NETOPS) for _ in range(6)))
    after = await server_commands(store)
    assert sorted(Counter(together).values()) == [2, 2, 2]
    assert after[case_store.CASES] - before[case_store.CASES] == 1
    assert after[assignment_store.PRESENCE] - before[assignment_store.PRESENCE] == 1

    # A second replica takes the next block: the two never hand out one ticket twice.
    other, _ = routing_for(store, clock=clock, tmp_path=tmp_path / "other")
    await other.dispatcher.choose(NETOPS)
    counter = await store[case_store.COUNTERS].find_one({"_id": f"round-robin-{NETOPS}"})
    assert counter is not None
    assert counter["value"] == 3 * TICKET_BLOCK


async def test_routing_drops_the_case_indexes_no_query_uses_and_keeps_the_rest(
    routing: tuple[Routing, RecordingBus, FrozenClock],
) -> None:
    service, _, _ = routing
    cases = service.runtime.store[case_store.CASES]
    # As an older version left them.
    await cases.create_index([("status", 1), ("updated_at", -1)])
    await cases.create_index([("unit", 1), ("status", 1)])
    await cases.create_index([("created_at", -1)])
    planned = set(await cases.index_information())
    assert set(case_store.RETIRED_INDEXES) <= planned

    assert sorted(await case_store.drop_retired_indexes(service.runtime.store)) == sorted(
        case_store.RETIRED_INDEXES
    )
    assert set(await cases.index_information()) == planned - set(case_store.RETIRED_INDEXES)
    assert await case_store.drop_retired_indexes(service.runtime.store) == []


async def test_the_relay_clears_report_marks_in_the_write_that_marks_events_published(
    routing: tuple[Routing, RecordingBus, FrozenClock],
) -> None:
    service, _, clock = routing
    store = service.runtime.store
    envelopes = outages(clock, 4)
    assert await service.contacts.on_contacts_screened(envelopes) == [None] * 4
    cases = [await case_of(service, e.data["contact_id"]) for e in envelopes]
    day = report_mark("pea", cases[0].created_at)[report_days.PENDING]
    assert await report_store.marked_cases(store, keys=[day], limit=0) != []

    # One case is written again after the relay read it: its newer mark stays.
    page = await case_store.pending_outbox(store)
    moved = await service.cases.get_case(cases[0].id)
    lifecycle.unassign(moved, at=clock.now(), reason="back to the queue")
    await service.cases.save_case(moved)
    published = {doc["_id"]: [event["id"] for event in doc["outbox"]] for doc in page}
    before = await server_commands(store)
    await service.cases.mark_published(published, seen=page)
    after = await server_commands(store)

    # The day moved on a generation before any mark went.
    (doc,) = await store[report_store.ROLLUPS].find({"_id": day}).to_list()
    assert (doc["dirty"], doc["gen"]) == (True, 1)
    left = await report_store.marked_cases(store, keys=[day], limit=0)
    assert [mark["_id"] for mark in left] == [moved.id]
    assert left[0]["version"] == moved.version
    # The events read are gone from every outbox; the moved case's new one waits.
    pending = await case_store.pending_outbox(store)
    assert [doc["_id"] for doc in pending] == [moved.id]
    assert {event["id"] for event in pending[0]["outbox"]}.isdisjoint(published[moved.id])
    # One write for the page, one more for the case that moved.
    assert after[case_store.CASES] - before[case_store.CASES] == 2
    # The rollups find only that mark and count every case once.
    assert await rollups.settle(store) == {day}
    tally = await rollups.rebuild(store, [day])
    assert tally[day].cases == 4


async def test_customers_of_a_batch_are_routed_side_by_side_each_in_order(
    routing: tuple[Routing, RecordingBus, FrozenClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, _, clock = routing
    customers = [f"sub_{n}_{clock.now().timestamp()}" for n in range(4)]
    texts = ["ไฟดับทั้งซอย", "ยังดับอยู่", "ตอนนี้ไฟมาแล้ว"]
    messages = [
        screened(clock, channel="line", subject_ref=customer, text=text)
        for text in texts
        for customer in customers
    ]
    inserting = 0
    most = 0
    insert = service.cases.insert_case

    async def counted(case: Any) -> None:
        nonlocal inserting, most
        inserting += 1
        most = max(most, inserting)
        try:
            await insert(case)
        finally:
            inserting -= 1

    monkeypatch.setattr(service.cases, "insert_case", counted)
    outcomes = await service.contacts.on_contacts_screened([Envelope.of(m) for m in messages])
    assert outcomes == [None] * len(messages)
    assert most > 1  # the four new cases were written side by side
    for customer in customers:
        own = [m.contact_id for m in messages if m.subject_ref == customer]
        case = await case_of(service, own[0])
        # Each customer's contacts joined their one case in the order they came.
        assert [c.contact_id for c in case.contacts] == own
