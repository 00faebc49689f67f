"""The case lists' MongoDB side: the lane books (``case_lanes``) and the reads of a lane's cases.

``lists.py`` plans a page (the ranges of an order to read, cursors, the
filters applied to what comes back); the store is asked here, and only for
``lanes`` and one range of an order's key, or one customer's cases.

A lane book (one document per lane) holds the lane's count, its count per
urgency (``u.<rank>``) and a lower bound of each order's key (``lo``; the
soonest due time's upper bound ``hi`` too), with a version ``v`` that moves
on every write. Each case write that changes a case's lanes brings the books
along (``lane_ops``, one round trip); ``rebuild_books`` recounts them all.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from shared.store import Store

CASES = "cases"
LANES = "case_lanes"
# Stands in for "no SLA due time" so those cases sort after every real one.
NEVER_DUE = datetime(9999, 12, 31, tzinfo=UTC)
# The order keys a lane book bounds from below, and what else it counts by.
BOUNDED = ("created_at", "updated_at", "due_sort", "number")
BOOK_FIELDS = (*BOUNDED, "urgency_rank")
# Big, history-only fields a list of cases leaves out.
LIST_PROJECTION = {"timeline": 0, "sla_history": 0, "outbox": 0}
# Lane-book writes held for the end of a ``deferred_books`` block.
_deferred: contextvars.ContextVar[list[tuple[str, dict[str, Any]]] | None] = contextvars.ContextVar(
    "deferred_books", default=None
)
log = logging.getLogger(__name__)


# -- lane books ---------------------------------------------------------------------------


def book_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Return what the lane books need of a stored case document."""
    return {"lanes": list(doc.get("lanes") or []), **{key: doc.get(key) for key in BOOK_FIELDS}}


def _rank(fields: Mapping[str, Any] | None) -> str | None:
    rank = fields.get("urgency_rank") if fields else None
    return f"u.{rank}" if isinstance(rank, int) else None


def lane_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """Return the lane-book updates (lane, update) that take a case from ``before`` to ``after``."""
    old = set(before["lanes"]) if before else set()
    new = set(after["lanes"])
    due = after.get("due_sort")
    lows = {f"lo.{key}": after[key] for key in BOUNDED if after.get(key) is not None}
    ops: list[tuple[str, dict[str, Any]]] = []
    rank, was = _rank(after), _rank(before)
    for key in sorted(new - old):
        update: dict[str, Any] = {"$inc": {"n": 1, "v": 1, **({rank: 1} if rank else {})}}
        update["$min"] = lows
        if due is not None and due < NEVER_DUE:
            update["$max"] = {"hi.due_sort": due}
        ops.append((key, update))
    ops.extend(
        (key, {"$inc": {"n": -1, "v": 1, **({was: -1} if was else {})}})
        for key in sorted(old - new)
    )
    if before is not None and rank != was:
        # Reclassified: the lanes it stays in count it under its new urgency.
        moves = {"v": 1, **({was: -1} if was else {}), **({rank: 1} if rank else {})}
        ops.extend((key, {"$inc": moves}) for key in sorted(new & old))
    moved = before is not None and due != before.get("due_sort")
    if moved and due is not None and due < NEVER_DUE:
        # A due time moved for lanes the case stays in: the bounds must still hold it.
        ops.extend(
            (key, {"$inc": {"v": 1}, "$min": {"lo.due_sort": due}, "$max": {"hi.due_sort": due}})
            for key in sorted(new & old)
        )
    return ops


