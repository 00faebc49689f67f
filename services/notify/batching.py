"""Group commit: concurrent writes to one collection go to the store as one unordered bulk write.

Each notification costs a few small writes (its record, a rate slot, its
outcome). Sent one by one they are round trips the store serialises; sent
together they are one. Nothing waits to fill a batch: the first write goes
at once, and whatever arrives while it is on its way goes in the next.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, PyMongoError

from shared.errors import StoreUnavailable

WriteOp = InsertOne[Any] | UpdateOne
_DUPLICATE_KEY = 11000


class WriteBatcher:
    """Write to one collection through shared bulk writes."""

    def __init__(self, collection: AsyncCollection[Any], *, max_batch: int = 500) -> None:
        self._collection = collection
        self._max_batch = max_batch
        self._pending: list[tuple[WriteOp, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, op: WriteOp) -> bool:
        """Apply ``op``; return False on a duplicate key; raise StoreUnavailable on failure."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((op, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                await self._run(batch)
            except BaseException as exc:
                # Never leave a writer waiting on a batch that will not finish.
                failure = StoreUnavailable(f"bulk write abandoned: {type(exc).__name__}")
                for _, future in batch + self._pending:
                    if not future.done():
                        future.set_exception(failure)
                self._pending.clear()
                raise

    async def _run(self, batch: list[tuple[WriteOp, asyncio.Future[bool]]]) -> None:
        errors: dict[int, dict[str, Any]] = {}
        try:
            await self._collection.bulk_write([op for op, _ in batch], ordered=False)
        except BulkWriteError as exc:
            errors = {error["index"]: error for error in exc.details.get("writeErrors", [])}
        except PyMongoError as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(StoreUnavailable(str(exc)))
            return
        for index, (_, future) in enumerate(batch):
            if future.done():  # the writer gave up waiting
                continue
            error = errors.get(index)
            if error is None:
                future.set_result(True)
            elif error.get("code") == _DUPLICATE_KEY:
                future.set_result(False)
            else:
                future.set_exception(StoreUnavailable(str(error.get("errmsg"))))
