"""Routing's case repository in memory, for unit tests of the use cases without a store.

``MemoryCases`` implements the ports of ``services/routing/cases/repository.py``
(``CaseRepository``, ``CaseOutbox``, ``CaseLeases``, ``CaseQueues``) with the
semantics the use cases rely on, as ``MongoCases`` has them:

- a case is stored as a copy and read back as a fresh one, its outbox empty;
- ``save_case`` writes only over the version it read (``StaleCase``
  otherwise) and bumps it; ``race_once`` makes another writer win once;
- a contact id belongs to one case (``DuplicateContact``), as does a number;
- serials count up per year from 1;
- events written with a case are pending until ``mark_published``;
- a lease is held until it expires or its owner releases it;
- a unit's queue holds its unassigned cases nobody started, oldest first; a
  member's load counts the open cases assigned to them in that unit.

``tests/integration/test_routing_repository.py`` runs the same scenarios on
this fake and on MongoDB, so the two cannot drift apart. ``NoSeats`` stands in
for the unit queues (``Dispatcher``): nobody is free, and it keeps what it was
asked.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.routing.cases.domain import UNSTARTED_STATUSES, Case
from services.routing.cases.store import DuplicateContact, StaleCase
from shared.errors import NotFound

Change = Callable[[Case], None]


class MemoryCases:
    """Cases kept in a dict: a case repository, its outbox and its SLA leases."""

    def __init__(self) -> None:
        self._docs: dict[str, dict[str, Any]] = {}
        self._outbox: dict[str, list[dict[str, Any]]] = {}
        self._leases: dict[str, tuple[datetime, str]] = {}
        self._serials: dict[int, int] = {}
        self._races: dict[str, Change] = {}

    def race_once(self, case_id: str, change: Change) -> None:
        """Let another writer apply ``change`` to the stored case just before the next save."""
        self._races[case_id] = change

    def stored(self, case_id: str) -> Case:
        """Return the case as stored, with the events still pending in its outbox."""
        case = self._load(self._docs[case_id])
        case.outbox = copy.deepcopy(self._outbox[case_id])
        return case

    def lease_of(self, case_id: str) -> tuple[datetime, str] | None:
        """Return until when and by whom the case is leased, if it is."""
        return self._leases.get(case_id)

    async def get_case(self, case_id: str) -> Case:
        """Return the case with ``case_id`` or its number; raise ``NotFound``."""
        doc = self._docs.get(case_id) or self._by_number(case_id)
        if doc is None:
            raise NotFound(f"no case {case_id}")
        return self._load(doc)

    async def save_case(self, case: Case, *, release_lease: bool = False) -> None:
        """Write a changed case with its new events if nobody changed it meanwhile."""
        if not case.timeline:
            raise ValueError(f"case {case.number} was read without its timeline; not saved")
        race = self._races.pop(case.id, None)
        if race is not None:
            self._race(case.id, race)
        adding = [
            str(event["data"]["detail"]["contact_id"])
            for event in case.outbox
            if event.get("type") == "case.contact_added"
            and "contact_id" in event.get("data", {}).get("detail", {})
        ]
        held = [c.contact_id for c in case.contacts]
        if any(held.count(contact_id) > 1 for contact_id in adding):
            raise DuplicateContact(f"case {case.number} already holds contact {adding}")
        stored = self._docs.get(case.id)
        if stored is None or stored["version"] != case.version:
            if stored is not None and set(adding) & _contact_ids(stored):
                raise DuplicateContact(f"case {case.number} already holds contact {adding}")
            raise StaleCase(f"case {case.number} changed meanwhile; reload and try again")
        self._refuse_taken(case)
        case.version += 1
        self._write(case)
        if release_lease:
            self._leases.pop(case.id, None)

    async def insert_case(self, case: Case) -> None:
        """Insert a new case at version 1 with its events pending."""
        case.version = 1
        if case.id in self._docs:
            raise DuplicateContact(f"case {case.id} exists")
        self._refuse_taken(case)
        self._outbox[case.id] = []
        self._write(case)

    async def find_by_contact(self, contact_id: str) -> Case | None:
        """Return the case that holds ``contact_id``, if any."""
        for doc in self._docs.values():
            if contact_id in _contact_ids(doc):
                return self._load(doc)
        return None

    async def find_referenced(
        self, *, numbers: Sequence[str], message_ids: Sequence[str]
    ) -> Case | None:
        """Return the case a contact names: by number first, then by a stored Message-ID."""
        for number in numbers:
            doc = self._by_number(number)
            if doc is not None:
                return self._load(doc)
        for doc in self._docs.values():
            if {c["message_id"] for c in doc["contacts"]} & set(message_ids):
                return self._load(doc)
        return None

    async def subject_cases(self, subject_ref: str | None, *, limit: int = 10) -> list[Case]:
        """Return the customer's most recently updated cases, without their history."""
        if not subject_ref:
            return []
        docs = [doc for doc in self._docs.values() if doc["subject_ref"] == subject_ref]
        docs.sort(key=lambda doc: doc["updated_at"], reverse=True)
        cases = []
        for doc in docs[:limit]:
            case = self._load(doc)
            case.timeline, case.sla_history = [], []
            cases.append(case)
        return cases

    async def moving_to(self, contact_id: str) -> Case | None:
        """Return the case a stopped split left ``contact_id`` on its way to, if any."""
        for doc in self._docs.values():
            moving = doc.get("moving_contact")
            if moving is not None and moving["contact_id"] == contact_id:
                return self._load(doc)
        return None

    @contextlib.asynccontextmanager
    async def batched_writes(self) -> AsyncIterator[None]:
        """Nothing to group in memory: every write is made at once."""
        yield

    async def next_serial(self, year: int) -> int:
        """Return the next case serial of ``year``, counting from 1."""
        self._serials[year] = self._serials.get(year, 0) + 1
        return self._serials[year]

    async def pending_outbox(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """Return the cases that still have events to publish (only their outbox)."""
        pending = [
            {"_id": case_id, "outbox": copy.deepcopy(events)}
            for case_id, events in self._outbox.items()
            if events
        ]
        return pending[:limit]

    async def mark_published(
        self, published: Mapping[str, Sequence[str]], *, seen: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        """Remove published events from their cases' outboxes (case id -> envelope ids)."""
        for case_id, envelope_ids in published.items():
            done = set(envelope_ids)
            events = self._outbox.get(case_id, [])
            self._outbox[case_id] = [event for event in events if event["id"] not in done]

    async def due_case_ids(self, *, now: datetime, limit: int) -> list[str]:
        """Return cases whose SLA needs attention by ``now``, the longest due first."""
        due = [
            doc for doc in self._docs.values() if doc["sla_next_due"] and doc["sla_next_due"] <= now
        ]
        due.sort(key=lambda doc: doc["sla_next_due"])
        return [doc["id"] for doc in due[:limit]]

    async def take_lease(self, case_id: str, *, now: datetime, until: datetime, owner: str) -> bool:
        """Lease a due case to ``owner`` until ``until``; False if not due or held by another."""
        doc = self._docs.get(case_id)
        if doc is None or doc["sla_next_due"] is None or doc["sla_next_due"] > now:
            return False
        held = self._leases.get(case_id)
        if held is not None and held[0] > now:
            return False
        self._leases[case_id] = (until, owner)
        return True

    async def release_lease(self, case_id: str, *, owner: str) -> None:
        """Give up ``owner``'s lease without changing the case."""
        held = self._leases.get(case_id)
        if held is not None and held[1] == owner:
            del self._leases[case_id]

    async def member_loads(self, unit: str, members: Sequence[str]) -> dict[str, int]:
        """Return how many open cases each of ``members`` of ``unit`` holds."""
        loads = dict.fromkeys(members, 0)
        for case in self._held(unit):
            if case.assignee in loads:
                loads[case.assignee] += 1
        return loads

    async def waiting_cases(self, unit: str, *, limit: int) -> list[str]:
        """Return the ids of the unit's unassigned cases nobody has started, oldest first."""
        cases = [self._load(doc) for doc in self._docs.values()]
        waiting = [
            case
            for case in cases
            if case.unit == unit and case.assignee is None and case.status in UNSTARTED_STATUSES
        ]
        waiting.sort(key=lambda case: case.created_at)
        return [case.id for case in waiting[:limit]]

    async def member_cases(self, unit: str, user: str, *, statuses: Sequence[str]) -> list[str]:
        """Return the ids of ``user``'s open cases in ``unit`` with ``statuses``, oldest first."""
        held = [c for c in self._held(unit) if c.assignee == user and c.status in statuses]
        held.sort(key=lambda case: case.created_at)
        return [case.id for case in held]

    def _held(self, unit: str) -> list[Case]:
        """Return the open cases of ``unit`` someone holds."""
        cases = [self._load(doc) for doc in self._docs.values()]
        return [c for c in cases if c.unit == unit and c.assignee and c.is_open]

    def _race(self, case_id: str, change: Change) -> None:
        """Write ``change`` to the stored case as another writer would (its version moves on)."""
        other = self._load(self._docs[case_id])
        change(other)
        other.version += 1
        self._write(other)

    def _write(self, case: Case) -> None:
        doc = copy.deepcopy(case.model_dump())
        self._outbox[case.id].extend(doc.pop("outbox"))
        self._docs[case.id] = doc
        case.outbox.clear()

    def _refuse_taken(self, case: Case) -> None:
        """Refuse a case whose number or a contact of which another case holds."""
        ids = {c.contact_id for c in case.contacts}
        for other in self._docs.values():
            if other["id"] == case.id:
                continue
            if other["number"] == case.number or ids & _contact_ids(other):
                raise DuplicateContact(f"case {case.number}: a contact or number is another's")

    def _by_number(self, number: str) -> dict[str, Any] | None:
        return next((doc for doc in self._docs.values() if doc["number"] == number), None)

    @staticmethod
    def _load(doc: dict[str, Any]) -> Case:
        fresh = copy.deepcopy(doc)
        fresh["outbox"] = []
        return Case.model_validate(fresh)


def _contact_ids(doc: dict[str, Any]) -> set[str]:
    return {str(contact["contact_id"]) for contact in doc["contacts"]}


@dataclass
class NoSeats:
    """The unit queues with nobody free: no member is chosen, no waiting case handed out."""

    filled: list[str | None] = field(default_factory=list)

    async def choose(self, unit_id: str) -> str | None:
        """Queue every new case (nobody is free)."""
        return None

    async def fill(self, unit_id: str | None, *, at: datetime) -> int:
        """Record that the unit's queue was asked to fill; hand out nothing."""
        self.filled.append(unit_id)
        return 0
