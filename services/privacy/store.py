"""Privacy's collections: vaulted subjects, blind indexes, screened contacts, audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from services.privacy.audit import AuditEntry, chain_entry
from shared.errors import Conflict
from shared.store import IndexPlan, Store

SUBJECTS = "subjects"
BLIND = "blind_index"
CONTACTS = "contacts"
AUDIT = "audit"

INDEXES: IndexPlan = {
    BLIND: [IndexModel("subject_ref")],
    CONTACTS: [
        IndexModel("subject_ref"),
        IndexModel("reply_handle", unique=True, sparse=True),
        IndexModel("received_at"),
    ],
    AUDIT: [IndexModel("seq", unique=True), IndexModel("subject_ref")],
}


async def subjects_for(store: Store, indexes: list[str]) -> list[dict[str, Any]]:
    """Return the blind-index entries matching ``indexes``."""
    if not indexes:
        return []
    return [doc async for doc in store[BLIND].find({"_id": {"$in": indexes}})]


async def add_indexes(store: Store, subject_ref: str, indexes: dict[str, str]) -> None:
    """Point each blind index at ``subject_ref`` unless it already points somewhere."""
    for kind, value in indexes.items():
        try:
            await store[BLIND].insert_one({"_id": value, "subject_ref": subject_ref, "kind": kind})
        except DuplicateKeyError:
            continue


async def append_audit(store: Store, *, at: datetime, **fields: Any) -> AuditEntry:
    """Append an entry to the hash-chained audit log (retrying if another writer won)."""
    for _ in range(20):
        last = await store[AUDIT].find_one(sort=[("seq", DESCENDING)])
        prev = (
            AuditEntry.model_validate({k: v for k, v in last.items() if k != "_id"})
            if last
            else None
        )
        entry = chain_entry(prev, at=at, **fields)
        try:
            await store[AUDIT].insert_one({"_id": entry.seq, **entry.model_dump()})
        except DuplicateKeyError:
            continue  # a concurrent writer took this seq: chain onto theirs
        return entry
    raise Conflict("audit log is too busy; try again")


async def audit_entries(store: Store) -> list[AuditEntry]:
    """Return the whole audit log in order."""
    cursor = store[AUDIT].find().sort("seq", ASCENDING)
    return [
        AuditEntry.model_validate({k: v for k, v in d.items() if k != "_id"}) async for d in cursor
    ]
