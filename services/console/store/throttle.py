"""Failed logins per throttle key: every query of ``login_throttle``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import IndexModel

from shared.store import IndexPlan, Store

THROTTLE = "login_throttle"
INDEXES: IndexPlan = {THROTTLE: [IndexModel("last_failure")]}


async def counts(store: Store, *, key_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Return the failure counts held for any of ``key_ids``."""
    return [doc async for doc in store[THROTTLE].find({"_id": {"$in": list(key_ids)}})]


async def count(store: Store, *, key_id: str) -> dict[str, Any] | None:
    """Return the failure count of ``key_id``, or None if it has none."""
    return await store[THROTTLE].find_one({"_id": key_id})


async def save_count(
    store: Store,
    *,
    key_id: str,
    failures: int,
    last_failure: datetime,
    locked_until: datetime | None,
) -> None:
    """Write the failure count of ``key_id`` and until when it is locked (None: not locked)."""
    await store[THROTTLE].replace_one(
        {"_id": key_id},
        {"failures": failures, "last_failure": last_failure, "locked_until": locked_until},
        upsert=True,
    )


async def forget(store: Store, *, key_id: str) -> None:
    """Drop the failure count of ``key_id``."""
    await store[THROTTLE].delete_one({"_id": key_id})
