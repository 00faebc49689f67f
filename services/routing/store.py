"""Routing's cases collection: the case document with its outbox, and the queries on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from services.routing.domain import UNSTARTED_STATUSES, Case
from shared.errors import Conflict, NotFound
from shared.store import IndexPlan, Store, increment

CASES = "cases"
COUNTERS = "counters"

SortKeys = list[tuple[str, int]]
# Each order the workspace lists cases in; each is also an index after ``lanes``.
LIST_SORTS: dict[str, SortKeys] = {
    "-created_at": [("created_at", DESCENDING)],
    "created_at": [("created_at", ASCENDING)],
    "-updated_at": [("updated_at", DESCENDING)],
    "updated_at": [("updated_at", ASCENDING)],
    "due": [("due_sort", ASCENDING)],
    "-urgency": [("urgency_rank", DESCENDING), ("created_at", DESCENDING)],
    "number": [("number", ASCENDING)],
}
# One index per sort field(s): an index walked backwards serves the opposite direction.
_SORT_INDEXES = {tuple(field for field, _ in keys): keys for keys in LIST_SORTS.values()}
URGENCY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
# Stands in for "no SLA due time" so those cases sort after every real one.
NEVER_DUE = datetime(9999, 12, 31, tzinfo=UTC)
# What _to_doc derives for the workspace's lists.
WORKSPACE_FIELDS = ("open", "sla_flag", "lanes", "due_sort", "urgency_rank")
ANY_UNIT = "*"
NO_UNIT = "-"  # unit ids start with a letter or digit, so neither marker is a unit

CASE_INDEXES = [
    IndexModel("number", unique=True),
    IndexModel("contacts.contact_id", unique=True),
    IndexModel("contacts.message_id", sparse=True),
    IndexModel([("status", ASCENDING), ("updated_at", DESCENDING)]),
    IndexModel([("unit", ASCENDING), ("status", ASCENDING)]),
    # Derived on write (see _to_doc): a unit's waiting queue and a member's open cases.
    IndexModel([("queue", ASCENDING), ("created_at", ASCENDING)]),
    IndexModel("holder"),
    IndexModel([("subject_ref", ASCENDING), ("updated_at", DESCENDING)]),
    IndexModel("outbox.id", sparse=True),
    IndexModel([("created_at", DESCENDING)]),
    # Reports: one organisation's cases opened in a period.
    IndexModel([("org", ASCENDING), ("created_at", ASCENDING)]),
    # The SLA watcher's one query: cases whose next step or breach is due.
    IndexModel([("sla_next_due", ASCENDING)]),
    # The workspace's case lists: one lane (see _lanes) then each sort's keys, so
    # every view × sort is one index range walked in order (both directions).
    *(IndexModel([("lanes", ASCENDING), *keys]) for keys in _SORT_INDEXES.values()),
    # A split whose contact is still on its way to the new case (almost always empty).
    IndexModel("moving_contact.contact_id", sparse=True),
]
# Big, history-only fields a list of cases leaves out.
_LIST_PROJECTION = {"timeline": 0, "sla_history": 0, "outbox": 0}


class DuplicateContact(Exception):
    """The contact is already part of a case (a redelivery)."""


class StaleCase(Conflict):
    """The case changed since it was read; reload it and apply the change again."""


async def next_serial(store: Store, year: int) -> int:
    """Return the next case serial of ``year`` (atomic counter)."""
    return await increment(store, COUNTERS, f"case-{year}")


def _to_doc(case: Case) -> dict[str, Any]:
    doc = case.model_dump()
    doc["_id"] = doc.pop("id")
    # One equality field per question the dispatcher asks, so each is one index lookup.
    unstarted = case.assignee is None and case.status in UNSTARTED_STATUSES
    doc["queue"] = case.unit if unstarted else None
    doc["holder"] = f"{case.unit}:{case.assignee}" if case.assignee and case.is_open else None
    # The workspace's views, each one equality on ``lanes`` (see lane()).
    doc["open"] = case.is_open
    doc["sla_flag"] = sla_flag(case)
    doc["lanes"] = _lanes(case, doc["sla_flag"])
    doc["due_sort"] = case.sla_next_due or NEVER_DUE
    doc["urgency_rank"] = URGENCY_RANK[case.urgency]
    return doc


def sla_flag(case: Case) -> str | None:
    """Return "breached" or "at_risk" for an open case whose SLA clock says so, else None.

    Breached: the watcher reported a target breached. At risk: an escalation step
    fired for a target that is still not met (a step whose target has since been
    met is history, not a risk).
    """
    if not case.is_open or not case.sla:
        return None
    if case.sla.get("breach_reported"):
        return "breached"
    met = case.sla.get("met_at") or {}
    # Step keys read "<target>@<fraction>:<action>" (EscalationStep.key).
    unmet = [key for key in case.sla.get("fired") or [] if str(key).split("@")[0] not in met]
    return "at_risk" if unmet else None


def lane(view: str, unit: str | None = None, user: str | None = None) -> str:
    """Return the lane key of ``view`` for ``unit`` (None: every unit) and ``user``."""
    key = f"{view}|{unit or ANY_UNIT}"
    return f"{key}|{user}" if user is not None else key


def _lanes(case: Case, flag: str | None) -> list[str]:
    """Return every lane the case is in: each view, across units and in its own unit."""
    views: list[tuple[str, str | None]] = [("all", None)]
    if case.is_open:
        views.append(("unit", None))
        views.append(("mine", case.assignee) if case.assignee else ("unassigned", None))
        if flag:
            views.append((flag, None))
    if case.pending_closure is not None:
        views.append(("pending_closure", None))
    unit = case.unit or NO_UNIT
    return [lane(view, scope, user) for view, user in views for scope in (None, unit)]


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
    finally:
        TOTALS.touch()
    case.outbox.clear()


async def save_case(store: Store, case: Case, *, release_lease: bool = False) -> None:
    """Write a changed case with its new events if nobody changed it meanwhile.

    Raise ``StaleCase`` if the stored version moved on (optimistic concurrency),
    ``DuplicateContact`` if a contact it adds is already part of the case: the
    write itself refuses a contact id the case holds, so a duplicate delivery
    racing the first never joins one contact twice.
    """
    if not case.timeline:
        # Cases read for a list come without their timeline; writing one back would erase it.
        raise ValueError(f"case {case.number} was read without its timeline and cannot be saved")
    expected = case.version
    case.version = expected + 1
    doc = _to_doc(case)
    new_events = doc.pop("outbox")
    doc.pop("_id")
    adding = _contacts_added(new_events)
    held = [c.contact_id for c in case.contacts]
    if any(held.count(contact_id) > 1 for contact_id in adding):
        case.version = expected
        raise DuplicateContact(f"case {case.number} already holds contact {adding}")
    update: dict[str, Any] = {"$set": doc, "$push": {"outbox": {"$each": new_events}}}
    if release_lease:
        update["$unset"] = {"lease_until": "", "lease_owner": ""}
    try:
        result = await store[CASES].update_one(
            {"_id": case.id, "version": expected, "contacts.contact_id": {"$nin": adding}},
            update,
        )
        TOTALS.touch()
    except DuplicateKeyError as exc:
        case.version = expected
        raise DuplicateContact(str(exc)) from exc
    if result.matched_count == 0:
        case.version = expected
        if adding and await store[CASES].find_one(
            {"_id": case.id, "contacts.contact_id": {"$in": adding}}, {"_id": 1}
        ):
            raise DuplicateContact(f"case {case.number} already holds contact {adding}")
        raise StaleCase(f"case {case.number} changed meanwhile; reload and try again")
    case.outbox.clear()


def _contacts_added(events: Sequence[dict[str, Any]]) -> list[str]:
    return [
        str(event["data"]["detail"]["contact_id"])
        for event in events
        if event.get("type") == "case.contact_added"
        and "contact_id" in event.get("data", {}).get("detail", {})
    ]


async def get_case(store: Store, case_id: str) -> Case:
    """Return the case with ``case_id`` or its number."""
    # Two point lookups: an $or of them is a collection scan on some servers.
    doc = await store[CASES].find_one({"_id": case_id})
    if doc is None:
        doc = await store[CASES].find_one({"number": case_id})
    if doc is None:
        raise NotFound(f"no case {case_id}")
    return _from_doc(doc)


async def find_by_contact(store: Store, contact_id: str) -> Case | None:
    """Return the case that holds ``contact_id``, if any."""
    doc = await store[CASES].find_one({"contacts.contact_id": contact_id})
    return _from_doc(doc) if doc else None


async def find_referenced(
    store: Store, *, numbers: Sequence[str], message_ids: Sequence[str]
) -> Case | None:
    """Return the case a contact refers to: by case number first, then by a stored Message-ID."""
    for number in numbers:
        doc = await store[CASES].find_one({"number": number})
        if doc is not None:
            return _from_doc(doc)
    if message_ids:
        doc = await store[CASES].find_one({"contacts.message_id": {"$in": list(message_ids)}})
        if doc is not None:
            return _from_doc(doc)
    return None


async def subject_cases(store: Store, subject_ref: str | None, *, limit: int = 10) -> list[Case]:
    """Return the customer's most recently updated cases, without their history (read-only)."""
    if not subject_ref:
        return []
    cursor = (
        store[CASES]
        .find({"subject_ref": subject_ref}, _LIST_PROJECTION)
        .sort("updated_at", DESCENDING)
        .limit(limit)
    )
    return [_from_doc(doc) async for doc in cursor]


