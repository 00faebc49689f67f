"""The organisation's template overrides by slot, and the log of who changed them.

``TemplateRepository`` is what the template library and the editor's routes
need; ``MongoTemplates`` keeps it in MongoDB (the fake for unit tests is
``tests/support/notify_memory.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from pymongo import DESCENDING

from services.notify.store.collections import TEMPLATE_CHANGES, TEMPLATES
from shared.ids import new_id
from shared.store import Document, Store

# A change: the text before and after, None meaning the shipped text.
Change = tuple[str | None, str | None]


class TemplateRepository(Protocol):
    """Where template overrides and their change log are kept."""

    async def overrides(self) -> dict[str, str]:
        """Return the organisation's template overrides by slot name."""
        ...

    async def override_docs(self) -> dict[str, Document]:
        """Return each template override with who saved it and when, by slot name."""
        ...

    async def replace_overrides(self, overrides: dict[str, str], *, at: datetime, by: str) -> None:
        """Make ``overrides`` the whole set of template overrides."""
        ...

    async def set_override(self, slot: str, source: str, *, at: datetime, by: str) -> None:
        """Save the override of one slot, leaving the others as they are."""
        ...

    async def remove_override(self, slot: str) -> None:
        """Drop the override of one slot: the shipped text serves again."""
        ...

    async def record_changes(self, changes: Mapping[str, Change], *, at: datetime, by: str) -> None:
        """Record who changed which slots when, from what text to what."""
        ...

    async def changes(self, *, limit: int, slot: str | None = None) -> list[Document]:
        """Return the newest template changes first (of one slot if ``slot`` is given)."""
        ...


def change_docs(changes: Mapping[str, Change], *, at: datetime, by: str) -> list[Document]:
    """Return the change log's records of ``changes``, one per slot in slot order."""
    return [
        {
            "_id": new_id(),
            "at": at,
            "by": by,
            "slot": slot,
            "action": "reset" if after is None else "set",
            "before": before,
            "after": after,
        }
        for slot, (before, after) in sorted(changes.items())
    ]


class MongoTemplates:
    """``TemplateRepository`` in MongoDB."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def overrides(self) -> dict[str, str]:
        """Return the organisation's template overrides by slot name."""
        return {doc["_id"]: doc["source"] async for doc in self._store[TEMPLATES].find()}

    async def override_docs(self) -> dict[str, Document]:
        """Return each template override with who saved it and when, by slot name."""
        return {doc["_id"]: doc async for doc in self._store[TEMPLATES].find()}

    async def replace_overrides(self, overrides: dict[str, str], *, at: datetime, by: str) -> None:
        """Make ``overrides`` the whole set of template overrides."""
        templates = self._store[TEMPLATES]
        await templates.delete_many({"_id": {"$nin": list(overrides)}})
        for slot, source in overrides.items():
            await templates.update_one(
                {"_id": slot},
                {"$set": {"source": source, "updated_at": at, "updated_by": by}},
                upsert=True,
            )

    async def set_override(self, slot: str, source: str, *, at: datetime, by: str) -> None:
        """Save the override of one slot, leaving the others as they are."""
        await self._store[TEMPLATES].update_one(
            {"_id": slot},
            {"$set": {"source": source, "updated_at": at, "updated_by": by}},
            upsert=True,
        )

    async def remove_override(self, slot: str) -> None:
        """Drop the override of one slot: the shipped text serves again."""
        await self._store[TEMPLATES].delete_one({"_id": slot})

    async def record_changes(self, changes: Mapping[str, Change], *, at: datetime, by: str) -> None:
        """Record who changed which slots when, from what text to what."""
        if changes:
            await self._store[TEMPLATE_CHANGES].insert_many(change_docs(changes, at=at, by=by))

    async def changes(self, *, limit: int, slot: str | None = None) -> list[Document]:
        """Return the newest template changes first (of one slot if ``slot`` is given)."""
        cursor = self._store[TEMPLATE_CHANGES].find({"slot": slot} if slot else {})
        newest = cursor.sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return [doc async for doc in newest]
