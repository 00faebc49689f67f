"""Screened contacts (masked copy, sealed clear part, reply handle) and identity conflicts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from pymongo.errors import BulkWriteError

from services.privacy.store.collections import BLIND, CONFLICTS, CONTACTS, SUBJECTS
from shared.store import Store

DUPLICATE_KEY = 11000


async def contact_doc(store: Store, contact_id: str) -> dict[str, Any] | None:
    """Return the screened contact ``contact_id``, or None if privacy has not screened it."""
    return await store[CONTACTS].find_one({"_id": contact_id})


async def insert_contacts(store: Store, docs: Sequence[dict[str, Any]]) -> set[str]:
    """Store screened contacts in one write; return the ids stored (not those stored before)."""
    if not docs:
        return set()
    ids = [str(doc["_id"]) for doc in docs]
    try:
        await store[CONTACTS].insert_many(list(docs), ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        return set(ids) - {ids[int(error["index"])] for error in errors}
    return set(ids)


async def contacts_by_id(store: Store, contact_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Return the screened contacts among ``contact_ids``, by id."""
    cursor = store[CONTACTS].find({"_id": {"$in": list(contact_ids)}})
    return {doc["_id"]: doc async for doc in cursor}


async def screened_and_known(
    store: Store, contact_ids: Sequence[str], indexes: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Return the contacts among ``contact_ids`` screened before and the entries of ``indexes``.

    One read for a batch (``$unionWith``): the contacts by id, and the
    blind-index entries, each with the subject document it points at under
    ``subject`` (None if there is none).
    """
    cursor = await store[CONTACTS].aggregate(
        [
            {"$match": {"_id": {"$in": list(dict.fromkeys(contact_ids))}}},
            {
                "$unionWith": {
                    "coll": BLIND,
                    "pipeline": [
                        {"$match": {"_id": {"$in": list(dict.fromkeys(indexes))}}},
                        {
                            "$lookup": {
                                "from": SUBJECTS,
                                "localField": "subject_ref",
                                "foreignField": "_id",
                                "as": "_subject",
                            }
                        },
                        {"$addFields": {"_entry": True}},
                    ],
                }
            },
        ]
    )
    screened: dict[str, dict[str, Any]] = {}
    entries: list[dict[str, Any]] = []
    async for doc in cursor:
        if doc.pop("_entry", False):
            subjects = doc.pop("_subject", None) or [None]
            entries.append({**doc, "subject": subjects[0]})
        else:
            screened[str(doc["_id"])] = doc
    return screened, entries


async def by_reply_handles(
    store: Store, handles: Sequence[str]
) -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
    """Return, by reply handle, each contact with its customer's subject document (one read).

    The subject is joined in the same command (``$lookup``), so the sealed
    part and the key that opens it are read together; None if it is missing.
    """
    if not handles:
        return {}
    cursor = await store[CONTACTS].aggregate(
        [
            {"$match": {"reply_handle": {"$in": list(dict.fromkeys(handles))}}},
            {
                "$lookup": {
                    "from": SUBJECTS,
                    "localField": "subject_ref",
                    "foreignField": "_id",
                    "as": "_subject",
                }
            },
        ]
    )
    found: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}
    async for doc in cursor:
        subjects = doc.pop("_subject", None) or [None]
        found[str(doc["reply_handle"])] = (doc, subjects[0])
    return found


async def contacts_of(store: Store, subject_ref: str) -> AsyncIterator[dict[str, Any]]:
    """Yield the customer's contacts, oldest first."""
    async for doc in store[CONTACTS].find({"subject_ref": subject_ref}).sort("received_at"):
        yield doc


async def count_contacts(store: Store, subject_ref: str) -> int:
    """Return how many contacts privacy holds of the customer."""
    return await store[CONTACTS].count_documents({"subject_ref": subject_ref})


async def strip_contacts(store: Store, contact_ids: list[str], *, at: datetime) -> int:
    """Remove the sealed clear part of ``contact_ids``; return how many still had one."""
    result = await store[CONTACTS].update_many(
        {"_id": {"$in": contact_ids}, "vault": {"$ne": None}},
        {"$unset": {"vault": ""}, "$set": {"purged_at": at}},
    )
    return result.modified_count


async def strip_subject_contacts(store: Store, subject_ref: str, *, at: datetime) -> None:
    """Remove the sealed clear part of every contact of the customer."""
    await store[CONTACTS].update_many(
        {"subject_ref": subject_ref, "vault": {"$ne": None}},
        {"$unset": {"vault": ""}, "$set": {"purged_at": at}},
    )


async def record_conflict(
    store: Store,
    contact_id: str,
    *,
    subject_refs: list[str],
    matches: list[dict[str, str]],
    channel: str,
    at: datetime,
) -> None:
    """Record, once per contact, that its identifiers point at different customers."""
    await store[CONFLICTS].update_one(
        {"_id": contact_id},
        {
            "$setOnInsert": {
                "subject_refs": subject_refs,
                "matches": matches,
                "channel": channel,
                "at": at,
                "resolved": False,
            }
        },
        upsert=True,
    )
