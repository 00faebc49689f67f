"""The workspace's collections in the console's store: unread markers, canned responses and
their audit, attached files (GridFS). Every query of them is built here, not in a route.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from gridfs import AsyncGridFSBucket
from pymongo import IndexModel

from shared.clock import Clock
from shared.store import IndexPlan, Store

SEEN = "case_seen"
CANNED = "canned_responses"
CANNED_AUDIT = "canned_audit"
ATTACHMENTS = "attachments"
INDEXES: IndexPlan = {SEEN: [IndexModel([("user", 1), ("case_id", 1)], unique=True)]}
# The canned-response changes an admin sees, newest first.
MAX_CANNED_CHANGES = 200


class SeenBook:
    """When each user last opened each case: the unread markers of the queue."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store, self._clock = store, clock

    async def mark_seen(self, user: str, case_id: str) -> None:
        """Record that ``user`` opened the case now."""
        await self._store[SEEN].update_one(
            {"user": user, "case_id": case_id}, {"$set": {"at": self._clock.now()}}, upsert=True
        )

    async def mark_unread(self, user: str, items: Sequence[dict[str, Any]]) -> None:
        """Set ``unread`` on each case: a customer contact newer than the user's last look."""
        ids = [item["id"] for item in items]
        cursor = self._store[SEEN].find({"user": user, "case_id": {"$in": ids}})
        seen = {doc["case_id"]: _aware(doc["at"]) async for doc in cursor}
        for item in items:
            at = seen.get(item["id"])
            last = item.get("last_contact_at")
            item["unread"] = at is None or (last is not None and datetime.fromisoformat(last) > at)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def has_canned(store: Store, *, org: str) -> bool:
    """Say whether the organisation has any canned response (seeded or written)."""
    return await store[CANNED].find_one({"org": org}) is not None


async def seed_canned_one(store: Store, *, org: str, key: str, item: dict[str, Any]) -> None:
    """Store a shipped canned response unless the organisation has one under ``key``."""
    await store[CANNED].update_one(
        {"_id": f"{org}:{key}"},
        {"$setOnInsert": {"org": org, "key": key, **item}},
        upsert=True,
    )


async def canned_responses(store: Store, *, org: str) -> list[dict[str, Any]]:
    """Return the organisation's canned responses by key: key, title, text and language."""
    cursor = store[CANNED].find({"org": org}).sort("key", 1)
    return [
        {"key": d["key"], "title": d["title"], "text": d["text"], "lang": d.get("lang")}
        async for d in cursor
    ]


async def save_canned(
    store: Store, *, org: str, key: str, fields: dict[str, Any], at: datetime
) -> None:
    """Write the canned response ``key`` of the organisation (new or replacing)."""
    await store[CANNED].update_one(
        {"_id": f"{org}:{key}"},
        {"$set": {"org": org, "key": key, **fields, "updated_at": at}},
        upsert=True,
    )


async def delete_canned(store: Store, *, org: str, key: str) -> bool:
    """Delete the canned response ``key``; return False if there was none."""
    result = await store[CANNED].delete_one({"_id": f"{org}:{key}"})
    return bool(result.deleted_count)


async def record_canned_change(
    store: Store, *, actor: str, action: str, key: str, at: datetime
) -> None:
    """Record who changed which canned response, how and when."""
    await store[CANNED_AUDIT].insert_one({"at": at, "actor": actor, "action": action, "key": key})


async def canned_changes(store: Store) -> list[dict[str, Any]]:
    """Return the latest canned-response changes, newest first, their times as ISO 8601."""
    cursor = store[CANNED_AUDIT].find({}, {"_id": 0}).sort("at", -1).limit(MAX_CANNED_CHANGES)
    return [{**d, "at": d["at"].isoformat()} async for d in cursor]


def attachment_bucket(store: Store) -> AsyncGridFSBucket:
    """Return the GridFS bucket attached files are kept in."""
    return AsyncGridFSBucket(store.db, bucket_name=ATTACHMENTS)


async def case_attachments(store: Store, *, case_id: str) -> list[dict[str, Any]]:
    """Return the stored files attached to a case (GridFS file documents), oldest first."""
    cursor = store[f"{ATTACHMENTS}.files"].find({"metadata.case_id": case_id})
    return [doc async for doc in cursor.sort("uploadDate", 1)]
