"""The LINE media records: every query of ``media``, one document per message id.

A record is pending until the ``MediaFetcher`` claims it (``fetching``, with a
lease in ``next_at``), then stored, pending again with a later ``next_at``, or
failed.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.store import IndexPlan, Store

MEDIA = "media"
INDEXES: IndexPlan = {
    MEDIA: [IndexModel([("state", 1), ("next_at", 1)]), IndexModel("contact_id")],
}


async def expect(store: Store, *, message_id: str, contact_id: str, at: datetime) -> None:
    """Record ``contact_id``'s media ``message_id`` as pending, unless it is recorded already."""
    # A concurrent redelivery may record it first.
    with contextlib.suppress(DuplicateKeyError):
        await store[MEDIA].update_one(
            {"_id": message_id},
            {
                "$setOnInsert": {
                    "contact_id": contact_id,
                    "state": "pending",
                    "attempts": 0,
                    "next_at": at,
                    "created_at": at,
                }
            },
            upsert=True,
        )


async def claim_due(store: Store, *, now: datetime, lease_until: datetime) -> dict[str, Any] | None:
    """Claim the record due first until ``lease_until``, counting an attempt; None if none."""
    return await store[MEDIA].find_one_and_update(
        {"state": {"$in": ["pending", "fetching"]}, "next_at": {"$lte": now}},
        {"$set": {"state": "fetching", "next_at": lease_until}, "$inc": {"attempts": 1}},
        sort=[("next_at", 1)],
        return_document=ReturnDocument.AFTER,
    )


async def mark_stored(
    store: Store, *, message_id: Any, sha256: str, content_type: str, size: int, at: datetime
) -> None:
    """Record that the content of ``message_id`` is stored as the attachment ``sha256``."""
    await store[MEDIA].update_one(
        {"_id": message_id},
        {
            "$set": {
                "state": "stored",
                "sha256": sha256,
                "content_type": content_type,
                "size": size,
                "stored_at": at,
                "error": None,
            },
            "$unset": {"next_at": ""},
        },
    )


async def retry_at(store: Store, *, message_id: Any, next_at: datetime, error: str) -> None:
    """Put ``message_id`` back to pending until ``next_at``, with why this attempt failed."""
    await store[MEDIA].update_one(
        {"_id": message_id}, {"$set": {"state": "pending", "next_at": next_at, "error": error}}
    )


async def mark_failed(store: Store, *, message_id: Any, error: str, at: datetime) -> None:
    """Record that the content of ``message_id`` will not be fetched, and why."""
    await store[MEDIA].update_one(
        {"_id": message_id},
        {"$set": {"state": "failed", "error": error, "failed_at": at}, "$unset": {"next_at": ""}},
    )
