"""Routing under duplicate deliveries: one contact joins one case once, on the real store."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from services.routing.app import INDEXES, Routing
from services.routing.cases import lifecycle
from services.routing.cases import store as case_store
from shared.clock import BANGKOK, FrozenClock
from shared.messages import Envelope
from shared.store import Store
from tests.support.routing import RecordingBus, deliver, routing_for, screened

pytestmark = pytest.mark.integration

MORNING = datetime(2026, 3, 3, 9, 0, tzinfo=BANGKOK)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MORNING)


@pytest.fixture
async def routing(store: Store, clock: FrozenClock, tmp_path: Path) -> tuple[Routing, RecordingBus]:
    await store.ensure_indexes(INDEXES)
    return routing_for(store, clock=clock, tmp_path=tmp_path)


async def _holding(store: Store, contact_id: str) -> list[str]:
    """Return the id of each case entry that holds ``contact_id`` (a case twice if held twice)."""
    found = []
    async for doc in store[case_store.CASES].find({"contacts.contact_id": contact_id}):
        found += [doc["_id"] for c in doc["contacts"] if c["contact_id"] == contact_id]
    return found


async def test_duplicate_delivery_racing_the_first_does_not_join_the_contact_twice(
    routing: tuple[Routing, RecordingBus],
    clock: FrozenClock,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service, _ = routing
    first = screened(clock, channel="line", text="ไฟดับทั้งซอย")
    await deliver(service, first)
    clock.advance(timedelta(minutes=1))

    # The second delivery (another envelope of the same contact) looked for the
    # contact before the first delivery's case was written, so it finds the
    # customer's open case and decides to join it.
    async def not_yet(*_: object) -> None:
        return None

    monkeypatch.setattr(case_store, "find_by_contact", not_yet)
    await deliver(service, first)
    assert len(await _holding(store, first.contact_id)) == 1


async def test_the_case_write_refuses_a_contact_the_stored_case_already_holds(
    routing: tuple[Routing, RecordingBus], clock: FrozenClock, store: Store
) -> None:
    service, _ = routing
    first = screened(clock, channel="line", text="ไฟดับทั้งซอย")
    await deliver(service, first)
    (case_id,) = await _holding(store, first.contact_id)
    follow_up = screened(clock, channel="line", subject_ref=first.subject_ref, text="ยังดับอยู่")
    case = await case_store.get_case(store, case_id)
    # Another writer added the contact to the stored case without this copy seeing it.
    stored = await store[case_store.CASES].find_one({"_id": case_id})
    assert stored is not None
    entry = {**stored["contacts"][0], "contact_id": follow_up.contact_id}
    await store[case_store.CASES].update_one({"_id": case_id}, {"$push": {"contacts": entry}})

    lifecycle.add_contact(
        case,
        follow_up,
        at=clock.now(),
        joined_by="test",
        sla=service.contacts._sla,
        causation=Envelope.of(follow_up),
    )
    with pytest.raises(case_store.DuplicateContact):
        await case_store.save_case(store, case)
    assert len(await _holding(store, follow_up.contact_id)) == 1
