"""The log of routing administration: who changed which rules, holidays, members or policies.

One entry per change, written right after the change itself, so the admin
pages can show what changed and who to ask. Entries are never edited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pymongo import DESCENDING, IndexModel

from shared.store import IndexPlan, Store

CHANGES = "routing_changes"
INDEXES: IndexPlan = {CHANGES: [IndexModel([("at", DESCENDING), ("_id", DESCENDING)])]}
MAX_LIMIT = 500

Kind = Literal["rules", "calendar", "units", "sla_policy"]
Action = Literal["put", "delete", "revert"]


async def record(
    store: Store,
    *,
    kind: Kind,
    target: str,
    action: Action,
    detail: dict[str, Any],
    by: str,
    at: datetime,
) -> None:
    """Append one change to the log."""
    await store[CHANGES].insert_one(
        {
            # The store's own ids count up within a process, so entries of one
            # instant keep their order.
            "at": at,
            "by": by,
            "kind": kind,
            "target": target,
            "action": action,
            "detail": detail,
        }
    )


async def recent(store: Store, *, limit: int) -> list[dict[str, Any]]:
    """Return the newest ``limit`` changes, newest first, as the API shows them."""
    cursor = (
        store[CHANGES]
        .find({}, {"_id": 0})
        .sort([("at", DESCENDING), ("_id", DESCENDING)])
        .limit(min(limit, MAX_LIMIT))
    )
    return [{**doc, "at": doc["at"].isoformat()} async for doc in cursor]
