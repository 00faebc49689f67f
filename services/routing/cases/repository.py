"""The case repository: the ports routing's use cases reach the cases through, and MongoDB's.

Four ports, one per kind of caller:

- ``CaseRepository``: read a case, write it back with its new events (refused
  with ``StaleCase`` if it moved on since it was read), insert a new one,
  find the case a contact belongs to or names, number a new case;
- ``CaseOutbox``: the relay's view, events written with their case until
  they are marked published;
- ``CaseLeases``: the SLA watcher's view, due cases leased to one replica
  at a time;
- ``CaseQueues``: the unit queues' view (``assignment/dispatch.py``), the
  cases a unit's members hold and those waiting in it.

``MongoCases`` implements all four on the functions of ``store.py`` (its
queries, indexes and lane-book writes); ``tests/support/routing_memory.py``
holds the in-memory fake the use cases' unit tests run on.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from services.routing.cases import list_store
from services.routing.cases import store as case_store
from services.routing.cases.domain import Case
from shared.store import Store

log = logging.getLogger(__name__)
# Makes the report days of marks dirty (a new generation); given by the composition root.
DayMarker = Callable[[Sequence[str]], Awaitable[None]]


class CaseRepository(Protocol):
    """What the use cases ask of the stored cases."""

    async def get_case(self, case_id: str) -> Case:
        """Return the case with ``case_id`` or its number; raise ``NotFound``."""
        ...

    async def save_case(self, case: Case, *, release_lease: bool = False) -> None:
        """Write a changed case with its new events; ``StaleCase`` if its version moved on.

        ``DuplicateContact`` if a contact it adds is already part of a case.
        """
        ...

    async def insert_case(self, case: Case) -> None:
        """Insert a new case at version 1; ``DuplicateContact`` if a contact is someone's."""
        ...

    async def find_by_contact(self, contact_id: str) -> Case | None:
        """Return the case that holds ``contact_id``, if any."""
        ...

    async def find_referenced(
        self, *, numbers: Sequence[str], message_ids: Sequence[str]
    ) -> Case | None:
        """Return the case a contact names: by number first, then by a stored Message-ID."""
        ...

    async def find_by_contacts(self, contact_ids: Sequence[str]) -> dict[str, Case]:
        """Return the cases holding any of ``contact_ids``, by contact id."""
        ...

    async def subjects_cases(
        self, subject_refs: Sequence[str], *, limit: int = 10
    ) -> dict[str, list[Case]]:
        """Return each customer's most recently updated cases, without their history."""
        ...

    async def subject_cases(self, subject_ref: str | None, *, limit: int = 10) -> list[Case]:
        """Return the customer's most recently updated cases, without their history."""
        ...

    async def moving_to(self, contact_id: str) -> Case | None:
        """Return the case a stopped split left ``contact_id`` on its way to, if any."""
        ...

    def batched_writes(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Group what the writes inside the block cost beside the cases, written as it ends."""
        ...

    async def next_serial(self, year: int) -> int:
        """Return the next case serial of ``year``."""
        ...


class CaseOutbox(Protocol):
    """The events written with their cases, until the relay has published them."""

    async def pending_outbox(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """Return ``{"_id": case id, "outbox": [envelope, ...]}`` of cases with pending events."""
        ...

    async def mark_published(
        self, published: Mapping[str, Sequence[str]], *, seen: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        """Remove published events from their cases' outboxes (case id -> envelope ids).

        ``seen``: the cases as ``pending_outbox`` returned them, for what else
        the store may settle in the same write.
        """
        ...


class CaseLeases(Protocol):
    """Due cases, leased to one replica at a time while it fires their SLA steps."""

    async def due_case_ids(self, *, now: datetime, limit: int) -> list[str]:
        """Return cases whose SLA needs attention by ``now``, the longest due first."""
        ...

    async def take_lease(self, case_id: str, *, now: datetime, until: datetime, owner: str) -> bool:
        """Lease a due case to ``owner`` until ``until``; False if not due or held by another."""
        ...

    async def release_lease(self, case_id: str, *, owner: str) -> None:
        """Give up ``owner``'s lease without changing the case."""
        ...


class CaseQueues(Protocol):
    """The cases as the unit queues count and hand them out."""

    async def member_loads(self, unit: str, members: Sequence[str]) -> dict[str, int]:
        """Return how many open cases each of ``members`` of ``unit`` holds."""
        ...

    async def waiting_cases(self, unit: str, *, limit: int) -> list[str]:
        """Return the ids of the unit's unassigned cases nobody has started, oldest first."""
        ...

    async def member_cases(self, unit: str, user: str, *, statuses: Sequence[str]) -> list[str]:
        """Return the ids of ``user``'s open cases in ``unit`` with ``statuses``, oldest first."""
        ...


class MongoCases:
    """The cases collection as the four ports (see ``store.py`` for each query)."""

    def __init__(self, store: Store, *, mark_days: DayMarker | None = None) -> None:
        self._store = store
        self._mark_days = mark_days

    async def get_case(self, case_id: str) -> Case:
        """Return the case with ``case_id`` or its number; raise ``NotFound``."""
        return await case_store.get_case(self._store, case_id)

    async def save_case(self, case: Case, *, release_lease: bool = False) -> None:
        """Write a changed case with its new events if nobody changed it meanwhile."""
        await case_store.save_case(self._store, case, release_lease=release_lease)

    async def insert_case(self, case: Case) -> None:
        """Insert a new case with its outbox."""
        await case_store.insert_case(self._store, case)

    async def find_by_contact(self, contact_id: str) -> Case | None:
        """Return the case that holds ``contact_id``, if any."""
        return await case_store.find_by_contact(self._store, contact_id)

    async def find_referenced(
        self, *, numbers: Sequence[str], message_ids: Sequence[str]
    ) -> Case | None:
        """Return the case a contact names: by number first, then by a stored Message-ID."""
        return await case_store.find_referenced(
            self._store, numbers=numbers, message_ids=message_ids
        )

    async def subject_cases(self, subject_ref: str | None, *, limit: int = 10) -> list[Case]:
        """Return the customer's most recently updated cases, without their history."""
        return await case_store.subject_cases(self._store, subject_ref, limit=limit)

    async def find_by_contacts(self, contact_ids: Sequence[str]) -> dict[str, Case]:
        """Return the cases holding any of ``contact_ids`` (one read), by contact id."""
        return await case_store.find_by_contacts(self._store, contact_ids)

    async def subjects_cases(
        self, subject_refs: Sequence[str], *, limit: int = 10
    ) -> dict[str, list[Case]]:
        """Return each customer's most recently updated cases (one read)."""
        return await case_store.subjects_cases(self._store, subject_refs, limit=limit)

    async def moving_to(self, contact_id: str) -> Case | None:
        """Return the case a stopped split left ``contact_id`` on its way to, if any."""
        return await case_store.moving_to(self._store, contact_id)

    def batched_writes(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Write the lane books of the block's case writes in one round trip as it ends."""
        return list_store.deferred_books(self._store)

    async def next_serial(self, year: int) -> int:
        """Return the next case serial of ``year`` (an atomic counter)."""
        return await case_store.next_serial(self._store, year)

    async def pending_outbox(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """Return cases that still have events to publish (only the outbox field)."""
        return await case_store.pending_outbox(self._store, limit=limit)

    async def mark_published(
        self, published: Mapping[str, Sequence[str]], *, seen: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        """Remove published events from their cases' outboxes, in one write.

        With ``mark_days``, the report marks of ``seen`` cases go in that write
        too: their days are made dirty first, as the report rollups would
        before clearing a mark, so a case is not written once more for it.
        """
        marks = {
            str(doc["_id"]): (int(doc.get("version") or 0), str(doc[case_store.REPORT_MARK]))
            for doc in seen
            if doc.get(case_store.REPORT_MARK) and doc["_id"] in published
        }
        if marks and self._mark_days is not None:
            try:
                await self._mark_days(sorted({mark for _, mark in marks.values()}))
            except Exception:
                log.warning("report days not marked; the rollups will take the marks")
                marks = {}
        else:
            marks = {}
        await case_store.mark_published(self._store, published, marks=marks)

    async def due_case_ids(self, *, now: datetime, limit: int) -> list[str]:
        """Return cases whose SLA needs attention by ``now``, the longest due first."""
        return await case_store.due_case_ids(self._store, now=now, limit=limit)

    async def take_lease(self, case_id: str, *, now: datetime, until: datetime, owner: str) -> bool:
        """Lease a due case to ``owner`` until ``until`` (a compare-and-set)."""
        return await case_store.take_lease(self._store, case_id, now=now, until=until, owner=owner)

    async def release_lease(self, case_id: str, *, owner: str) -> None:
        """Give up ``owner``'s lease without changing the case."""
        await case_store.release_lease(self._store, case_id, owner=owner)

    async def member_loads(self, unit: str, members: Sequence[str]) -> dict[str, int]:
        """Return how many open cases each of ``members`` of ``unit`` holds (one read)."""
        return await case_store.member_loads(self._store, unit, members)

    async def waiting_cases(self, unit: str, *, limit: int) -> list[str]:
        """Return the ids of the unit's unassigned cases nobody has started, oldest first."""
        return await case_store.waiting_cases(self._store, unit, limit=limit)

    async def member_cases(self, unit: str, user: str, *, statuses: Sequence[str]) -> list[str]:
        """Return the ids of ``user``'s open cases in ``unit`` with ``statuses``, oldest first."""
        return await case_store.member_cases(self._store, unit, user, statuses=statuses)
