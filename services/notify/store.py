"""Notify's collections: the delivery log (also the work queue), rate counters, reachability.

A delivery is recorded once per event (its id derives from the event id) and
worked by whichever replica leases it first; a lease that runs out puts it
back for another replica. Nothing here holds an address: the customer's
contact details are asked of privacy at each attempt and never stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel, InsertOne, UpdateOne
from pymongo.errors import DuplicateKeyError

from services.notify.batching import WriteBatcher
from services.notify.domain import Intent
from shared.ids import new_id
from shared.store import Document, IndexPlan, Store

DELIVERIES = "deliveries"
RATES = "rate_windows"
REPLY_TOKENS = "reply_tokens_used"
REACHABILITY = "reachability"
TEMPLATES = "template_overrides"
SURVEY_ANSWERS = "survey_answers"

INDEXES: IndexPlan = {
    REACHABILITY: [IndexModel("updated_at")],
    DELIVERIES: [
        IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
        IndexModel([("case_id", ASCENDING), ("created_at", ASCENDING)]),
        IndexModel("announce_pending", sparse=True),
    ],
    RATES: [IndexModel("expires_at", expireAfterSeconds=0)],
    REPLY_TOKENS: [IndexModel("at", expireAfterSeconds=7 * 24 * 3600)],
}


def notification_id(event_id: str) -> str:
    """Return the delivery log id of the notification an event causes."""
    return f"n-{event_id}"


class HotWrites:
    """The writes every notification makes, grouped with their neighbours into bulk writes."""

    def __init__(self, store: Store) -> None:
        self._deliveries = WriteBatcher(store[DELIVERIES])
        self._rates = WriteBatcher(store[RATES])

    async def record_intent(
        self, intent: Intent, *, at: datetime, owner: str, lease: timedelta
    ) -> Document | None:
        """Record a notification due now, leased to ``owner``; None if it was recorded before."""
        doc: Document = {
            "_id": notification_id(intent.event_id),
            "event_id": intent.event_id,
            "case_id": intent.case_id,
            "kind": intent.kind,
            "intent": intent.model_dump(mode="json"),
            "status": "queued",
            "created_at": at,
            # Leased from the start to the replica that recorded it, which
            # works it at once; if that replica dies the lease runs out and
            # the delivery comes due for the others.
            "next_attempt_at": at + lease,
            "lease_until": at + lease,
            "lease_owner": owner,
            "attempts": [],
        }
        return doc if await self._deliveries.write(InsertOne(doc)) else None

    async def settle(
        self,
        doc: Document,
        *,
        fields: dict[str, Any],
        attempt: dict[str, Any] | None = None,
        announce: dict[str, Any] | None = None,
    ) -> None:
        """Write a delivery's outcome, unless another replica has leased it since."""
        update: dict[str, Any] = {"$set": {**fields, "lease_owner": None}}
        if announce is not None:
            update["$set"] |= {"announce": announce, "announce_pending": True}
        if attempt is not None:
            update["$push"] = {"attempts": attempt}
        await self._deliveries.write(
            UpdateOne({"_id": doc["_id"], "lease_owner": doc["lease_owner"]}, update)
        )

    async def take_rate_slot(
        self, subject_ref: str, *, now: datetime, limit: int, window: timedelta
    ) -> datetime | None:
        """Count one message to ``subject_ref``; if the window is full, return when it ends."""
        span = window.total_seconds()
        index = int(now.timestamp() // span)
        ends = datetime.fromtimestamp((index + 1) * span, now.tzinfo)
        # The filter fails on a full window, so the upsert tries to insert a
        # second document with the same id: that duplicate means "no slot".
        taken = await self._rates.write(
            UpdateOne(
                {"_id": f"{subject_ref}:{index}", "count": {"$lt": limit}},
                {"$inc": {"count": 1}, "$setOnInsert": {"expires_at": ends}},
                upsert=True,
            )
        )
        return None if taken else ends


async def claim_due(store: Store, *, now: datetime, lease: timedelta, limit: int) -> list[Document]:
    """Lease up to ``limit`` due deliveries (retries, expired leases) and return them."""
    due = {"status": "queued", "next_attempt_at": {"$lte": now}, "lease_until": {"$lte": now}}
    cursor = store[DELIVERIES].find(due, {"_id": 1}).sort("next_attempt_at", ASCENDING)
    ids = [doc["_id"] async for doc in cursor.limit(limit)]
    if not ids:
        return []
    owner = new_id()
    # The filter repeats "due" so a delivery another replica leased between
    # the find and this update is left to it.
    # While leased it is not due: that keeps the index range of due
    # deliveries free of the ones being worked.
    lease_to = {
        "$set": {"lease_until": now + lease, "next_attempt_at": now + lease, "lease_owner": owner}
    }
    await store[DELIVERIES].bulk_write(
        [UpdateOne({"_id": doc_id, **due}, lease_to) for doc_id in ids], ordered=False
    )
    leased = store[DELIVERIES].find({"_id": {"$in": ids}, "lease_owner": owner})
    return [doc async for doc in leased]


async def release(store: Store, docs: list[Document], *, now: datetime) -> None:
    """Give leased deliveries back at once (on shutdown) so another replica takes them."""
    for doc in docs:
        await store[DELIVERIES].update_one(
            {"_id": doc["_id"], "lease_owner": doc["lease_owner"]},
            {"$set": {"lease_until": now, "next_attempt_at": now, "lease_owner": None}},
        )


async def announced(store: Store, delivery_id: str) -> None:
    """Mark a delivery's message to agents as published."""
    await store[DELIVERIES].update_one({"_id": delivery_id}, {"$unset": {"announce_pending": ""}})


async def unannounced(
    store: Store, *, settled_before: datetime, limit: int = 100
) -> list[Document]:
    """Return deliveries settled before a time whose message to agents is not yet published."""
    cursor = store[DELIVERIES].find(
        {"announce_pending": True, "lease_owner": None, "updated_at": {"$lt": settled_before}},
        {"announce": 1},
    )
    return [doc async for doc in cursor.limit(limit)]


async def claim_reply_token(store: Store, reply_handle: str, *, at: datetime) -> bool:
    """Return True for the first caller only: a LINE reply token works once."""
    try:
        await store[REPLY_TOKENS].insert_one({"_id": reply_handle, "at": at})
    except DuplicateKeyError:
        return False
    return True


async def set_reachable(
    store: Store, subject_ref: str, *, channel: str, reachable: bool, reason: str, at: datetime
) -> None:
    """Record whether ``subject_ref`` may be sent anything on ``channel`` (``*``: any)."""
    field = f"blocked.{channel}"
    change: dict[str, Any] = (
        {"$unset": {field: ""}, "$set": {"updated_at": at}}
        if reachable
        else {"$set": {field: {"reason": reason, "at": at}, "updated_at": at}}
    )
    await store[REACHABILITY].update_one({"_id": subject_ref}, change, upsert=True)


async def reachability_changes(store: Store, *, since: datetime | None) -> list[Document]:
    """Return reachability records changed at or after ``since`` (all of them if None)."""
    query = {} if since is None else {"updated_at": {"$gte": since}}
    return [doc async for doc in store[REACHABILITY].find(query)]


async def deliveries_for_case(store: Store, case_id: str) -> list[Document]:
    """Return a case's delivery log, oldest first."""
    cursor = store[DELIVERIES].find({"case_id": case_id}).sort("created_at", ASCENDING)
    return [doc async for doc in cursor]


async def template_overrides(store: Store) -> dict[str, str]:
    """Return the organisation's template overrides by slot name."""
    return {doc["_id"]: doc["source"] async for doc in store[TEMPLATES].find()}


async def replace_template_overrides(
    store: Store, overrides: dict[str, str], *, at: datetime, by: str
) -> None:
    """Make ``overrides`` the whole set of template overrides."""
    await store[TEMPLATES].delete_many({"_id": {"$nin": list(overrides)}})
    for slot, source in overrides.items():
        await store[TEMPLATES].update_one(
            {"_id": slot},
            {"$set": {"source": source, "updated_at": at, "updated_by": by}},
            upsert=True,
        )


async def claim_survey_answer(store: Store, key: str, *, case_id: str, at: datetime) -> bool:
    """Return True if this is the first answer through survey link ``key``."""
    try:
        await store[SURVEY_ANSWERS].insert_one(
            {"_id": key, "case_id": case_id, "status": "recording", "at": at}
        )
    except DuplicateKeyError:
        return False
    return True


async def confirm_survey_answer(store: Store, key: str, *, score: int, at: datetime) -> None:
    """Mark the answer through ``key`` as recorded by routing."""
    await store[SURVEY_ANSWERS].update_one(
        {"_id": key}, {"$set": {"status": "recorded", "score": score, "recorded_at": at}}
    )


async def release_survey_answer(store: Store, key: str) -> None:
    """Forget an answer routing did not take, so the customer can send it again."""
    await store[SURVEY_ANSWERS].delete_one({"_id": key, "status": "recording"})
