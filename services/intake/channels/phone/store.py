"""The phone calls: every query of ``calls``, one document per call id with its events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import IndexModel
from pymongo.errors import DuplicateKeyError

from shared.store import IndexPlan, Store

CALLS = "calls"
INDEXES: IndexPlan = {CALLS: [IndexModel("updated_at"), IndexModel("contact_id")]}


async def add_event(
    store: Store, *, call_id: str, key: str, event: dict[str, Any], pbx: str, at: datetime
) -> bool:
    """Add an event to its call unless the call holds ``key`` already; return True if added."""
    unseen = {"_id": call_id, "events.key": {"$ne": key}}
    push = {
        "$push": {"events": {"key": key, "event": event, "pbx": pbx, "received_at": at}},
        "$set": {"updated_at": at},
        "$setOnInsert": {"created_at": at},
    }
    try:
        await store[CALLS].update_one(unseen, push, upsert=True)
    except DuplicateKeyError:
        # The call exists: either it holds this event already, or another
        # request created it a moment ago and this event still has to go in.
        result = await store[CALLS].update_one(unseen, push)
        return result.modified_count == 1
    return True


async def remove_event(store: Store, *, call_id: str, key: str) -> None:
    """Remove the event ``key`` from its call."""
    await store[CALLS].update_one({"_id": call_id}, {"$pull": {"events": {"key": key}}})


async def find_call(store: Store, *, call_id: str) -> dict[str, Any] | None:
    """Return the call ``call_id`` with its events, or None."""
    return await store[CALLS].find_one({"_id": call_id})


async def save_record(store: Store, *, call_id: str, record: dict[str, Any]) -> None:
    """Store the record folded from the call's events."""
    await store[CALLS].update_one({"_id": call_id}, {"$set": {"record": record}})


async def set_contact(store: Store, *, call_id: str, contact_id: str) -> None:
    """Record the contact the call was published as."""
    await store[CALLS].update_one({"_id": call_id}, {"$set": {"contact_id": contact_id}})
