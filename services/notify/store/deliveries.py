"""The delivery log (also the work queue), rate counters, reply tokens and reachability.

A delivery is recorded once per event (its id derives from the event id) and
worked by whichever replica leases it first; a lease that runs out puts it
back for another replica. Nothing here holds an address: the customer's
contact details are asked of privacy at each attempt and never stored.

``DeliveryRepository`` is what the consumer, the worker, the attempt and the
reachability mirror need; ``MongoDeliveries`` keeps it in MongoDB (the fake
for unit tests is ``tests/support/notify_memory.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any, Protocol

from pymongo import ASCENDING, InsertOne, UpdateOne

from services.notify.batching import WriteBatcher
from services.notify.domain import Intent
from services.notify.store.collections import (
    DELIVERIES,
    RATES,
    REACHABILITY,
    REPLY_TOKENS,
    notification_id,
)
from shared.ids import new_id
from shared.store import Document, Store


class DeliveryRepository(Protocol):
    """Where deliveries are recorded, leased and settled, with what a send checks first."""

    async def record_intent(
        self, intent: Intent, *, at: datetime, owner: str, lease: timedelta
    ) -> Document | None:
        """Record a notification due now, leased to ``owner``; None if it was recorded before."""
        ...

    async def claim_due(self, *, now: datetime, lease: timedelta, limit: int) -> list[Document]:
        """Lease up to ``limit`` due deliveries (retries, expired leases) and return them."""
        ...

    async def settle(
        self,
        doc: Document,
        *,
        fields: dict[str, Any],
        attempt: dict[str, Any] | None = None,
        announce: dict[str, Any] | None = None,
    ) -> None:
        """Write a delivery's outcome, unless another replica has leased it since."""
        ...

    async def release(self, docs: list[Document], *, now: datetime) -> None:
        """Give leased deliveries back at once (on shutdown) so another replica takes them."""
        ...

    async def announced(self, delivery_id: str) -> None:
        """Mark a delivery's message to agents as published."""
        ...

    async def unannounced(self, *, settled_before: datetime, limit: int = 100) -> list[Document]:
        """Return deliveries settled before a time whose message to agents is not yet published."""
        ...

    async def for_case(self, case_id: str) -> list[Document]:
        """Return a case's delivery log, oldest first."""
        ...

    async def take_rate_slot(
        self, subject_ref: str, *, now: datetime, limit: int, window: timedelta
    ) -> datetime | None:
        """Count one message to ``subject_ref``; if the window is full, return when it ends."""
        ...

    async def claim_reply_token(self, reply_handle: str, *, at: datetime) -> bool:
        """Return True for the first caller only: a LINE reply token works once."""
        ...

    async def set_reachable(
        self, subject_ref: str, *, channel: str, reachable: bool, reason: str, at: datetime
    ) -> None:
        """Record whether ``subject_ref`` may be sent anything on ``channel`` (``*``: any)."""
        ...

    async def reachability_changes(self, *, since: datetime | None) -> list[Document]:
        """Return reachability records changed at or after ``since`` (all of them if None)."""
        ...


