"""Assignment's own records: the saved rule set, who is offline in a unit, round-robin tickets.

``SETTINGS`` holds the rule set an admin saved (``_id`` ``rules``, with a
``version`` that moves on with every save). ``PRESENCE`` holds one document
per unit member who said whether they take cases (``<unit>:<user>``); the
ticket is a counter beside the case serials. What the queues ask of the cases
themselves (members' loads, waiting cases) goes through
``cases/repository.py``'s ``CaseQueues``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from services.routing.cases.store import COUNTERS
from shared.store import IndexPlan, Store, increment

PRESENCE = "presence"
INDEXES: IndexPlan = {PRESENCE: []}
SETTINGS = "settings"
RULES_ID = "rules"
RULE_INDEXES: IndexPlan = {SETTINGS: []}


async def saved_rules(store: Store) -> dict[str, Any] | None:
    """Return the saved rule set as stored (``rules``, ``version``, ``by``, ``at``), if any."""
    doc: dict[str, Any] | None = await store[SETTINGS].find_one({"_id": RULES_ID})
    return doc


async def save_rules(
    store: Store, *, rules: list[dict[str, Any]], by: str, at: datetime
) -> dict[str, Any]:
    """Save ``rules`` as the rule set, moving its version on (one atomic write); return it."""
    doc: dict[str, Any] | None = await store[SETTINGS].find_one_and_update(
        {"_id": RULES_ID},
        {"$set": {"rules": rules, "by": by, "at": at}, "$inc": {"version": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert doc is not None
    return doc


async def drop_rules(store: Store) -> dict[str, Any] | None:
    """Delete the saved rule set and return it; None if none was saved."""
    doc: dict[str, Any] | None = await store[SETTINGS].find_one_and_delete({"_id": RULES_ID})
    return doc


async def set_presence(
    store: Store, *, unit_id: str, user: str, online: bool, at: datetime
) -> None:
    """Record that ``user`` is (not) taking cases of ``unit_id``."""
    await store[PRESENCE].update_one(
        {"_id": f"{unit_id}:{user}"},
        {"$set": {"unit": unit_id, "user": user, "online": online, "at": at}},
        upsert=True,
    )


async def offline_members(store: Store, *, unit_id: str) -> set[str]:
    """Return the members of ``unit_id`` who said they are offline."""
    cursor = store[PRESENCE].find({"unit": unit_id, "online": False}, {"user": 1})
    return {doc["user"] async for doc in cursor}


async def take_tickets(store: Store, *, unit_id: str, count: int) -> range:
    """Take the unit's next ``count`` round-robin tickets, counting from 0 (an atomic counter)."""
    end = await increment(store, COUNTERS, f"round-robin-{unit_id}", by=count)
    return range(end - count, end)