def lane_ops(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[UpdateOne]:
    """Return the lane-book writes that take a case from ``before`` (None: new) to ``after``."""
    return [
        UpdateOne({"_id": key}, update, upsert=True) for key, update in lane_changes(before, after)
    ]


def merged_ops(changes: Iterable[tuple[str, Mapping[str, Any]]]) -> list[UpdateOne]:
    """Return one write per lane doing what ``changes`` do one after the other.

    Counts add up and bounds keep their extreme (``$inc``, ``$min``, ``$max``
    commute), so a batch of cases in the same few lanes costs a write per lane.
    """
    lanes: dict[str, dict[str, dict[str, Any]]] = {}
    for key, update in changes:
        into = lanes.setdefault(key, {})
        for op, fields in update.items():
            held = into.setdefault(op, {})
            for field, value in fields.items():
                if field not in held:
                    held[field] = value
                elif op == "$inc":
                    held[field] += value
                elif op == "$min":
                    held[field] = min(held[field], value)
                elif op == "$max":
                    held[field] = max(held[field], value)
                else:
                    raise ValueError(f"a lane book is never updated with {op}")
    return [UpdateOne({"_id": key}, update, upsert=True) for key, update in lanes.items()]


async def write_books(
    store: Store, before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> None:
    """Bring the lane books along a case write (kept for the end inside ``deferred_books``)."""
    pending = _deferred.get()
    if pending is not None:
        pending.extend(lane_changes(before, after))
    else:
        await apply_ops(store, lane_ops(before, after))


async def apply_ops(store: Store, ops: list[UpdateOne]) -> None:
    """Write lane-book changes (one round trip)."""
    if ops:
        await store[LANES].bulk_write(ops, ordered=False)


@contextlib.asynccontextmanager
async def deferred_books(store: Store) -> AsyncIterator[None]:
    """Keep the lane-book writes of the block and make them in one round trip as it ends.

    A batch of contacts routed inside the block writes its cases one by one
    and the books once, one update per lane (``merged_ops``); a list read
    meanwhile counts the batch's new cases a moment late. If that write
    fails the books are off until rebuilt, as when a single case's book
    write fails.
    """
    pending: list[tuple[str, dict[str, Any]]] = []
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
        try:
            await apply_ops(store, merged_ops(pending))
        except Exception:
            log.exception("could not update the lane books of a batch")


async def lane_counts(store: Store, lanes: Iterable[str]) -> dict[str, int]:
    """Return how many cases each lane holds (one read)."""
    wanted = list(dict.fromkeys(lanes))
    found = {
        doc["_id"]: int(doc.get("n", 0))
        async for doc in store[LANES].find({"_id": {"$in": wanted}}, {"n": 1})
    }
    return {key: max(0, found.get(key, 0)) for key in wanted}


async def rebuild_books(store: Store) -> int:
    """Recount every lane from the cases; return how many books were corrected.

    A book written meanwhile (its ``v`` moved) is left as the writer made it.
    """
    seen = {doc["_id"]: doc.get("v", 0) async for doc in store[LANES].find({}, {"v": 1})}
    counted: dict[str, dict[str, Any]] = {}
    projection = {"lanes": 1, **dict.fromkeys(BOOK_FIELDS, 1)}
    async for doc in store[CASES].find({"lanes": {"$exists": True}}, projection):
        fields = book_fields(doc)
        due = fields.get("due_sort")
        for key in fields["lanes"]:
            book = counted.setdefault(key, {"n": 0, "u": {}, "lo": {}, "hi": {}})
            book["n"] += 1
            if isinstance(fields.get("urgency_rank"), int):
                ranks = book["u"]
                ranks[str(fields["urgency_rank"])] = ranks.get(str(fields["urgency_rank"]), 0) + 1
            for name in BOUNDED:
                value = fields.get(name)
                if value is not None and (name not in book["lo"] or value < book["lo"][name]):
                    book["lo"][name] = value
            if due is not None and due < NEVER_DUE:
                top = book["hi"].get("due_sort")
                if top is None or due > top:
                    book["hi"]["due_sort"] = due
    corrected = 0
    for key in set(seen) | set(counted):
        book = counted.get(key, {"n": 0, "u": {}, "lo": {}, "hi": {}})
        if key in seen:
            result = await store[LANES].update_one(
                {"_id": key, "v": seen[key]},
                {"$set": {**book, "v": seen[key] + 1}},
            )
            corrected += result.modified_count
        else:
            try:
                await store[LANES].insert_one({"_id": key, **book, "v": 1})
                corrected += 1
            except DuplicateKeyError:
                pass  # a case write made it meanwhile
    return corrected


# -- reading a lane -----------------------------------------------------------------------


async def read_book(store: Store, lane: str) -> dict[str, Any]:
    """Return the lane's book (an empty one if the lane has none yet)."""
    return await store[LANES].find_one({"_id": lane}) or {"_id": lane, "n": 0}


async def raise_bound(store: Store, *, lane: str, version: int, field: str, value: Any) -> None:
    """Raise the lane's lower bound of ``field`` to ``value`` if its book is at ``version``."""
    await store[LANES].update_one(
        {"_id": lane, "v": version}, {"$set": {f"lo.{field}": value}, "$inc": {"v": 1}}
    )


async def read_range(
    store: Store,
    *,
    lane: str,
    eq: Iterable[tuple[str, Any]],
    field: str,
    bounds: Mapping[str, Any],
    sort: list[tuple[str, int]],
) -> list[dict[str, Any]]:
    """Return the lane's cases with ``eq`` whose ``field`` is within ``bounds``, in ``sort`` order.

    Without history; empty ``bounds`` read the lane's cases with ``eq`` whole.
    """
    query: dict[str, Any] = {"lanes": lane, **dict(eq)}
    if bounds:
        query[field] = dict(bounds)
    return await store[CASES].find(query, LIST_PROJECTION).sort(sort).to_list()


async def customer_cases(
    store: Store, *, refs: Any, sort: list[tuple[str, int]]
) -> list[dict[str, Any]]:
    """Return the cases of ``refs`` (one ``subject_ref`` or an ``$in``), without history."""
    query = {"subject_ref": refs}
    return await store[CASES].find(query, LIST_PROJECTION).sort(sort).to_list()
