"""Routing's collections: cases (with their outbox) and counters."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.routing.domain import Case
from shared.errors import Conflict, NotFound
from shared.store import IndexPlan, Store

CASES = "cases"
COUNTERS = "counters"

INDEXES: IndexPlan = {
    CASES: [
        IndexModel("number", unique=True),
        IndexModel("contacts.contact_id", unique=True),
        IndexModel([("status", ASCENDING), ("updated_at", DESCENDING)]),
        IndexModel([("unit", ASCENDING), ("status", ASCENDING)]),
        IndexModel("subject_ref"),
        IndexModel("outbox.id", sparse=True),
        IndexModel([("created_at", DESCENDING)]),
    ],
}


class DuplicateContact(Exception):
    """The contact is already part of a case (a redelivery)."""


async def next_serial(store: Store, year: int) -> int:
    """Return the next case serial of ``year`` (atomic counter)."""
    doc = await store[COUNTERS].find_one_and_update(
        {"_id": f"case-{year}"},
        {"$inc": {"value": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert doc is not None
    return int(doc["value"])


def _to_doc(case: Case) -> dict[str, Any]:
    doc = case.model_dump()
    doc["_id"] = doc.pop("id")
    return doc


def _from_doc(doc: dict[str, Any]) -> Case:
    # The loaded case's outbox holds only events recorded after loading; the
    # stored outbox belongs to the relay.
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    doc["outbox"] = []
    return Case.model_validate(doc)


async def insert_case(store: Store, case: Case) -> None:
    """Insert a new case with its outbox; raise ``DuplicateContact`` on a redelivery."""
    case.version = 1
    try:
        await store[CASES].insert_one(_to_doc(case))
    except DuplicateKeyError as exc:
        raise DuplicateContact(str(exc)) from exc


async def save_case(store: Store, case: Case) -> None:
    """Write a changed case if nobody changed it meanwhile (optimistic concurrency)."""
    expected = case.version
    case.version = expected + 1
    doc = _to_doc(case)
    new_events = doc.pop("outbox")
    doc.pop("_id")
    result = await store[CASES].update_one(
        {"_id": case.id, "version": expected},
        {"$set": doc, "$push": {"outbox": {"$each": new_events}}},
    )
    if result.matched_count == 0:
        case.version = expected
        raise Conflict(f"case {case.number} changed meanwhile; reload and try again")
    case.outbox.clear()


async def get_case(store: Store, case_id: str) -> Case:
    """Return the case with ``case_id`` or its number."""
    doc = await store[CASES].find_one({"$or": [{"_id": case_id}, {"number": case_id}]})
    if doc is None:
        raise NotFound(f"no case {case_id}")
    return _from_doc(doc)


async def find_by_contact(store: Store, contact_id: str) -> Case | None:
    """Return the case that holds ``contact_id``, if any."""
    doc = await store[CASES].find_one({"contacts.contact_id": contact_id})
    return _from_doc(doc) if doc else None


async def list_cases(
    store: Store, *, filters: dict[str, Any], skip: int, limit: int
) -> tuple[list[Case], int]:
    """Return one page of cases matching ``filters``, newest first, and the total."""
    total = await store[CASES].count_documents(filters)
    cursor = store[CASES].find(filters).sort("created_at", DESCENDING).skip(skip).limit(limit)
    return [_from_doc(doc) async for doc in cursor], total


async def pending_outbox(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    """Return cases that still have events to publish (only the outbox field)."""
    cursor = store[CASES].find({"outbox.0": {"$exists": True}}, {"outbox": 1}).limit(limit)
    return [doc async for doc in cursor]


async def mark_published(store: Store, case_id: str, envelope_id: str) -> None:
    """Remove a published event from the case's outbox."""
    await store[CASES].update_one({"_id": case_id}, {"$pull": {"outbox": {"id": envelope_id}}})
