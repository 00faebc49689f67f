"""The callback list: abandoned calls to ring back, and our attempts at it.

An abandoned call is not a complaint, so it opens no case; it becomes a
callback to make. Our outbound calls to the same number (linked by intake's
``callback_number_ref``, never the number itself) are recorded as attempts;
one that talked to the customer closes the callback.
"""

from __future__ import annotations

from typing import Any

from services.routing.cases import callbacks_store
from shared.messages import ContactScreened
from shared.store import Store

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
    return await callbacks_store.insert_callback(store, doc=doc)


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
    return await callbacks_store.add_attempt(
        store,
        number_ref=number_ref,
        entry=entry,
        done_at=message.received_at if reached else None,
    )


async def listing(store: Store, *, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Return callbacks, oldest first (the longest-waiting caller is rung first)."""
    out = []
    for doc in await callbacks_store.callbacks_by_age(store, status=status, limit=limit):
        doc["id"] = doc.pop("_id")
        doc["received_at"] = doc["received_at"].isoformat()
        for item in doc["attempts"]:
            item["at"] = item["at"].isoformat()
        if doc.get("done_at"):
            doc["done_at"] = doc["done_at"].isoformat()
        out.append(doc)
    return out
