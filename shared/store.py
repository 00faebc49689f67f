"""The document store: PyMongo's ``AsyncMongoClient``, one database per service."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pymongo import AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from shared.bus.base import Claim
from shared.errors import StoreUnavailable

log = logging.getLogger(__name__)

Document = dict[str, Any]
IndexPlan = Mapping[str, Sequence[IndexModel]]


class Store:
    """A service's own database and the index plan it bootstraps."""

    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self.client = client
        self.db: AsyncDatabase[Document] = client[database]

    def __getitem__(self, collection: str) -> AsyncCollection[Document]:
        return self.db[collection]

    async def ensure_indexes(self, plan: IndexPlan) -> None:
        """Create the indexes of ``plan`` (collection name to index models)."""
        for collection, indexes in plan.items():
            if indexes:
                await self.db[collection].create_indexes(list(indexes))

    async def ping(self) -> bool:
        """Return True if the server answers."""
        try:
            await self.client.admin.command("ping")
        except PyMongoError:
            return False
        return True


def connect(url: str, database: str, *, timeout_ms: int = 5000) -> Store:
    """Return a store on ``url`` using ``database``; no I/O until first use."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=timeout_ms,
        # A paused or dead server must fail a request, not hang it: callers map
        # the failure to 503 / SMTP 451 / a held redelivery.
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=2 * timeout_ms,
        tz_aware=True,
        uuidRepresentation="standard",
    )
    return Store(client, database)


async def increment(store: Store, collection: str, counter_id: str, *, by: int = 1) -> int:
    """Add ``by`` to the counter ``counter_id`` (created at 0 if missing) and return its value."""
    # The counter is created apart from the increment: callers race for a new
    # counter, and an upserting increment that loses that race may come back
    # with no document although it counted (seen on the embedded store),
    # which would lose a number or, retried, skip one.
    for _ in range(2):
        doc = await store[collection].find_one_and_update(
            {"_id": counter_id}, {"$inc": {"value": by}}, return_document=ReturnDocument.AFTER
        )
        if doc is not None:
            return int(doc["value"])
        with contextlib.suppress(DuplicateKeyError):
            await store[collection].insert_one({"_id": counter_id, "value": 0})
    raise StoreUnavailable(f"counter {counter_id} could not be advanced")


class MongoInbox:
    """The bus inbox in MongoDB: one document per claimed (consumer, message id).

    A claim is taken with one insert before the handler runs, so two deliveries
    of one message never run it at the same time; it holds for ``LEASE`` and is
    then taken over, so a consumer that died holding one delays its message
    only that long.
    """

    COLLECTION = "inbox"
    LEASE = timedelta(seconds=30)
    INDEXES: ClassVar[IndexPlan] = {
        COLLECTION: [IndexModel("at", expireAfterSeconds=14 * 24 * 3600)]
    }

    def __init__(self, store: Store) -> None:
        self._collection = store[self.COLLECTION]

    async def claim(self, consumer: str, message_id: str) -> Claim:
        """Claim ``message_id`` for ``consumer``: ``new``, ``done`` or ``busy``."""
        key, now = f"{consumer}:{message_id}", datetime.now(UTC)
        try:
            try:
                await self._collection.insert_one(
                    {"_id": key, "state": "claimed", "at": now, "until": now + self.LEASE}
                )
                return "new"
            except DuplicateKeyError:
                pass
            found = await self._collection.find_one({"_id": key})
            if found is None:
                return "busy"  # released meanwhile: the next attempt claims it
            if found.get("state", "done") == "done":
                return "done"
            until = found["until"]
            if until.tzinfo is None:
                until = until.replace(tzinfo=UTC)
            if until > now:
                return "busy"
            taken = await self._collection.update_one(
                {"_id": key, "state": "claimed", "until": found["until"]},
                {"$set": {"at": now, "until": now + self.LEASE}},
            )
            return "new" if taken.modified_count == 1 else "busy"
        except DuplicateKeyError:
            return "busy"
        except PyMongoError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def claim_many(self, consumer: str, message_ids: Sequence[str]) -> dict[str, Claim]:
        """Claim every id at once: one insert, and one read of those claimed before.

        An id given twice is claimed once; telling its second delivery to wait
        is the caller's (``shared/bus/batch.py``).
        """
        ids = list(dict.fromkeys(message_ids))
        if not ids:
            return {}
        now = datetime.now(UTC)
        docs = [
            {"_id": f"{consumer}:{mid}", "state": "claimed", "at": now, "until": now + self.LEASE}
            for mid in ids
        ]
        taken: dict[str, Claim] = dict.fromkeys(ids, "new")
        try:
            try:
                await self._collection.insert_many(docs, ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(error.get("code") != 11000 for error in errors):
                    raise StoreUnavailable(f"inbox claims: {errors[:3]}") from exc
                held = [ids[int(error["index"])] for error in errors]
                taken.update(await self._held(consumer, held, now=now))
        except PyMongoError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return taken

    async def _held(
        self, consumer: str, message_ids: Sequence[str], *, now: datetime
    ) -> dict[str, Claim]:
        """Return the claims of ids claimed before (one read; a takeover per expired lease)."""
        if not message_ids:
            return {}
        keys = {f"{consumer}:{mid}": mid for mid in message_ids}
        found = {
            doc["_id"]: doc async for doc in self._collection.find({"_id": {"$in": list(keys)}})
        }
        claims: dict[str, Claim] = {}
        for key, mid in keys.items():
            doc = found.get(key)
            if doc is None or doc.get("state", "done") == "done":
                claims[mid] = "busy" if doc is None else "done"
                continue
            until = doc["until"]
            if until.tzinfo is None:
                until = until.replace(tzinfo=UTC)
            if until > now:
                claims[mid] = "busy"
                continue
            moved = await self._collection.update_one(
                {"_id": key, "state": "claimed", "until": doc["until"]},
                {"$set": {"at": now, "until": now + self.LEASE}},
            )
            claims[mid] = "new" if moved.modified_count == 1 else "busy"
        return claims

    async def complete_many(self, consumer: str, message_ids: Sequence[str]) -> None:
        """Record every id as handled (one update; a claim gone meanwhile is recreated)."""
        if not message_ids:
            return
        keys = [f"{consumer}:{mid}" for mid in dict.fromkeys(message_ids)]
        try:
            result = await self._collection.update_many(
                {"_id": {"$in": keys}},
                {"$set": {"state": "done", "at": datetime.now(UTC)}, "$unset": {"until": ""}},
            )
        except PyMongoError as exc:
            raise StoreUnavailable(str(exc)) from exc
        if result.matched_count < len(keys):
            for message_id in dict.fromkeys(message_ids):
                await self.complete(consumer, message_id)

    async def release_many(self, consumer: str, message_ids: Sequence[str]) -> None:
        """Drop the unfinished claims of ``message_ids`` (one delete)."""
        if not message_ids:
            return
        keys = [f"{consumer}:{mid}" for mid in dict.fromkeys(message_ids)]
        try:
            await self._collection.delete_many({"_id": {"$in": keys}, "state": "claimed"})
        except PyMongoError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def complete(self, consumer: str, message_id: str) -> None:
        """Record that ``consumer`` handled ``message_id``."""
        try:
            await self._collection.update_one(
                {"_id": f"{consumer}:{message_id}"},
                {"$set": {"state": "done", "at": datetime.now(UTC)}, "$unset": {"until": ""}},
                upsert=True,
            )
        except PyMongoError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def release(self, consumer: str, message_id: str) -> None:
        """Drop an unfinished claim so a redelivery handles the message again."""
        try:
            await self._collection.delete_one(
                {"_id": f"{consumer}:{message_id}", "state": "claimed"}
            )
        except PyMongoError as exc:
            raise StoreUnavailable(str(exc)) from exc
