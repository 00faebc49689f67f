"""Customers: their subject documents (data key, sealed identity) and their blind indexes.

A blind index points at the one customer it was first seen with; a name index
may point at many. Erasing a customer clears its key and identity and deletes
its indexes (``services/privacy/vaulting.py`` decides when).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from services.privacy.store.collections import BLIND, NAMES, SUBJECTS
from shared.store import Store

_DUPLICATE_KEY = 11000


async def subjects_for(store: Store, indexes: list[str]) -> list[dict[str, Any]]:
    """Return the blind-index entries matching ``indexes``."""
    if not indexes:
        return []
    return [doc async for doc in store[BLIND].find({"_id": {"$in": indexes}})]


async def subjects_named(store: Store, index: str, *, limit: int) -> list[str]:
    """Return the customers who gave a name with ``index``."""
    cursor = store[NAMES].find({"index": index}, {"subject_ref": 1}).limit(limit)
    return [str(doc["subject_ref"]) async for doc in cursor]


async def add_index_entries(store: Store, entries: Sequence[Mapping[str, str]]) -> set[str]:
    """Insert blind-index entries (``_id``, ``subject_ref``, ``kind``) in one write.

    Return the indexes that already pointed somewhere (another writer got
    there first); the others were stored.
    """
    if not entries:
        return set()
    ids = [str(entry["_id"]) for entry in entries]
    try:
        await store[BLIND].insert_many([dict(entry) for entry in entries], ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != _DUPLICATE_KEY for error in errors):
            raise
        return {ids[int(error["index"])] for error in errors}
    return set()


async def repoint_indexes(store: Store, indexes: Sequence[str], *, old: str, new: str) -> None:
    """Point those of ``indexes`` that point at ``old`` at ``new`` instead."""
    if indexes:
        await store[BLIND].update_many(
            {"_id": {"$in": list(indexes)}, "subject_ref": old}, {"$set": {"subject_ref": new}}
        )


async def add_name_indexes(store: Store, pairs: Sequence[tuple[str, str]]) -> None:
    """Record each (name index, customer) pair in one write; pairs held already stay."""
    docs = {
        f"{index}:{subject_ref}": {"index": index, "subject_ref": subject_ref}
        for index, subject_ref in pairs
    }
    if not docs:
        return
    try:
        await store[NAMES].insert_many(
            [{"_id": key, **doc} for key, doc in docs.items()], ordered=False
        )
    except BulkWriteError as exc:
        if any(e.get("code") != _DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
            raise


async def identifier_kinds(store: Store, subject_ref: str) -> list[str]:
    """Return the kinds of identifier the customer is known by, sorted."""
    cursor = store[BLIND].find({"subject_ref": subject_ref}, {"kind": 1})
    return sorted({doc["kind"] async for doc in cursor})


async def drop_indexes(store: Store, subject_ref: str) -> None:
    """Delete the customer's blind indexes and name indexes."""
    await store[BLIND].delete_many({"subject_ref": subject_ref})
    await store[NAMES].delete_many({"subject_ref": subject_ref})


async def insert_subjects(store: Store, docs: Sequence[Mapping[str, Any]]) -> None:
    """Create customers (``_id``, ``data_key``, ``identity``, times) in one write."""
    if docs:
        await store[SUBJECTS].insert_many([dict(doc) for doc in docs], ordered=False)


async def delete_subjects(store: Store, subject_refs: Sequence[str]) -> None:
    """Delete customers created for nothing: nothing points at them."""
    if subject_refs:
        await store[SUBJECTS].delete_many({"_id": {"$in": list(subject_refs)}})


async def subject_docs(store: Store, subject_refs: set[str]) -> dict[str, dict[str, Any]]:
    """Return the subject documents of ``subject_refs`` there are (erased ones too), by id."""
    if not subject_refs:
        return {}
    cursor = store[SUBJECTS].find({"_id": {"$in": sorted(subject_refs)}})
    return {str(doc["_id"]): doc async for doc in cursor}


async def subject_doc(store: Store, subject_ref: str) -> dict[str, Any] | None:
    """Return the customer's subject document, or None if there is none."""
    return await store[SUBJECTS].find_one({"_id": subject_ref})


async def subject_exists(store: Store, subject_ref: str) -> bool:
    """Return True if privacy knows the customer ``subject_ref`` (erased or not)."""
    return await store[SUBJECTS].find_one({"_id": subject_ref}, {"_id": 1}) is not None


async def set_identities(
    store: Store, identities: Mapping[str, dict[str, Any]], *, at: datetime
) -> None:
    """Replace the sealed identities of customers who still have their data key (one write)."""
    if not identities:
        return
    await store[SUBJECTS].bulk_write(
        [
            UpdateOne(
                {"_id": subject_ref, "data_key": {"$ne": None}},
                {"$set": {"identity": identity, "updated_at": at}},
            )
            for subject_ref, identity in identities.items()
        ],
        ordered=False,
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
