"""The customer tiers collection: one document per ``subject_ref`` with its recorded tier."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.store import IndexPlan, Store

TIERS = "customer_tiers"
INDEXES: IndexPlan = {TIERS: []}


async def recorded_tier(store: Store, *, subject_ref: str) -> object:
    """Return the tier recorded for ``subject_ref`` as stored (None if none is)."""
    doc = await store[TIERS].find_one({"_id": subject_ref}, {"tier": 1})
    return None if doc is None else doc.get("tier")


async def recorded_tiers(store: Store, *, subject_refs: Sequence[str]) -> dict[str, object]:
    """Return the tiers recorded for ``subject_refs`` as stored, by subject ref (one read)."""
    if not subject_refs:
        return {}
    cursor = store[TIERS].find({"_id": {"$in": list(dict.fromkeys(subject_refs))}}, {"tier": 1})
    return {str(doc["_id"]): doc.get("tier") async for doc in cursor}


async def put_tier(store: Store, *, subject_ref: str, tier: str, by: str, at: datetime) -> None:
    """Record ``subject_ref``'s tier, replacing the one recorded before."""
    await store[TIERS].update_one(
        {"_id": subject_ref}, {"$set": {"tier": tier, "by": by, "at": at}}, upsert=True
    )
