"""Live tickets, stored by digest: every query of ``live_tickets``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import IndexModel

from shared.store import IndexPlan, Store

TICKETS = "live_tickets"
INDEXES: IndexPlan = {TICKETS: [IndexModel("expires_at")]}


async def insert_ticket(store: Store, *, doc: dict[str, Any]) -> None:
    """Store a new ticket."""
    await store[TICKETS].insert_one(doc)


async def sweep_expired(store: Store, *, now: datetime) -> None:
    """Delete the tickets that expired before ``now``."""
    await store[TICKETS].delete_many({"expires_at": {"$lt": now}})


async def take_ticket(store: Store, *, digest: str) -> dict[str, Any] | None:
    """Delete the ticket ``digest`` and return it, or None if there is none (any more)."""
    return await store[TICKETS].find_one_and_delete({"_id": digest})
