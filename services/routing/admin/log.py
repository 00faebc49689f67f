"""The log of routing administration: who changed which rules, holidays, members or policies.

One entry per change, written right after the change itself, so the admin
pages can show what changed and who to ask. Entries are never edited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from services.routing.admin import store as admin_store
from shared.store import Store

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
    await admin_store.add_change(
        store,
        entry={
            "at": at,
            "by": by,
            "kind": kind,
            "target": target,
            "action": action,
            "detail": detail,
        },
    )


async def recent(store: Store, *, limit: int) -> list[dict[str, Any]]:
    """Return the newest ``limit`` changes, newest first, as the API shows them."""
    docs = await admin_store.newest_changes(store, limit=min(limit, MAX_LIMIT))
    return [{**doc, "at": doc["at"].isoformat()} for doc in docs]
