"""The reports' collections and their reads of the cases: day rollups, frozen snapshots.

``ROLLUPS`` (``report_days``) holds one document per organisation and Bangkok
day (see ``rollups.py`` for its generations, ``dirty`` and leases);
``SNAPSHOTS`` holds a closed period's report as it was first given. The cases
are read here only for their report fields and the marks their writes left
(``days.PENDING``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pymongo import IndexModel, UpdateOne
from pymongo.errors import BulkWriteError

from services.routing.cases.store import CASES
from services.routing.reports.days import PENDING, day_start, parse_key
from shared.store import IndexPlan, Store

ROLLUPS = "report_days"
SNAPSHOTS = "report_snapshots"
INDEXES: IndexPlan = {ROLLUPS: [IndexModel("dirty")]}
_COUNTS_ONLY = {"counts": 1, "dirty": 1, "schema": 1}
_DUPLICATE_KEY = 11000


# -- the cases ----------------------------------------------------------------------------


async def opened_between(
    store: Store, *, org: str, start: datetime, end: datetime, fields: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Return ``fields`` of ``org``'s cases opened in [start, end)."""
    query = {"org": org, "created_at": {"$gte": start, "$lt": end}}
    return [doc async for doc in store[CASES].find(query, dict(fields))]


async def opened_on(
    store: Store, *, org: str, day: date, fields: Mapping[str, int]
) -> AsyncIterator[dict[str, Any]]:
    """Yield ``fields`` of ``org``'s cases opened on the Bangkok ``day``, one at a time."""
    query = {
        "org": org,
        "created_at": {"$gte": day_start(day), "$lt": day_start(day + timedelta(days=1))},
    }
    async for doc in store[CASES].find(query, dict(fields)):
        yield doc


async def marked_cases(
    store: Store, *, keys: Sequence[str] | None, limit: int
) -> list[dict[str, Any]]:
    """Return the id, version and mark of cases marked (for ``keys``' days only, if given)."""
    wanted: dict[str, Any] = {"$in": list(keys)} if keys is not None else {"$exists": True}
    cursor = store[CASES].find({PENDING: wanted}, {PENDING: 1, "version": 1}).limit(limit)
    return await cursor.to_list()


# Marks are cleared this many to a write: one write of hundreds can hold the
# embedded store past a socket timeout when a backlog of marks is settled.
CLEAR_CHUNK = 100


async def clear_marks(store: Store, marks: Sequence[dict[str, Any]]) -> None:
    """Clear each of ``marks`` whose case is still at the version it was read at."""
    for start in range(0, len(marks), CLEAR_CHUNK):
        await store[CASES].bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"], "version": doc.get("version"), PENDING: doc[PENDING]},
                    {"$unset": {PENDING: ""}},
                )
                for doc in marks[start : start + CLEAR_CHUNK]
            ],
            ordered=False,
        )


# -- day documents ------------------------------------------------------------------------


def _identity(key: str) -> dict[str, str]:
    org, day = parse_key(key)
    return {"org": org, "day": day.isoformat()}


async def make_dirty(store: Store, keys: Iterable[str]) -> None:
    """Move each day of ``keys`` to a new generation, dirty (creating missing ones)."""
    await _upsert(
        store,
        [
            UpdateOne(
                {"_id": key},
                {"$inc": {"gen": 1}, "$set": {"dirty": True, **_identity(key)}},
                upsert=True,
            )
            for key in keys
        ],
    )


async def ensure_days(store: Store, keys: Iterable[str]) -> None:
    """Create the missing day documents of ``keys``, dirty, at generation 0."""
    await _upsert(
        store,
        [
            UpdateOne(
                {"_id": key},
                {"$setOnInsert": {"gen": 0, "dirty": True, **_identity(key)}},
                upsert=True,
            )
            for key in keys
        ],
    )


async def _upsert(store: Store, updates: list[UpdateOne]) -> None:
    """Apply upserts of day documents; again once if two writers created one at once."""
    try:
        await store[ROLLUPS].bulk_write(updates, ordered=False)
    except BulkWriteError as exc:
        if any(error.get("code") != _DUPLICATE_KEY for error in exc.details["writeErrors"]):
            raise
        # The loser of an upsert race finds the document the second time; moving a
        # generation on twice only costs a rebuild.
        await store[ROLLUPS].bulk_write(updates, ordered=False)


async def generations(store: Store, keys: Sequence[str]) -> dict[str, int]:
    """Return the generation of each stored day of ``keys``."""
    return {
        doc["_id"]: doc["gen"]
        async for doc in store[ROLLUPS].find({"_id": {"$in": list(keys)}}, {"gen": 1})
    }


async def write_day(
    store: Store, *, key: str, gen: int, tally: Mapping[str, Any], schema: int
) -> None:
    """Store a day's tally, clean, if its generation is still ``gen``."""
    await store[ROLLUPS].update_one(
        {"_id": key, "gen": gen}, {"$set": {**tally, "schema": schema, "dirty": False}}
    )


async def day_documents(
    store: Store, keys: Sequence[str], *, spans: bool
) -> dict[str, dict[str, Any]]:
    """Return the stored day documents of ``keys`` by key (without ``spans``: counts only)."""
    projection = None if spans else _COUNTS_ONLY
    cursor = store[ROLLUPS].find({"_id": {"$in": list(keys)}}, projection)
    return {doc["_id"]: doc async for doc in cursor}


async def dirty_days(store: Store, *, limit: int) -> list[str]:
    """Return up to ``limit`` keys of dirty days."""
    cursor = store[ROLLUPS].find({"dirty": True}, {"_id": 1}).limit(limit)
    return [doc["_id"] for doc in await cursor.to_list()]


async def lease_day(store: Store, *, key: str, now: datetime, until: datetime, owner: str) -> bool:
    """Lease a dirty day to ``owner`` until ``until``; False if it is clean or leased to another."""
    result = await store[ROLLUPS].update_one(
        {
            "_id": key,
            "dirty": True,
            "$or": [{"lease_until": {"$exists": False}}, {"lease_until": {"$lte": now}}],
        },
        {"$set": {"lease_until": until, "lease_owner": owner}},
    )
    return result.modified_count == 1


async def release_day(store: Store, *, key: str, owner: str) -> None:
    """Give up ``owner``'s lease of a day."""
    await store[ROLLUPS].update_one(
        {"_id": key, "lease_owner": owner}, {"$unset": {"lease_until": "", "lease_owner": ""}}
    )


# -- snapshots ----------------------------------------------------------------------------


async def frozen_report(store: Store, *, org: str, label: str) -> dict[str, Any] | None:
    """Return the snapshot of ``org``'s period ``label``, if one was frozen."""
    doc: dict[str, Any] | None = await store[SNAPSHOTS].find_one({"_id": f"{org}:{label}"})
    return doc


async def freeze_report(
    store: Store, *, org: str, label: str, at: datetime, report: dict[str, Any]
) -> None:
    """Store ``report`` as the snapshot of ``org``'s period ``label``, frozen ``at``."""
    await store[SNAPSHOTS].insert_one({"_id": f"{org}:{label}", "frozen_at": at, "report": report})
