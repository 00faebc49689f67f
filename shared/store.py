"""The document store: PyMongo's ``AsyncMongoClient``, one database per service."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

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
        url, serverSelectionTimeoutMS=timeout_ms, tz_aware=True, uuidRepresentation="standard"
    )
    return Store(client, database)


class MongoInbox:
    """The bus inbox in MongoDB: one document per handled (consumer, message id)."""

    COLLECTION = "inbox"
    INDEXES: ClassVar[IndexPlan] = {
        COLLECTION: [IndexModel("at", expireAfterSeconds=14 * 24 * 3600)]
    }

    def __init__(self, store: Store) -> None:
        self._collection = store[self.COLLECTION]

    async def seen(self, consumer: str, message_id: str) -> bool:
        """Return True if ``consumer`` already handled ``message_id``."""
        try:
            found = await self._collection.find_one({"_id": f"{consumer}:{message_id}"})
        except PyMongoError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return found is not None

    async def remember(self, consumer: str, message_id: str) -> None:
        """Record that ``consumer`` handled ``message_id``."""
        try:
            await self._collection.insert_one(
                {"_id": f"{consumer}:{message_id}", "at": datetime.now(UTC)}
            )
        except DuplicateKeyError:
            pass
        except PyMongoError as exc:
            raise StoreUnavailable(str(exc)) from exc
