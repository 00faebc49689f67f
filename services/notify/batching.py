"""Group commit: concurrent writes to one collection go to the store as one unordered bulk write.

Each notification costs a few small writes (its record, a rate slot, a
reply token, its outcome). Sent one by one they are round trips the store
serialises; sent together they are one. A batch goes once its first write
has waited ``linger`` seconds (none by default) or once it is full, never
while the one before it is still on its way.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, PyMongoError

from shared.errors import StoreUnavailable

WriteOp = InsertOne[Any] | UpdateOne
# A write waiting for its batch: the op, its writer's future, and whether it
# counts as done only if it inserted a document (see ``insert_new``).
_Pending = tuple[WriteOp, "asyncio.Future[bool]", bool]
_DUPLICATE_KEY = 11000


class WriteBatcher:
    """Write to one collection through shared bulk writes."""

    def __init__(
        self, collection: AsyncCollection[Any], *, max_batch: int = 500, linger: float = 0.0
    ) -> None:
        self._collection = collection
        self._max_batch = max_batch
        self._linger = linger
        self._pending: list[_Pending] = []
        self._oldest = 0.0  # when the oldest pending write came (loop time)
        self._full = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, op: WriteOp) -> bool:
        """Apply ``op``; return False on a duplicate key; raise StoreUnavailable on failure."""
        return await self._submit(op, new_only=False)

    async def insert_new(self, doc: dict[str, Any]) -> bool:
        """Insert ``doc`` unless its id is taken; return False if it was; raise as ``write``."""
        # An upsert that only sets on insert: a bulk write of updates and
        # upserts is one command to the store, inserts beside updates two.
        fields = {name: value for name, value in doc.items() if name != "_id"}
        upsert = UpdateOne({"_id": doc["_id"]}, {"$setOnInsert": fields}, upsert=True)
        return await self._submit(upsert, new_only=True)

    async def _submit(self, op: WriteOp, *, new_only: bool) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        if not self._pending:
            self._oldest = loop.time()
        self._pending.append((op, future, new_only))
        if len(self._pending) >= self._max_batch:
            self._full.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def drain(self) -> None:
        """Send what is waiting now, without lingering, and wait until it is written."""
        self._linger = 0.0  # from now on every write goes at once
        self._full.set()
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        batch: list[_Pending] = []
        try:
            while self._pending:
                # A notification's writes come in bursts (a batch of events,
                # the attempts it starts): a batch waits a little for the rest.
                wait = self._oldest + self._linger - loop.time()
                if wait > 0 and len(self._pending) < self._max_batch:
                    self._full.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._full.wait(), wait)
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                if self._pending:  # the rest of a burst bigger than a batch goes next
                    self._oldest = loop.time() - self._linger
                await self._run(batch)
        except BaseException as exc:
            # Never leave a writer waiting on a batch that will not finish.
            failure = StoreUnavailable(f"bulk write abandoned: {type(exc).__name__}")
            for _, future, _ in batch + self._pending:
                if not future.done():
                    future.set_exception(failure)
            self._pending.clear()
            raise

    async def _run(self, batch: list[_Pending]) -> None:
        errors: dict[int, dict[str, Any]] = {}
        try:
            result = await self._collection.bulk_write([op for op, _, _ in batch], ordered=False)
            inserted = set(result.upserted_ids or {})
        except BulkWriteError as exc:
            errors = {error["index"]: error for error in exc.details.get("writeErrors", [])}
            inserted = {upsert["index"] for upsert in exc.details.get("upserted", [])}
        except PyMongoError as exc:
            for _, future, _ in batch:
                if not future.done():
                    future.set_exception(StoreUnavailable(str(exc)))
            return
        for index, (_, future, new_only) in enumerate(batch):
            if future.done():  # the writer gave up waiting
                continue
            error = errors.get(index)
            if error is None:
                future.set_result(index in inserted or not new_only)
            elif error.get("code") == _DUPLICATE_KEY:
                future.set_result(False)
            else:
                future.set_exception(StoreUnavailable(str(error.get("errmsg"))))