# Narrower ranges a list's first pages are read from first: a page the newest
# (most recently updated, soonest due, most urgent) cases fill reads only them,
# not every case of its view. Each range is a prefix of the list's order.
_SPANS = (timedelta(days=1), timedelta(days=7), timedelta(days=30), timedelta(days=180))
# Deeper than this, a page is read from the whole view.
_WINDOWED_UP_TO = 500
# How long a view's total is reused; a stale one is answered while it is recounted.
TOTAL_TTL_S = 15.0


def _windows(sort: SortKeys, now: datetime) -> list[dict[str, Any]]:
    """Return the ranges, narrowest first, that hold the first cases of ``sort``."""
    field, direction = sort[0]
    if (field, direction) == ("created_at", DESCENDING):
        return [{"created_at": {"$gte": now - span}} for span in _SPANS]
    if (field, direction) == ("updated_at", DESCENDING):
        return [{"updated_at": {"$gte": now - span}} for span in _SPANS]
    if (field, direction) == ("due_sort", ASCENDING):
        return [{"due_sort": {"$lte": now + span}} for span in _SPANS]
    if (field, direction) == ("urgency_rank", DESCENDING):
        return [{"urgency_rank": {"$gte": rank}} for rank in (3, 2, 1)]
    return []


class Totals:
    """Counts of case lists, reused until this process writes a case or ``TOTAL_TTL_S`` passes.

    Counting a view reads all of it on the embedded store, and a queue page
    asks for its total every time it is drawn. A total is exact after any
    case write of this process (each write moves the generation on); what
    other routing replicas wrote shows within the TTL, the stale total being
    answered while it is recounted in the background.
    """

    def __init__(self, ttl_s: float = TOTAL_TTL_S, size: int = 2000) -> None:
        self._ttl, self._size = ttl_s, size
        self._known: dict[str, tuple[int, float, int]] = {}
        self._refreshing: set[str] = set()
        self._generation = 0

    def touch(self) -> None:
        """Say a case was written: every total is counted again when next asked."""
        self._generation += 1

    async def count(self, store: Store, filters: dict[str, Any]) -> int:
        """Return how many cases match ``filters``."""
        key = store.db.name + repr(sorted(filters.items(), key=lambda item: item[0]))
        known = self._known.get(key)
        if known is None or known[2] != self._generation:
            return await self._recount(store, filters, key)
        if time.monotonic() - known[1] > self._ttl and key not in self._refreshing:
            self._refreshing.add(key)
            task = asyncio.create_task(self._recount(store, filters, key))
            task.add_done_callback(lambda _: self._refreshing.discard(key))
        return known[0]

    async def _recount(self, store: Store, filters: dict[str, Any], key: str) -> int:
        generation = self._generation
        value = await store[CASES].count_documents(filters)
        if len(self._known) >= self._size:
            self._known.pop(next(iter(self._known)))
        self._known[key] = (value, time.monotonic(), generation)
        return value


