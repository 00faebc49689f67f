"""Intake's collections: the raw archive, the idempotency records, the attachments."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pymongo import IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.intake.blobs import drop_blob, put_blob
from shared.errors import Conflict
from shared.store import IndexPlan, Store

RAW = "raw"
IDEMPOTENCY = "idempotency"
# One document per SHA-256 of content: LINE media, fax pages, mail attachments.
ATTACHMENTS = "attachments"

INDEXES: IndexPlan = {
    RAW: [IndexModel([("channel", 1), ("received_at", 1)]), IndexModel("retention_class")],
    IDEMPOTENCY: [IndexModel("created_at")],
}

# A claim still pending after this long belongs to a request that died mid-way.
# Taking it over is safe even if that request still lives: the retry publishes
# the same contact id under the same message id, which consumers de-duplicate.
PENDING_CLAIM_TTL = timedelta(seconds=10)
DUPLICATE_KEY = 11000
# The state ``claim_key`` reports for a stale claim it took over (never stored).
TAKEN_OVER = "taken_over"  # the server's error code for an _id already taken

RetentionClass = Literal["contact", "media", "system"]


def sha256_hex(data: bytes) -> str:
    """Return the hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


async def raw_document(
    store: Store,
    *,
    raw_id: str,
    channel: str,
    body: bytes,
    content_type: str,
    received_at: datetime,
    retention_class: RetentionClass = "contact",
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the archive record of a payload exactly as received (large bytes go to GridFS)."""
    held = await put_blob(
        store, body, name=f"raw/{raw_id}", content_type=content_type, field="body"
    )
    return {
        "_id": raw_id,
        "channel": channel,
        **held,
        "sha256": sha256_hex(body),
        "content_type": content_type,
        "received_at": received_at,
        "retention_class": retention_class,
        "meta": meta or {},
    }


async def archive_raws(store: Store, records: Sequence[dict[str, Any]]) -> None:
    """Archive ``raw_document`` records in one write; a record is never updated afterwards."""
    if not records:
        return
    try:
        await store[RAW].insert_many(list(records), ordered=False)
    except BulkWriteError as exc:
        # A retry that took over a live request's claim archives the same
        # payload under the same id: the record is already there.
        errors = exc.details.get("writeErrors", [])
        if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise


async def has_raw(store: Store, raw_id: str) -> bool:
    """Return True if the payload ``raw_id`` is archived already."""
    return await store[RAW].find_one({"_id": raw_id}, {"_id": 1}) is not None


async def discard_raw(store: Store, raw_id: str) -> None:
    """Remove an archived payload whose contact was never accepted."""
    doc = await store[RAW].find_one_and_delete({"_id": raw_id})
    if doc is not None:
        await drop_blob(store, doc)


@dataclass(frozen=True)
class Claim:
    """An idempotency key to claim for the contact that will answer it."""

    key: str
    body_hash: str
    contact_id: str
    at: datetime
    message_id: str = ""
    raw_ref: str | None = None


async def claim_keys_each(
    store: Store, claims: Sequence[Claim]
) -> dict[str, dict[str, Any] | Conflict]:
    """Claim distinct keys in one write; return, per key claimed before, its record or refusal.

    A key missing from the answer is newly claimed. A key claimed before maps
    to its earlier record (``TAKEN_OVER`` when a stale claim was taken over)
    or to the ``Conflict`` its caller is to answer with; one key's refusal
    leaves the others claimed, for their callers to complete or release.
    """
    if not claims:
        return {}
    try:
        await store[IDEMPOTENCY].insert_many([_pending(claim) for claim in claims], ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        taken = [claims[error["index"]] for error in errors]
    else:
        return {}
    found: dict[str, dict[str, Any] | Conflict] = {}
    for claim in taken:  # redeliveries and retries, so few: one at a time
        try:
            record = await claim_key(store, claim)
        except Conflict as refused:
            found[claim.key] = refused
            continue
        if record is not None:
            found[claim.key] = record
    return found


def _pending(claim: Claim) -> dict[str, Any]:
    return {
        "_id": claim.key,
        "body_hash": claim.body_hash,
        "contact_id": claim.contact_id,
        "message_id": claim.message_id,
        "raw_ref": claim.raw_ref,
        "state": "pending",
        "created_at": claim.at,
    }


async def claim_key(store: Store, claim: Claim) -> dict[str, Any] | None:
    """Claim an idempotency key; return the earlier record if the key was claimed before."""
    try:
        await store[IDEMPOTENCY].insert_one(_pending(claim))
    except DuplicateKeyError:
        earlier = await store[IDEMPOTENCY].find_one({"_id": claim.key})
        if earlier is None:  # released between our insert and read: let the client retry
            raise Conflict("request with this key is being retried; try again") from None
        if (
            earlier["state"] == "pending"
            and earlier["body_hash"] == claim.body_hash
            and _stale(earlier["created_at"], claim.at)
        ):
            # The request that claimed it died before completing; it may or may
            # not have published. Take the claim over under the same contact id
            # and message id, so a retry never makes a second contact.
            taken = await store[IDEMPOTENCY].update_one(
                {"_id": claim.key, "state": "pending", "created_at": earlier["created_at"]},
                {"$set": {"created_at": claim.at}},
            )
            if taken.modified_count == 1:
                return {**earlier, "state": TAKEN_OVER}
        return earlier
    return None


def _stale(claimed_at: datetime, now: datetime) -> bool:
    if claimed_at.tzinfo is None:
        claimed_at = claimed_at.replace(tzinfo=UTC)
    return now - claimed_at > PENDING_CLAIM_TTL


async def complete_keys(store: Store, keys: Sequence[str]) -> None:
    """Mark the idempotency keys of accepted contacts done."""
    if keys:
        await store[IDEMPOTENCY].update_many(
            {"_id": {"$in": list(keys)}}, {"$set": {"state": "done"}}
        )


async def release_keys(store: Store, keys: Sequence[str]) -> None:
    """Forget claimed keys whose contacts were not accepted, so the client may retry."""
    if keys:
        await store[IDEMPOTENCY].delete_many({"_id": {"$in": list(keys)}, "state": "pending"})


async def store_attachment(store: Store, *, data: bytes, content_type: str, at: datetime) -> str:
    """Store ``data`` once under its SHA-256 and return the hash."""
    digest = sha256_hex(data)
    if await store[ATTACHMENTS].find_one({"_id": digest}, {"_id": 1}) is not None:
        return digest
    held = await put_blob(store, data, name=f"attachment/{digest}", content_type=content_type)
    # The same bytes may arrive through another message at the same moment.
    with contextlib.suppress(DuplicateKeyError):
        result = await store[ATTACHMENTS].update_one(
            {"_id": digest},
            {
                "$setOnInsert": {
                    **held,
                    "content_type": content_type,
                    "created_at": at,
                    "retention_class": "media",
                }
            },
            upsert=True,
        )
        if result.upserted_id is not None:
            return digest
    await drop_blob(store, held)  # another writer stored the same bytes first
    return digest
