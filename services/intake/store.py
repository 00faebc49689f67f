"""Intake's collections: the raw archive and the idempotency records."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pymongo import IndexModel
from pymongo.errors import DuplicateKeyError

from services.intake.blobs import drop_blob, put_blob
from shared.errors import Conflict
from shared.store import IndexPlan, Store

RAW = "raw"
IDEMPOTENCY = "idempotency"

INDEXES: IndexPlan = {
    RAW: [IndexModel([("channel", 1), ("received_at", 1)]), IndexModel("retention_class")],
    IDEMPOTENCY: [IndexModel("created_at")],
}

# A claim still pending after this long belongs to a request that died mid-way.
PENDING_CLAIM_TTL = timedelta(seconds=30)

RetentionClass = Literal["contact", "media", "system"]


def sha256_hex(data: bytes) -> str:
    """Return the hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


async def archive_raw(
    store: Store,
    *,
    raw_id: str,
    channel: str,
    body: bytes,
    content_type: str,
    received_at: datetime,
    retention_class: RetentionClass = "contact",
    meta: dict[str, Any] | None = None,
) -> None:
    """Archive a payload exactly as received; the record is never updated afterwards."""
    held = await put_blob(
        store, body, name=f"raw/{raw_id}", content_type=content_type, field="body"
    )
    await store[RAW].insert_one(
        {
            "_id": raw_id,
            "channel": channel,
            **held,
            "sha256": sha256_hex(body),
            "content_type": content_type,
            "received_at": received_at,
            "retention_class": retention_class,
            "meta": meta or {},
        }
    )


async def discard_raw(store: Store, raw_id: str) -> None:
    """Remove an archived payload whose contact was never accepted."""
    doc = await store[RAW].find_one_and_delete({"_id": raw_id})
    if doc is not None:
        await drop_blob(store, doc)


async def claim_key(
    store: Store, *, key: str, body_hash: str, contact_id: str, at: datetime
) -> dict[str, Any] | None:
    """Claim an idempotency key; return the earlier record if the key was claimed before."""
    try:
        await store[IDEMPOTENCY].insert_one(
            {
                "_id": key,
                "body_hash": body_hash,
                "contact_id": contact_id,
                "state": "pending",
                "created_at": at,
            }
        )
    except DuplicateKeyError:
        earlier = await store[IDEMPOTENCY].find_one({"_id": key})
        if earlier is None:  # released between our insert and read: let the client retry
            raise Conflict("request with this key is being retried; try again") from None
        if earlier["state"] == "pending" and _stale(earlier["created_at"], at):
            # The process that claimed it died before publishing: take the claim over.
            taken = await store[IDEMPOTENCY].update_one(
                {"_id": key, "state": "pending", "created_at": earlier["created_at"]},
                {"$set": {"body_hash": body_hash, "contact_id": contact_id, "created_at": at}},
            )
            if taken.modified_count == 1:
                return None
        return earlier
    return None


def _stale(claimed_at: datetime, now: datetime) -> bool:
    if claimed_at.tzinfo is None:
        claimed_at = claimed_at.replace(tzinfo=UTC)
    return now - claimed_at > PENDING_CLAIM_TTL


async def complete_key(store: Store, key: str) -> None:
    """Mark an idempotency key's contact as accepted."""
    await store[IDEMPOTENCY].update_one({"_id": key}, {"$set": {"state": "done"}})


async def release_key(store: Store, key: str) -> None:
    """Forget a claimed key whose contact was not accepted, so the client may retry."""
    await store[IDEMPOTENCY].delete_one({"_id": key, "state": "pending"})
