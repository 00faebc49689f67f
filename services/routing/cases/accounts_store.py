"""The customer tiers collection: one document per ``subject_ref`` with its recorded tier."""

from __future__ import annotations

from datetime import datetime

from shared.store import IndexPlan, Store

TIERS = "customer_tiers"
INDEXES: IndexPlan = {TIERS: []}


async def recorded_tier(store: Store, *, subject_ref: str) -> object:
    """Return the tier recorded for ``subject_ref`` as stored (None if none is)."""
    doc = await store[TIERS].find_one({"_id": subject_ref}, {"tier": 1})
    return None if doc is None else doc.get("tier")


async def put_tier(store: Store, *, subject_ref: str, tier: str, by: str, at: datetime) -> None:
    """Record ``subject_ref``'s tier, replacing the one recorded before."""
    await store[TIERS].update_one(
        {"_id": subject_ref}, {"$set": {"tier": tier, "by": by, "at": at}}, upsert=True
    )
