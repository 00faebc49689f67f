"""What retention asks of the store: a closed case's contacts, customers no longer in use."""

from __future__ import annotations

from datetime import datetime

from services.privacy.store.collections import CONTACTS, SUBJECTS
from shared.store import Store


async def note_closed_case(
    store: Store, contact_ids: list[str], *, case_id: str, number: str
) -> None:
    """Tie untied ``contact_ids`` to their closed case and note its number on them."""
    contacts = store[CONTACTS]
    # Remember which case the contacts formed: exports name it.
    await contacts.update_many(
        {"_id": {"$in": contact_ids}, "case_id": None}, {"$set": {"case_id": case_id}}
    )
    await contacts.update_many(
        {"_id": {"$in": contact_ids}, "case_id": case_id},
        {"$set": {"case_number": number}},
    )


async def sealed_subjects(store: Store, contact_ids: list[str]) -> list[str]:
    """Return, sorted, the customers of those ``contact_ids`` still holding clear text."""
    sealed = store[CONTACTS].find(
        {"_id": {"$in": contact_ids}, "vault": {"$ne": None}}, {"subject_ref": 1}
    )
    return sorted({doc["subject_ref"] async for doc in sealed})


async def unused_subjects(store: Store, *, updated_before: datetime) -> list[str]:
    """Return the customers holding a data key, last seen no later than ``updated_before``."""
    stale = store[SUBJECTS].find(
        {"data_key": {"$ne": None}, "updated_at": {"$lte": updated_before}},
        {"_id": 1},
    )
    return [doc["_id"] async for doc in stale]


async def sealed_contact_count(store: Store, subject_ref: str) -> int:
    """Return how many of the customer's contacts still hold clear text."""
    return await store[CONTACTS].count_documents(
        {"subject_ref": subject_ref, "vault": {"$ne": None}}
    )