TOTALS = Totals()


async def list_cases(
    store: Store,
    *,
    filters: dict[str, Any],
    skip: int,
    limit: int,
    sort: SortKeys | None = None,
    now: datetime | None = None,
) -> tuple[list[Case], int]:
    """Return one page of cases matching ``filters`` in ``sort`` order, without history."""
    order = sort or [("created_at", DESCENDING)]
    total = await TOTALS.count(store, filters)
    wanted = skip + limit
    windows = _windows(order, now or datetime.now(UTC)) if wanted <= _WINDOWED_UP_TO else []
    for window in windows:
        if set(window) & set(filters):
            break  # the caller already bounds that field: read the view itself
        cursor = store[CASES].find({**filters, **window}, _LIST_PROJECTION).sort(order)
        docs = await cursor.limit(wanted).to_list()
        if len(docs) >= wanted:
            return [_from_doc(doc) for doc in docs[skip:]], total
    cursor = store[CASES].find(filters, _LIST_PROJECTION).sort(order).skip(skip).limit(limit)
    return [_from_doc(doc) async for doc in cursor], total


async def count_lanes(store: Store, lanes: Sequence[str]) -> list[int]:
    """Return how many cases are in each of ``lanes`` (one index range each, reused a while)."""
    return [await TOTALS.count(store, {"lanes": key}) for key in lanes]


