"""Customers: their subject documents (data key, sealed identity) and their blind indexes.

A blind index points at the one customer it was first seen with; a name index
may point at many. Erasing a customer clears its key and identity and deletes
its indexes (``services/privacy/vaulting.py`` decides when).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.privacy.identifiers import IdentifierKind
from services.privacy.store.collections import BLIND, NAMES, SUBJECTS
from shared.store import Store


async def subjects_for(store: Store, indexes: list[str]) -> list[dict[str, Any]]:
    """Return the blind-index entries matching ``indexes``."""
    if not indexes:
        return []
    return [doc async for doc in store[BLIND].find({"_id": {"$in": indexes}})]


async def add_name_index(store: Store, subject_ref: str, index: str) -> None:
    """Record that the customer ``subject_ref`` gave a name with ``index``."""
    await store[NAMES].update_one(
        {"_id": f"{index}:{subject_ref}"},
        {"$setOnInsert": {"index": index, "subject_ref": subject_ref}},
        upsert=True,
    )


async def subjects_named(store: Store, index: str, *, limit: int) -> list[str]:
    """Return the customers who gave a name with ``index``."""
    cursor = store[NAMES].find({"index": index}, {"subject_ref": 1}).limit(limit)
    return [str(doc["subject_ref"]) async for doc in cursor]


async def add_indexes(
    store: Store, subject_ref: str, indexes: Mapping[IdentifierKind, str]
) -> None:
    """Point each blind index at ``subject_ref`` unless it already points somewhere."""
    for kind, value in indexes.items():
        try:
            await store[BLIND].insert_one({"_id": value, "subject_ref": subject_ref, "kind": kind})
        except DuplicateKeyError:
            continue


async def identifier_kinds(store: Store, subject_ref: str) -> list[str]:
    """Return the kinds of identifier the customer is known by, sorted."""
    cursor = store[BLIND].find({"subject_ref": subject_ref}, {"kind": 1})
    return sorted({doc["kind"] async for doc in cursor})


async def drop_indexes(store: Store, subject_ref: str) -> None:
    """Delete the customer's blind indexes and name indexes."""
    await store[BLIND].delete_many({"subject_ref": subject_ref})
    await store[NAMES].delete_many({"subject_ref": subject_ref})


async def insert_subject(
    store: Store,
    subject_ref: str,
    *,
    data_key: dict[str, Any],
    identity: dict[str, Any] | None = None,
    at: datetime,
) -> None:
    """Create the customer ``subject_ref`` with its wrapped data key and sealed identity."""
    await store[SUBJECTS].insert_one(
        {
            "_id": subject_ref,
            "data_key": data_key,
            "identity": identity,
            "created_at": at,
            "updated_at": at,
        }
    )


async def subject_doc(store: Store, subject_ref: str) -> dict[str, Any] | None:
    """Return the customer's subject document, or None if there is none."""
    return await store[SUBJECTS].find_one({"_id": subject_ref})


async def subject_exists(store: Store, subject_ref: str) -> bool:
    """Return True if privacy knows the customer ``subject_ref`` (erased or not)."""
    return await store[SUBJECTS].find_one({"_id": subject_ref}, {"_id": 1}) is not None


async def living(store: Store, subject_refs: set[str]) -> set[str]:
    """Return those of ``subject_refs`` that still have their data key."""
    if not subject_refs:
        return set()
    cursor = store[SUBJECTS].find(
        {"_id": {"$in": sorted(subject_refs)}, "data_key": {"$ne": None}}, {"_id": 1}
    )
    return {doc["_id"] async for doc in cursor}


async def set_identity(
    store: Store, subject_ref: str, *, identity: dict[str, Any], at: datetime
) -> None:
    """Replace the sealed identity of a customer who still has their data key."""
    await store[SUBJECTS].update_one(
        {"_id": subject_ref, "data_key": {"$ne": None}},
        {"$set": {"identity": identity, "updated_at": at}},
    )


async def erase_subject(store: Store, subject_ref: str, *, at: datetime) -> bool:
    """Clear the customer's data key and identity; return False if they were gone already."""
    result = await store[SUBJECTS].update_one(
        {"_id": subject_ref, "data_key": {"$ne": None}},
        {"$set": {"data_key": None, "identity": None, "erased_at": at, "updated_at": at}},
    )
    return result.modified_count == 1


async def data_keys(store: Store) -> AsyncIterator[dict[str, Any]]:
    """Yield every customer's id and wrapped data key (None once erased)."""
    async for doc in store[SUBJECTS].find({}, {"data_key": 1}):
        yield doc


async def replace_data_key(
    store: Store, subject_ref: str, *, wrapped_as: str, fresh: dict[str, Any]
) -> int:
    """Store ``fresh`` as the data key if it is still wrapped as ``wrapped_as``; return 1 if so."""
    # Conditional on the old wrapping: an erasure or another rotation that
    # got there first wins, and this one leaves the document alone.
    result = await store[SUBJECTS].update_one(
        {"_id": subject_ref, "data_key.ciphertext": wrapped_as},
        {"$set": {"data_key": fresh}},
    )
    return result.modified_count
