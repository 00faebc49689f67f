"""The hash-chained audit log: appends group-committed per process, entries read in order."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.privacy.audit import FIRST_SEQ, AuditEntry, chain_entry
from services.privacy.masking import mask
from services.privacy.store.collections import AUDIT, AUDIT_HEAD
from shared.errors import Conflict
from shared.store import Store

HEAD_ID = "head"
_DUPLICATE_KEY = 11000


@dataclass
class _Pending:
    at: datetime
    fields: dict[str, Any]
    done: asyncio.Future[AuditEntry]


@dataclass
class _Chain:
    """One process's writer of one store's audit log: a lock, a queue, the known head."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: list[_Pending] = field(default_factory=list)
    head: AuditEntry | None = None
    head_known: bool = False


_CHAINS: weakref.WeakKeyDictionary[Store, _Chain] = weakref.WeakKeyDictionary()


async def append_audit(store: Store, *, at: datetime, **fields: Any) -> AuditEntry:
    """Append an entry to the hash-chained audit log and return it once it is stored.

    The chain's head (last seq and hash) is one document. Appends of one
    process are group-committed: whoever takes the writer's lock writes every
    entry queued by then with one ordered insert and moves the head on with one
    compare-and-set, so concurrent appenders cost two round trips per batch
    instead of racing each other for the next seq. Another process's entry is
    found by the unique ``_id`` (the seq): the batch is chained again onto it.
    A writer that died between insert and head move leaves the head behind;
    the next writer walks forward from it and moves it on.
    """
    (entry,) = await append_audits(store, [(at, fields)])
    return entry


async def append_audits(
    store: Store, entries: Sequence[tuple[datetime, Mapping[str, Any]]]
) -> list[AuditEntry]:
    """Append ``entries`` (time and fields each) in order, together; return them once stored.

    They are queued at once, so they go to the store in one write with
    whatever else is queued (see ``append_audit``). One entry refused as
    invalid refuses them all before any is queued.
    """
    items: list[_Pending] = []
    loop = asyncio.get_running_loop()
    for at, given in entries:
        fields = dict(given)
        # Reasons are typed by people and may quote the customer: the log keeps them masked.
        if fields.get("reason"):
            fields["reason"] = mask(str(fields["reason"]))
        chain_entry(None, at=at, **fields)  # refuse an invalid entry before it is queued
        items.append(_Pending(at, fields, loop.create_future()))
    if not items:
        return []
    chain = _CHAINS.setdefault(store, _Chain())
    chain.pending.extend(items)
    async with chain.lock:
        if not all(item.done.done() for item in items):
            batch, chain.pending = chain.pending, []
            await _write_batch(store, chain, batch)
    return [await item.done for item in items]


async def _write_batch(store: Store, chain: _Chain, batch: list[_Pending]) -> None:
    try:
        for _ in range(50):
            if not chain.head_known:
                chain.head, chain.head_known = await _current_head(store), True
            prev, entries = chain.head, []
            for item in batch:
                entries.append(chain_entry(prev, at=item.at, **item.fields))
                prev = entries[-1]
            written = await _insert_in_order(store, entries)
            if written:
                await _advance_head(store, chain.head, entries[written - 1])
                chain.head = entries[written - 1]
                for item, entry in zip(batch[:written], entries, strict=False):
                    if not item.done.done():  # an appender cancelled meanwhile gave up waiting
                        item.done.set_result(entry)
                batch = batch[written:]
            if not batch:
                return
            chain.head_known = False  # another process wrote the next seq: chain onto it
        raise Conflict("audit log is too busy; try again")
    except BaseException as exc:
        chain.head_known = False
        for item in batch:
            if not item.done.done():
                item.done.set_exception(exc if isinstance(exc, Exception) else Conflict("stopped"))
        if not isinstance(exc, Exception):
            raise


async def _insert_in_order(store: Store, entries: list[AuditEntry]) -> int:
    """Insert ``entries`` in order; return how many went in before a seq already taken."""
    try:
        await store[AUDIT].insert_many(
            [{"_id": e.seq, **e.model_dump()} for e in entries], ordered=True
        )
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != _DUPLICATE_KEY for error in errors):
            raise
        return int(exc.details.get("nInserted", 0))
    return len(entries)


async def _current_head(store: Store) -> AuditEntry | None:
    """Return the newest entry, moving a lagging head document on to it."""
    recorded = head = await _audit_head(store)
    while True:
        following = await store[AUDIT].find_one({"_id": head.seq + 1 if head else FIRST_SEQ})
        if following is None:
            break
        head = _entry(following)
    if head is not None and head != recorded:
        await _advance_head(store, recorded, head)
    return head


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
