"""Privacy's collections: vaulted subjects, blind indexes, screened contacts, consent, audit log."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from services.privacy.audit import AuditEntry, chain_entry
from services.privacy.identifiers import IdentifierKind
from services.privacy.masking import mask
from shared.errors import Conflict
from shared.store import IndexPlan, Store

SUBJECTS = "subjects"
BLIND = "blind_index"
CONTACTS = "contacts"
CONSENTS = "consents"
CONFLICTS = "identity_conflicts"
AUDIT = "audit"
# One document: the seq and hash of the newest audit entry.
AUDIT_HEAD = "audit_head"
HEAD_ID = "head"

INDEXES: IndexPlan = {
    SUBJECTS: [IndexModel("updated_at")],
    BLIND: [IndexModel("subject_ref")],
    CONTACTS: [
        IndexModel("subject_ref"),
        IndexModel("reply_handle", unique=True, sparse=True),
        IndexModel("received_at"),
        IndexModel("case_id"),
    ],
    # The relay looks for records with messages still to publish.
    CONSENTS: [IndexModel("subject_refs"), IndexModel("pending")],
    CONFLICTS: [IndexModel("subject_refs")],
    AUDIT: [
        IndexModel("seq", unique=True),
        IndexModel("subject_ref"),
        IndexModel("case_id"),
    ],
}


async def subjects_for(store: Store, indexes: list[str]) -> list[dict[str, Any]]:
    """Return the blind-index entries matching ``indexes``."""
    if not indexes:
        return []
    return [doc async for doc in store[BLIND].find({"_id": {"$in": indexes}})]


async def add_indexes(
    store: Store, subject_ref: str, indexes: Mapping[IdentifierKind, str]
) -> None:
    """Point each blind index at ``subject_ref`` unless it already points somewhere."""
    for kind, value in indexes.items():
        try:
            await store[BLIND].insert_one({"_id": value, "subject_ref": subject_ref, "kind": kind})
        except DuplicateKeyError:
            continue


async def append_audit(store: Store, *, at: datetime, **fields: Any) -> AuditEntry:
    """Append an entry to the hash-chained audit log (retrying if another writer won).

    The chain's head (last seq and hash) is one document, so an append is two
    point writes whatever the log's size: insert the entry under the next seq
    (unique ``_id``), then move the head on with a compare-and-set. A writer
    that died between the two leaves the head one behind; the next append finds
    the entry under that seq and moves the head on for it.
    """
    # Reasons are typed by people and may quote the customer: the log keeps them masked.
    if fields.get("reason"):
        fields["reason"] = mask(str(fields["reason"]))
    for _ in range(50):
        prev = await _audit_head(store)
        entry = chain_entry(prev, at=at, **fields)
        try:
            await store[AUDIT].insert_one({"_id": entry.seq, **entry.model_dump()})
        except DuplicateKeyError:
            taken = await store[AUDIT].find_one({"_id": entry.seq})
            if taken is not None:
                await _advance_head(store, prev, _entry(taken))
            continue  # a concurrent writer took this seq: chain onto theirs
        await _advance_head(store, prev, entry)
        return entry
    raise Conflict("audit log is too busy; try again")


async def _audit_head(store: Store) -> AuditEntry | None:
    head = await store[AUDIT_HEAD].find_one({"_id": HEAD_ID})
    if head is not None:
        seq = int(head["seq"])
        doc = await store[AUDIT].find_one({"_id": seq})
        if doc is None:
            raise Conflict(f"audit head names entry {seq}, which is missing")
        return _entry(doc)
    # A log from before the head existed: find its end once, then keep the head.
    last = await store[AUDIT].find_one(sort=[("_id", DESCENDING)])
    return _entry(last) if last else None


async def _advance_head(store: Store, prev: AuditEntry | None, entry: AuditEntry) -> None:
    expected = prev.seq if prev else 0
    # A DuplicateKeyError means another writer moved the head on first (or created it).
    with contextlib.suppress(DuplicateKeyError):
        await store[AUDIT_HEAD].update_one(
            {"_id": HEAD_ID, "seq": expected},
            {"$set": {"seq": entry.seq, "hash": entry.hash}},
            upsert=True,
        )


async def audit_entries(
    store: Store, *, last: int | None = None, **filters: Any
) -> list[AuditEntry]:
    """Return the audit log in order: all of it, or the ``last`` entries matching ``filters``."""
    query = {k: v for k, v in filters.items() if v is not None}
    if last is None:
        cursor = store[AUDIT].find(query).sort("seq", ASCENDING)
        return [_entry(d) async for d in cursor]
    cursor = store[AUDIT].find(query).sort("seq", DESCENDING).limit(last)
    return [_entry(d) async for d in cursor][::-1]


def _entry(doc: dict[str, Any]) -> AuditEntry:
    return AuditEntry.model_validate({k: v for k, v in doc.items() if k != "_id"})
