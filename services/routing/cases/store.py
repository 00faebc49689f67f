"""Routing's cases collection: the case document with its outbox, and the queries on it."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.errors import DuplicateKeyError

from services.routing.cases import list_store
from services.routing.cases import lists as case_lists
from services.routing.cases.domain import UNSTARTED_STATUSES, Case
from services.routing.reports.days import PENDING as REPORT_PENDING
from services.routing.reports.days import report_mark
from shared.errors import Conflict, NotFound
from shared.store import IndexPlan, Store, increment

log = logging.getLogger(__name__)

CASES = "cases"
COUNTERS = "counters"
# The field a case write leaves for the report rollups (its day's key).
REPORT_MARK = REPORT_PENDING

SortKeys = case_lists.SortKeys
# Each order the workspace lists cases in (its last key unique); each is also an index
# after ``lanes``, one per set of fields (walked backwards for the opposite direction).
LIST_SORTS = case_lists.LIST_SORTS
_SORT_INDEXES = {tuple(field for field, _ in keys): keys for keys in LIST_SORTS.values()}
URGENCY_RANK = case_lists.URGENCY_RANK
NEVER_DUE = list_store.NEVER_DUE
# What the lane books count of a case (its lanes, order keys and urgency).
BOOKED = list_store.BOOK_FIELDS
# What _to_doc derives for the workspace's lists.
WORKSPACE_FIELDS = ("open", "sla_flag", "lanes", "due_sort", "urgency_rank")
ANY_UNIT = "*"
NO_UNIT = "-"  # unit ids start with a letter or digit, so neither marker is a unit

CASE_INDEXES = [
    IndexModel("number", unique=True),
    IndexModel("contacts.contact_id", unique=True),
    IndexModel("contacts.message_id", sparse=True),
    # Derived on write (see _to_doc): a unit's waiting queue and a member's open cases.
    IndexModel([("queue", ASCENDING), ("created_at", ASCENDING)]),
    IndexModel("holder"),
    IndexModel([("subject_ref", ASCENDING), ("updated_at", DESCENDING)]),
    IndexModel("outbox.id", sparse=True),
    # Reports: one organisation's cases opened in a period.
    IndexModel([("org", ASCENDING), ("created_at", ASCENDING)]),
    # Cases written since the report rollups last took their marks (see reports/rollups.py).
    IndexModel(REPORT_PENDING, sparse=True),
    # The SLA watcher's one query: cases whose next step or breach is due.
    IndexModel([("sla_next_due", ASCENDING)]),
    # The workspace's case lists: one lane (see _lanes) then each sort's keys, so
    # every view × sort is one index range walked in order (both directions).
    *(IndexModel([("lanes", ASCENDING), *keys]) for keys in _SORT_INDEXES.values()),
    # A split whose contact is still on its way to the new case (almost always empty).
    IndexModel("moving_contact.contact_id", sparse=True),
]
# Indexes no query uses any more: every index costs each write of a case (the
# embedded store re-indexes a document in every index on each update), so
# routing drops these at start where an older version made them.
RETIRED_INDEXES = ("status_1_updated_at_-1", "unit_1_status_1", "created_at_-1")
_LIST_PROJECTION = list_store.LIST_PROJECTION


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
    # In the same write, so the report rollups never miss a change (see reports/days.py).
    doc.update(report_mark(case.org, case.created_at))
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
    case = Case.model_validate(doc)
    case.stored_lanes = list_store.book_fields(doc)
    return case


async def insert_case(store: Store, case: Case) -> None:
    """Insert a new case with its outbox; raise ``DuplicateContact`` on a redelivery."""
    case.version = 1
    doc = _to_doc(case)
    try:
        await store[CASES].insert_one(doc)
    except DuplicateKeyError as exc:
        raise DuplicateContact(str(exc)) from exc
    await _update_books(store, case, None, doc)
    case.outbox.clear()


async def _update_books(
    store: Store, case: Case, before: dict[str, Any] | None, doc: dict[str, Any]
) -> None:
    """Bring the lane books up to a case write that took ``before`` to ``doc``."""
    after = list_store.book_fields(doc)
    case.stored_lanes = after
    try:
        await list_store.write_books(store, before, after)
    except Exception:
        # The case is written; its lanes' counts are off until the books are rebuilt.
        log.exception("could not update the lane books", extra={"case": case.number})


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
    before = case.stored_lanes
    if before is None:
        # Not read through this store (no lanes known): the stored version's are the ones.
        seen = await store[CASES].find_one(
            {"_id": case.id, "version": expected}, {"lanes": 1, **dict.fromkeys(BOOKED, 1)}
        )
        before = list_store.book_fields(seen) if seen else None
    try:
        result = await store[CASES].update_one(
            {"_id": case.id, "version": expected, "contacts.contact_id": {"$nin": adding}},
            update,
        )
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
    if before is not None:
        await _update_books(store, case, before, doc)
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


async def find_by_contacts(store: Store, contact_ids: Sequence[str]) -> dict[str, Case]:
    """Return the cases holding any of ``contact_ids`` (one read), by contact id."""
    if not contact_ids:
        return {}
    wanted = set(contact_ids)
    found: dict[str, Case] = {}
    async for doc in store[CASES].find({"contacts.contact_id": {"$in": sorted(wanted)}}):
        case = _from_doc(doc)
        for contact in case.contacts:
            if contact.contact_id in wanted:
                found[contact.contact_id] = case
    return found


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


async def subjects_cases(
    store: Store, subject_refs: Sequence[str], *, limit: int = 10
) -> dict[str, list[Case]]:
    """Return each customer's most recently updated cases (one read), as ``subject_cases``.

    The read walks every case of these customers (the ``subject_ref`` index,
    list projection) and keeps ``limit`` each: one query for a batch is
    cheaper than one per customer unless a customer holds thousands.
    """
    wanted = list(dict.fromkeys(ref for ref in subject_refs if ref))
    found: dict[str, list[Case]] = {ref: [] for ref in wanted}
    if not wanted:
        return found
    cursor = (
        store[CASES]
        .find({"subject_ref": {"$in": wanted}}, _LIST_PROJECTION)
        .sort("updated_at", DESCENDING)
    )
    async for doc in cursor:
        cases = found[str(doc["subject_ref"])]
        if len(cases) < limit:
            cases.append(_from_doc(doc))
    return found


def case_filters(
    *,
    lane: str,
    status: str | None = None,
    channel: str | None = None,
    topic: str | None = None,
    category: str | None = None,
    assignee: str | None = None,
    urgency: str | None = None,
    subject_refs: Sequence[str] | None = None,
    q: str | None = None,
) -> dict[str, Any]:
    """Return ``list_cases``'s filters for a lane and the list's fields (an empty one: any).

    ``subject_refs`` names the customers (one, or several a name search found;
    None: anyone's); ``q`` is looked for, case-blind, in the case number and
    the contacts' text.
    """
    filters: dict[str, Any] = {"lanes": lane}
    for field, value in (
        ("status", status),
        ("channels", channel),
        ("topic", topic),
        ("category", category),
        ("assignee", assignee),
        ("urgency", urgency),
    ):
        if value:
            filters[field] = value
    if subject_refs is not None:
        refs = list(subject_refs)
        filters["subject_ref"] = refs[0] if len(refs) == 1 else {"$in": refs}
    if q:
        pattern = {"$regex": re.escape(q), "$options": "i"}
        filters["$or"] = [{"number": pattern}, {"contacts.text": pattern}]
    return filters


async def list_cases(
    store: Store,
    *,
    filters: dict[str, Any],
    skip: int,
    limit: int,
    sort: str = "-created_at",
    after: str | None = None,
    now: datetime | None = None,
) -> tuple[list[Case], case_lists.Page]:
    """Return one page of a lane's cases matching ``filters`` in ``sort`` order, without history.

    ``filters`` holds ``lanes`` (one lane) and the list's other filters;
    ``after`` is a cursor from an earlier page's ``next``.
    """
    rest = dict(filters)
    lane = rest.pop("lanes")
    page = await case_lists.read_page(
        store,
        lane=lane,
        filters=rest,
        order=case_lists.ORDERS[sort],
        skip=skip,
        limit=limit,
        after=after,
        now=now,
    )
    return [_from_doc(doc) for doc in page.docs], page


async def count_lanes(store: Store, lanes: Sequence[str]) -> list[int]:
    """Return how many cases are in each of ``lanes`` (their lane books, one read)."""
    counts = await list_store.lane_counts(store, lanes)
    return [counts[key] for key in lanes]


async def moving_to(store: Store, contact_id: str) -> Case | None:
    """Return the case a split left ``contact_id`` on its way to, if a split stopped half-way."""
    doc = await store[CASES].find_one({"moving_contact.contact_id": contact_id})
    return _from_doc(doc) if doc else None


async def drop_retired_indexes(store: Store) -> list[str]:
    """Drop the ``RETIRED_INDEXES`` the cases still have; return their names."""
    held = set(await store[CASES].index_information())
    retired = [name for name in RETIRED_INDEXES if name in held]
    for name in retired:
        await store[CASES].drop_index(name)
    return retired


async def backfill_lanes(store: Store) -> int:
    """Write the workspace fields onto cases stored before they existed; return how many."""
    done = 0
    async for doc in store[CASES].find({"lanes": {"$exists": False}}):
        derived = _to_doc(_from_doc(doc))
        fields = {key: derived[key] for key in WORKSPACE_FIELDS}
        await store[CASES].update_one({"_id": doc["_id"]}, {"$set": fields})
        # Counted as new lanes (which also fails a recount that read the case before).
        ops = list_store.lane_ops(None, list_store.book_fields(derived))
        await list_store.apply_ops(store, ops)
        done += 1
    if done:
        await list_store.rebuild_books(store)  # a case counted twice by the above
    return done


async def pending_outbox(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    """Return cases that still have events to publish (only the outbox field)."""
    # Queried through the sparse outbox.id index: it holds only cases with pending events.
    # With each case's version and report mark, so the write that marks its
    # events published may clear the mark too (see ``mark_published``).
    projection = {"outbox": 1, "version": 1, REPORT_PENDING: 1}
    cursor = store[CASES].find({"outbox.id": {"$exists": True}}, projection).limit(limit)
    return [doc async for doc in cursor]


async def mark_published(
    store: Store,
    published: Mapping[str, Sequence[str]],
    *,
    marks: Mapping[str, tuple[int, str]] | None = None,
) -> None:
    """Remove published events from their cases' outboxes (case id -> envelope ids), one write.

    ``marks`` (case id -> the version and report mark ``pending_outbox`` read)
    are marks whose days were made dirty since: each goes in the same write,
    if its case is still at that version. A case written since keeps its
    newer mark, and its events are then removed by a second write.
    """
    if not published:
        return
    marks = {case_id: mark for case_id, mark in (marks or {}).items() if case_id in published}

    def pull(case_id: str) -> dict[str, Any]:
        return {"$pull": {"outbox": {"id": {"$in": list(published[case_id])}}}}

    ops = []
    for case_id in published:
        if case_id in marks:
            version, mark = marks[case_id]
            taken = {"_id": case_id, "version": version, REPORT_PENDING: mark}
            ops.append(UpdateOne(taken, {**pull(case_id), "$unset": {REPORT_PENDING: ""}}))
        else:
            ops.append(UpdateOne({"_id": case_id}, pull(case_id)))
    result = await store[CASES].bulk_write(ops, ordered=False)
    if marks and result.matched_count < len(ops):
        # Some case moved on since it was read: its events still go (a no-op for the rest).
        await store[CASES].bulk_write(
            [UpdateOne({"_id": case_id}, pull(case_id)) for case_id in marks], ordered=False
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
rebuild_books = list_store.rebuild_books
