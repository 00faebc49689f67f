"""Routing administration's collections: the overrides admins saved and the log of changes.

``OVERRIDES`` holds one document per thing an admin changed, keyed by what it
changes (``calendar:<id>:<day>``, ``units:<id>``, ``sla_policy:<id>``), so a
second change replaces the first. ``CHANGES`` is the administration log, one
entry per change, never edited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

from pymongo import DESCENDING, IndexModel

from shared.store import IndexPlan, Store

OVERRIDES = "routing_overrides"
CHANGES = "routing_changes"
LOG_INDEXES: IndexPlan = {CHANGES: [IndexModel([("at", DESCENDING), ("_id", DESCENDING)])]}
INDEXES: IndexPlan = {OVERRIDES: [], **LOG_INDEXES}


async def add_change(store: Store, *, entry: dict[str, Any]) -> None:
    """Append one entry to the administration log."""
    # The store's own ids count up within a process, so entries of one instant keep their order.
    await store[CHANGES].insert_one(entry)


async def newest_changes(store: Store, *, limit: int) -> list[dict[str, Any]]:
    """Return the newest ``limit`` log entries, newest first, without their ids."""
    cursor = (
        store[CHANGES]
        .find({}, {"_id": 0})
        .sort([("at", DESCENDING), ("_id", DESCENDING)])
        .limit(limit)
    )
    return [doc async for doc in cursor]


async def overrides(store: Store) -> AsyncIterator[dict[str, Any]]:
    """Yield every saved override, oldest first."""
    async for doc in store[OVERRIDES].find({}).sort([("at", 1), ("_id", 1)]):
        yield doc


async def save_holiday(
    store: Store, *, calendar_id: str, day: date, name: str, by: str, at: datetime
) -> None:
    """Save (or rename) an ad-hoc holiday of ``calendar_id``."""
    await store[OVERRIDES].replace_one(
        {"_id": f"calendar:{calendar_id}:{day}"},
        {"kind": "calendar", "target": calendar_id, "date": str(day), "name": name}
        | {"by": by, "at": at},
        upsert=True,
    )


async def take_holiday(store: Store, *, calendar_id: str, day: date) -> dict[str, Any] | None:
    """Delete an ad-hoc holiday of ``calendar_id`` and return it; None if there was none."""
    doc: dict[str, Any] | None = await store[OVERRIDES].find_one_and_delete(
        {"_id": f"calendar:{calendar_id}:{day}"}
    )
    return doc


async def save_members(
    store: Store, *, unit_id: str, saved: dict[str, Any], by: str, at: datetime
) -> None:
    """Save a unit's members (and capacity) as ``saved`` holds them."""
    await store[OVERRIDES].replace_one(
        {"_id": f"units:{unit_id}"},
        {"kind": "units", "target": unit_id, **saved, "by": by, "at": at},
        upsert=True,
    )


async def drop_members(store: Store, *, unit_id: str) -> bool:
    """Delete a unit's saved members; return whether there were any."""
    dropped = await store[OVERRIDES].delete_one({"_id": f"units:{unit_id}"})
    return bool(dropped.deleted_count)


async def save_policy(
    store: Store, *, policy_id: str, saved: dict[str, Any], by: str, at: datetime
) -> None:
    """Save an SLA policy as ``saved`` holds it."""
    await store[OVERRIDES].replace_one(
        {"_id": f"sla_policy:{policy_id}"},
        {"kind": "sla_policy", "target": policy_id, "policy": saved, "by": by, "at": at},
        upsert=True,
    )


async def drop_policy(store: Store, *, policy_id: str) -> bool:
    """Delete a saved SLA policy; return whether there was one."""
    dropped = await store[OVERRIDES].delete_one({"_id": f"sla_policy:{policy_id}"})
    return bool(dropped.deleted_count)
