"""The callbacks collection: one document per abandoned call, with our attempts to ring back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from shared.store import IndexPlan, Store

CALLBACKS = "callbacks"
INDEXES: IndexPlan = {
    CALLBACKS: [
        IndexModel([("status", ASCENDING), ("received_at", ASCENDING)]),
        IndexModel([("number_ref", ASCENDING), ("received_at", DESCENDING)]),
        IndexModel("attempts.contact_id", sparse=True),
    ]
}


async def insert_callback(store: Store, *, doc: dict[str, Any]) -> bool:
    """Insert a callback; return False if one with its ``_id`` is there already."""
    try:
        await store[CALLBACKS].insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


async def add_attempt(
    store: Store,
    *,
    number_ref: str | int | float,
    entry: dict[str, Any],
    done_at: datetime | None,
) -> bool:
    """Push ``entry`` onto the newest open callback of ``number_ref`` (closing it at ``done_at``).

    Return False if no open callback of the number is without this attempt's contact.
    """
    update: dict[str, Any] = {"$push": {"attempts": entry}}
    if done_at is not None:
        update["$set"] = {"status": "done", "done_at": done_at}
    result = await store[CALLBACKS].find_one_and_update(
        # The contact-id condition makes a redelivered attempt change nothing.
        {
            "number_ref": number_ref,
            "status": "open",
            "attempts.contact_id": {"$ne": entry["contact_id"]},
        },
        update,
        sort=[("received_at", DESCENDING)],
    )
    return result is not None


async def callbacks_by_age(store: Store, *, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Return callbacks (of ``status``, if given) as stored, oldest first."""
    query = {"status": status} if status else {}
    cursor = store[CALLBACKS].find(query).sort("received_at", ASCENDING).limit(limit)
    return [doc async for doc in cursor]
