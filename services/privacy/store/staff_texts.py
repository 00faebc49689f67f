"""Staff texts: the masked copy and sealed clear text of what staff wrote to a customer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.privacy.store.collections import STAFF_TEXTS
from shared.store import Store


async def insert_staff_text(store: Store, doc: dict[str, Any]) -> None:
    """Store one staff text."""
    await store[STAFF_TEXTS].insert_one(doc)


async def staff_texts_of(
    store: Store, refs: Sequence[str], *, case_id: str
) -> list[dict[str, Any]]:
    """Return those of the texts ``refs`` that belong to the case ``case_id``."""
    cursor = store[STAFF_TEXTS].find({"_id": {"$in": list(refs)}, "case_id": case_id})
    return [doc async for doc in cursor]
