"""Notify's collections: the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import IndexModel
from pymongo.errors import DuplicateKeyError

from shared.store import IndexPlan, Store

DELIVERIES = "deliveries"

INDEXES: IndexPlan = {
    DELIVERIES: [IndexModel([("case_id", 1), ("created_at", 1)]), IndexModel("status")],
}


async def record_intent(
    store: Store, *, notification_id: str, doc: dict[str, Any], at: datetime
) -> bool:
    """Record a notification to send; return False if it was recorded before."""
    try:
        await store[DELIVERIES].insert_one(
            {"_id": notification_id, **doc, "status": "queued", "created_at": at, "attempts": []}
        )
    except DuplicateKeyError:
        return False
    return True
