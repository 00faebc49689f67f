"""Privacy's audit chain on the real store: a head document, batched appends, no gaps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from services.privacy import store as privacy_store
from services.privacy.audit import chain_entry, verify_chain
from shared.ids import new_id
from shared.store import Store

pytestmark = pytest.mark.integration


class Commands(monitoring.CommandListener):
    """Record the commands a client sends."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.seen.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def watched(mongo_url: str) -> AsyncIterator[tuple[Store, Commands]]:
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, tz_aware=True, event_listeners=[commands]
    )
    store = Store(client, f"test_{new_id().lower()}")
    await store.ensure_indexes(privacy_store.INDEXES)
    yield store, commands
    await client.drop_database(store.db.name)
    await client.close()


async def _append(store: Store, n: int) -> None:
    await privacy_store.append_audit(
        store,
        at=datetime.now(UTC),
        actor=f"agent{n}",
        role="agent",
        action="reveal",
        subject_ref="sub_x",
        purpose="handle_case",
        reason="call back about the outage",
    )


async def test_an_append_is_one_insert_and_one_head_move(
    watched: tuple[Store, Commands],
) -> None:
    store, commands = watched
    for n in range(30):
        await _append(store, n)
    commands.seen.clear()
    await _append(store, 30)
    # The writer knows the head it moved last: one insert and one head move.
    assert [name for name, _ in commands.seen] == ["insert", "update"]
    entries = await privacy_store.audit_entries(store)
    assert [e.seq for e in entries] == list(range(1, 32))
    assert verify_chain(entries).ok


async def test_concurrent_appends_make_one_unbroken_chain(watched: tuple[Store, Commands]) -> None:
    store, _ = watched
    await asyncio.gather(*(_append(store, n) for n in range(12)))
    entries = await privacy_store.audit_entries(store)
    assert [e.seq for e in entries] == list(range(1, 13))
    assert verify_chain(entries).ok


async def test_an_append_that_died_before_moving_the_head_is_chained_onto(
    watched: tuple[Store, Commands],
) -> None:
    store, _ = watched
    await _append(store, 1)
    (first,) = await privacy_store.audit_entries(store)
    orphan = chain_entry(first, at=datetime.now(UTC), actor="a", role="agent", action="erase")
    await store[privacy_store.AUDIT].insert_one({"_id": orphan.seq, **orphan.model_dump()})
    await _append(store, 3)
    entries = await privacy_store.audit_entries(store)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert verify_chain(entries).ok


async def test_concurrent_appends_are_written_together_in_few_round_trips(
    watched: tuple[Store, Commands],
) -> None:
    # Forty handlers auditing at once must not race each other for the next
    # seq (each loser re-reading the head): they are committed in batches.
    store, commands = watched
    await _append(store, 0)
    commands.seen.clear()
    await asyncio.gather(*(_append(store, n) for n in range(1, 41)))
    assert len(commands.seen) <= 12, [name for name, _ in commands.seen]
    entries = await privacy_store.audit_entries(store)
    assert [e.seq for e in entries] == list(range(1, 42))
    assert verify_chain(entries).ok


async def test_two_processes_appending_at_once_make_one_unbroken_chain(
    watched: tuple[Store, Commands], mongo_url: str
) -> None:
    # A second replica of privacy: its own client, the same database.
    store, _ = watched
    other_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    other = Store(other_client, store.db.name)
    try:
        await asyncio.gather(
            *(_append(store, n) for n in range(15)),
            *(_append(other, 100 + n) for n in range(15)),
        )
        await _append(store, 50)
    finally:
        await other_client.close()
    entries = await privacy_store.audit_entries(store)
    assert [e.seq for e in entries] == list(range(1, 32))
    assert sorted(e.actor for e in entries) == sorted(
        [f"agent{n}" for n in range(15)] + [f"agent{100 + n}" for n in range(15)] + ["agent50"]
    )
    assert verify_chain(entries).ok
