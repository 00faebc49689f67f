"""The callback list: abandoned calls to ring back, and our attempts at it.

An abandoned call is not a complaint, so it opens no case; it becomes a
callback to make. Our outbound calls to the same number (linked by intake's
``callback_number_ref``, never the number itself) are recorded as attempts;
one that talked to the customer closes the callback.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from shared.messages import ContactScreened
from shared.store import IndexPlan, Store

CALLBACKS = "callbacks"
INDEXES: IndexPlan = {
    CALLBACKS: [
        IndexModel([("status", ASCENDING), ("received_at", ASCENDING)]),
        IndexModel([("number_ref", ASCENDING), ("received_at", DESCENDING)]),
        IndexModel("attempts.contact_id", sparse=True),
    ]
}
_META = ("queue", "ivr_path", "topic_hint", "hotline", "duration_s", "cause")


async def add(store: Store, message: ContactScreened) -> bool:
    """Put an abandoned call on the list once; return False if it was there already."""
    doc: dict[str, Any] = {
        "_id": message.contact_id,
        "org": message.org,
        "status": "open",
        "received_at": message.received_at,
        "subject_ref": message.subject_ref,
        "number_ref": message.meta.get("callback_number_ref"),
        "attempts": [],
        **{key: message.meta.get(key) for key in _META},
    }
    try:
        await store[CALLBACKS].insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


async def attempt(store: Store, message: ContactScreened) -> bool:
    """Record our callback call on the open callback of the same number; False if none matches."""
    number_ref = message.meta.get("callback_number_ref")
    if not number_ref:
        return False
    talk = message.meta.get("talk_s")
    reached = isinstance(talk, int | float) and talk > 0
    entry = {
        "contact_id": message.contact_id,
        "at": message.received_at,
        "cause": message.meta.get("cause"),
        "agent": message.meta.get("agent"),
        "reached": reached,
    }
    update: dict[str, Any] = {"$push": {"attempts": entry}}
    if reached:
        update["$set"] = {"status": "done", "done_at": message.received_at}
    result = await store[CALLBACKS].find_one_and_update(
        # The contact-id condition makes a redelivered attempt change nothing.
        {
            "number_ref": number_ref,
            "status": "open",
            "attempts.contact_id": {"$ne": message.contact_id},
        },
        update,
        sort=[("received_at", DESCENDING)],
    )
    return result is not None


async def listing(store: Store, *, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Return callbacks, oldest first (the longest-waiting caller is rung first)."""
    query = {"status": status} if status else {}
    cursor = store[CALLBACKS].find(query).sort("received_at", ASCENDING).limit(limit)
    out = []
    async for doc in cursor:
        doc["id"] = doc.pop("_id")
        doc["received_at"] = doc["received_at"].isoformat()
        for item in doc["attempts"]:
            item["at"] = item["at"].isoformat()
        if doc.get("done_at"):
            doc["done_at"] = doc["done_at"].isoformat()
        out.append(doc)
    return out