async def moving_to(store: Store, contact_id: str) -> Case | None:
    """Return the case a split left ``contact_id`` on its way to, if a split stopped half-way."""
    doc = await store[CASES].find_one({"moving_contact.contact_id": contact_id})
    return _from_doc(doc) if doc else None


async def backfill_lanes(store: Store) -> int:
    """Write the workspace fields onto cases stored before they existed; return how many."""
    done = 0
    async for doc in store[CASES].find({"lanes": {"$exists": False}}):
        derived = _to_doc(_from_doc(doc))
        fields = {key: derived[key] for key in WORKSPACE_FIELDS}
        await store[CASES].update_one({"_id": doc["_id"]}, {"$set": fields})
        TOTALS.touch()
        done += 1
    return done


async def pending_outbox(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    """Return cases that still have events to publish (only the outbox field)."""
    # Queried through the sparse outbox.id index: it holds only cases with pending events.
    cursor = store[CASES].find({"outbox.id": {"$exists": True}}, {"outbox": 1}).limit(limit)
    return [doc async for doc in cursor]


async def mark_published(store: Store, case_id: str, envelope_ids: Sequence[str]) -> None:
    """Remove published events from the case's outbox."""
    await store[CASES].update_one(
        {"_id": case_id}, {"$pull": {"outbox": {"id": {"$in": list(envelope_ids)}}}}
    )


async def due_case_ids(store: Store, *, now: datetime, limit: int) -> list[str]:
    """Return cases whose SLA needs attention by ``now``, the longest due first."""
    cursor = (
        store[CASES]
        .find({"sla_next_due": {"$lte": now}}, {"_id": 1})
        .sort("sla_next_due", ASCENDING)
        .limit(limit)
    )
    return [doc["_id"] async for doc in cursor]


async def take_lease(
    store: Store, case_id: str, *, now: datetime, until: datetime, owner: str
) -> bool:
    """Lease a due case to ``owner`` until ``until``; False if it is not due or someone holds it.

    A compare-and-set: the write matches only if the case and its lease are still as read,
    so of several replicas racing for one case exactly one gets it. (A conditional update
    rather than findOneAndUpdate: the embedded server rewrites slowly through the latter.)
    """
    cases = store[CASES]
    seen = await cases.find_one(
        {"_id": case_id}, {"sla_next_due": 1, "lease_until": 1, "version": 1}
    )
    if seen is None or seen.get("sla_next_due") is None or seen["sla_next_due"] > now:
        return False
    held = seen.get("lease_until")
    if held is not None and held > now:
        return False
    result = await cases.update_one(
        {"_id": case_id, "version": seen["version"], "lease_until": held},
        {"$set": {"lease_until": until, "lease_owner": owner}},
    )
    return result.modified_count == 1


async def release_lease(store: Store, case_id: str, *, owner: str) -> None:
    """Give up a lease without changing the case (e.g. the work failed)."""
    await store[CASES].update_one(
        {"_id": case_id, "lease_owner": owner}, {"$unset": {"lease_until": "", "lease_owner": ""}}
    )


async def member_loads(store: Store, unit: str, members: Sequence[str]) -> dict[str, int]:
    """Return how many open cases each of ``members`` of ``unit`` holds."""
    # One indexed query for the whole unit rather than one count per member.
    holders = {f"{unit}:{user}": user for user in members}
    loads = dict.fromkeys(members, 0)
    if not holders:
        return loads
    cursor = store[CASES].find({"holder": {"$in": list(holders)}}, {"holder": 1, "_id": 0})
    async for doc in cursor:
        loads[holders[doc["holder"]]] += 1
    return loads


async def waiting_cases(store: Store, unit: str, *, limit: int) -> list[str]:
    """Return the unit's unassigned cases nobody has started, oldest first."""
    cursor = (
        store[CASES].find({"queue": unit}, {"_id": 1}).sort("created_at", ASCENDING).limit(limit)
    )
    return [doc["_id"] async for doc in cursor]


async def member_cases(store: Store, unit: str, user: str, *, statuses: Sequence[str]) -> list[str]:
    """Return ids of ``user``'s open cases in ``unit`` with one of ``statuses``, oldest first."""
    cursor = store[CASES].find({"holder": f"{unit}:{user}"}, {"status": 1, "created_at": 1})
    held = [doc async for doc in cursor if doc["status"] in statuses]
    return [doc["_id"] for doc in sorted(held, key=lambda doc: doc["created_at"])]


INDEXES: IndexPlan = {CASES: CASE_INDEXES}