def intent_doc(intent: Intent, *, at: datetime, owner: str, lease: timedelta) -> Document:
    """Return the delivery log's record of ``intent``, due now and leased to ``owner``."""
    return {
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


def rate_window(now: datetime, window: timedelta) -> tuple[int, datetime]:
    """Return the number of the rate window ``now`` falls in and when that window ends."""
    span = window.total_seconds()
    index = int(now.timestamp() // span)
    return index, datetime.fromtimestamp((index + 1) * span, now.tzinfo)


class MongoDeliveries:
    """``DeliveryRepository`` in MongoDB; the writes every notification makes go in bulk."""

    def __init__(
        self, store: Store, *, linger: float = 0.0, spent_cache_size: int = 10_000
    ) -> None:
        self._store = store
        # Grouped with their neighbours into bulk writes, each batch waiting
        # ``linger`` for more: per notification a record, an outcome and the
        # mark that agents were told, a rate slot, a reply token.
        self._deliveries = WriteBatcher(store[DELIVERIES], linger=linger)
        self._rates = WriteBatcher(store[RATES], linger=linger)
        self._reply_tokens = WriteBatcher(store[REPLY_TOKENS], linger=linger)
        # Reply handles whose token this process has claimed, or seen taken:
        # a spent token stays spent, so asking the store again is a round trip
        # that can only answer no (a contact's later notifications all push).
        self._spent: OrderedDict[str, None] = OrderedDict()
        self._spent_cache_size = spent_cache_size

    async def record_intent(
        self, intent: Intent, *, at: datetime, owner: str, lease: timedelta
    ) -> Document | None:
        """Record a notification due now, leased to ``owner``; None if it was recorded before."""
        doc = intent_doc(intent, at=at, owner=owner, lease=lease)
        # Written in the same command as the outcomes and marks of the batch.
        return doc if await self._deliveries.insert_new(doc) else None

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
        index, ends = rate_window(now, window)
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

    async def claim_due(self, *, now: datetime, lease: timedelta, limit: int) -> list[Document]:
        """Lease up to ``limit`` due deliveries (retries, expired leases) and return them."""
        deliveries = self._store[DELIVERIES]
        due = {"status": "queued", "next_attempt_at": {"$lte": now}, "lease_until": {"$lte": now}}
        cursor = deliveries.find(due, {"_id": 1}).sort("next_attempt_at", ASCENDING)
        ids = [doc["_id"] async for doc in cursor.limit(limit)]
        if not ids:
            return []
        owner = new_id()
        # The filter repeats "due" so a delivery another replica leased between
        # the find and this update is left to it.
        # While leased it is not due: that keeps the index range of due
        # deliveries free of the ones being worked.
        lease_to = {
            "$set": {
                "lease_until": now + lease,
                "next_attempt_at": now + lease,
                "lease_owner": owner,
            }
        }
        await deliveries.bulk_write(
            [UpdateOne({"_id": doc_id, **due}, lease_to) for doc_id in ids], ordered=False
        )
        leased = deliveries.find({"_id": {"$in": ids}, "lease_owner": owner})
        return [doc async for doc in leased]

    async def release(self, docs: list[Document], *, now: datetime) -> None:
        """Give leased deliveries back at once (on shutdown) so another replica takes them."""
        # Outcomes and marks still waiting for company are written first: an
        # attempt that got this far must not be made again.
        for batcher in (self._deliveries, self._rates, self._reply_tokens):
            await batcher.drain()
        if not docs:
            return
        back = {"$set": {"lease_until": now, "next_attempt_at": now, "lease_owner": None}}
        await self._store[DELIVERIES].bulk_write(
            [
                UpdateOne({"_id": doc["_id"], "lease_owner": doc["lease_owner"]}, back)
                for doc in docs
            ],
            ordered=False,
        )

    async def announced(self, delivery_id: str) -> None:
        """Mark a delivery's message to agents as published."""
        await self._deliveries.write(
            UpdateOne({"_id": delivery_id}, {"$unset": {"announce_pending": ""}})
        )

    async def unannounced(self, *, settled_before: datetime, limit: int = 100) -> list[Document]:
        """Return deliveries settled before a time whose message to agents is not yet published."""
        cursor = self._store[DELIVERIES].find(
            {"announce_pending": True, "lease_owner": None, "updated_at": {"$lt": settled_before}},
            {"announce": 1},
        )
        return [doc async for doc in cursor.limit(limit)]

    async def for_case(self, case_id: str) -> list[Document]:
        """Return a case's delivery log, oldest first."""
        cursor = self._store[DELIVERIES].find({"case_id": case_id}).sort("created_at", ASCENDING)
        return [doc async for doc in cursor]

    async def claim_reply_token(self, reply_handle: str, *, at: datetime) -> bool:
        """Return True for the first caller only: a LINE reply token works once."""
        if reply_handle in self._spent:
            return False
        # Marked before the write, so a second notification of the contact
        # does not ask while the first one's claim is on its way.
        self._spent[reply_handle] = None
        while len(self._spent) > self._spent_cache_size:
            self._spent.popitem(last=False)  # the oldest is asked of the store again
        try:
            # The id is the handle: a duplicate means another caller took it.
            return await self._reply_tokens.write(InsertOne({"_id": reply_handle, "at": at}))
        except BaseException:
            # Not known to be taken: a later attempt asks the store again.
            self._spent.pop(reply_handle, None)
            raise

    async def set_reachable(
        self, subject_ref: str, *, channel: str, reachable: bool, reason: str, at: datetime
    ) -> None:
        """Record whether ``subject_ref`` may be sent anything on ``channel`` (``*``: any)."""
        field = f"blocked.{channel}"
        change: dict[str, Any] = (
            {"$unset": {field: ""}, "$set": {"updated_at": at}}
            if reachable
            else {"$set": {field: {"reason": reason, "at": at}, "updated_at": at}}
        )
        await self._store[REACHABILITY].update_one({"_id": subject_ref}, change, upsert=True)

    async def reachability_changes(self, *, since: datetime | None) -> list[Document]:
        """Return reachability records changed at or after ``since`` (all of them if None)."""
        query = {} if since is None else {"updated_at": {"$gte": since}}
        return [doc async for doc in self._store[REACHABILITY].find(query)]
