"""Unit queues: handing cases to members, members pulling them, members going offline.

Members are those in force: an admin's override of a unit's members, else
the file's. A member's load is counted from the cases themselves (open cases
assigned to them), so it can never drift from the truth. Two replicas filling
one queue at once may pick the same case; the case's version lets only one
write win. The cases are reached through ``cases/repository.py``'s ports,
presence and round-robin tickets through ``assignment/store.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Iterator
from datetime import datetime

from services.routing.assignment import store as assignment_store
from services.routing.assignment import strategies as assignment
from services.routing.cases import lifecycle
from services.routing.cases.domain import UNSTARTED_STATUSES, Case
from services.routing.cases.repository import CaseQueues, CaseRepository
from services.routing.cases.store import StaleCase
from services.routing.org.config import OrgConfig, Unit
from services.routing.org.in_force import unit_in_force
from shared.errors import Conflict, NotFound
from shared.store import Store

log = logging.getLogger(__name__)
# Cases handed out per fill; the rest wait for the next freed seat.
FILL_BATCH = 50
# Round-robin tickets a replica takes from the unit's counter at a time: one
# write per this many assignments. Replicas interleave by blocks, and a block
# a replica dies holding only skips some turns of the rotation.
TICKET_BLOCK = 16
# Who is offline per unit, read once while a batch of contacts is routed.
_offline_seen: contextvars.ContextVar[dict[str, set[str]] | None] = contextvars.ContextVar(
    "offline_seen", default=None
)
# Members' loads per unit, read once while a batch is routed and counted on as
# the batch hands out cases.
_loads_seen: contextvars.ContextVar[dict[str, dict[str, int]] | None] = contextvars.ContextVar(
    "loads_seen", default=None
)


@contextlib.contextmanager
def read_once() -> Iterator[None]:
    """Read each unit's offline members and loads once inside the block (a batch of new cases).

    Inside the block a member's load goes up by one for each case ``choose``
    gives them; a case whose write then fails leaves that member counted one
    too high until the block ends, which only holds them back.
    """
    offline_token = _offline_seen.set({})
    loads_token = _loads_seen.set({})
    try:
        yield
    finally:
        _loads_seen.reset(loads_token)
        _offline_seen.reset(offline_token)


class Dispatcher:
    """Assign cases inside units and keep track of which members are offline."""

    def __init__(
        self, store: Store, *, org: OrgConfig, cases: CaseRepository, queues: CaseQueues
    ) -> None:
        self._store = store
        self._org = org
        self._cases = cases
        self._queues = queues
        self._tickets: dict[str, Iterator[int]] = {}
        self._loads_read = asyncio.Lock()
        self._offline_read = asyncio.Lock()

    def unit(self, unit_id: str) -> Unit:
        """Return the unit with the members in force, or raise ``NotFound``."""
        unit = unit_in_force(self._org, unit_id)
        if unit is None:
            raise NotFound(f"no unit {unit_id}")
        return unit

    async def choose(self, unit_id: str) -> str | None:
        """Return the member a new case of ``unit_id`` goes to, or None to queue it."""
        unit = unit_in_force(self._org, unit_id)
        if unit is None or unit.assignment == "pull" or not unit.members:
            return None
        loads = await self._loads(unit)
        offline = await self.offline(unit.id)
        ticket = await self._ticket(unit.id) if unit.assignment == "round_robin" else 0
        user = assignment.pick_member(unit, loads=loads, offline=offline, ticket=ticket)
        if user is not None:
            loads[user] = loads.get(user, 0) + 1
        return user

    async def _loads(self, unit: Unit) -> dict[str, int]:
        """Return the members' loads (read once per ``read_once``, counted on inside it)."""
        users = [member.user for member in unit.members]
        seen = _loads_seen.get()
        if seen is None:
            return await self._queues.member_loads(unit.id, users)
        # Contacts of a batch are routed side by side: they must all count on one reading.
        async with self._loads_read:
            if unit.id not in seen:
                seen[unit.id] = await self._queues.member_loads(unit.id, users)
        return seen[unit.id]

    async def fill(self, unit_id: str | None, *, at: datetime) -> int:
        """Hand the unit's waiting cases, oldest first, to members with room; return how many."""
        unit = unit_in_force(self._org, unit_id)
        if unit is None or unit.assignment == "pull" or not unit.members:
            return 0
        waiting = await self._queues.waiting_cases(unit.id, limit=FILL_BATCH)
        handed = 0
        for case_id in waiting:
            user = await self.choose(unit.id)
            if user is None:
                break
            case = await self._cases.get_case(case_id)
            if case.assignee is not None or case.unit != unit.id or not case.is_open:
                continue
            lifecycle.assign(case, user, at=at, strategy=unit.assignment)
            try:
                await self._cases.save_case(case)
            except StaleCase:
                continue  # someone else changed it first; it is theirs now
            handed += 1
        return handed

    async def pull(self, unit_id: str, user: str, *, at: datetime) -> Case | None:
        """Give ``user`` the unit's oldest waiting case, if they have room; None if none waits."""
        unit = self.unit(unit_id)
        loads = await self._queues.member_loads(unit.id, [user])
        if not assignment.has_room(unit, user, loads=loads):
            raise Conflict(f"{user} is not a member of {unit.id} or already holds their capacity")
        for case_id in await self._queues.waiting_cases(unit.id, limit=FILL_BATCH):
            case = await self._cases.get_case(case_id)
            if case.assignee is not None:
                continue
            lifecycle.assign(case, user, at=at, strategy="pull", actor=user)
            try:
                await self._cases.save_case(case)
            except StaleCase:
                continue
            return case
        return None

    async def set_online(self, unit_id: str, user: str, *, online: bool, at: datetime) -> None:
        """Record that ``user`` is (not) taking cases of ``unit_id``."""
        unit = self.unit(unit_id)
        if unit.member(user) is None:
            raise NotFound(f"{user} is not a member of {unit.id}")
        await assignment_store.set_presence(
            self._store, unit_id=unit.id, user=user, online=online, at=at
        )

    async def go_offline(self, unit_id: str, user: str, *, at: datetime, actor: str) -> list[str]:
        """Mark ``user`` offline and return their unstarted cases to the queue; return their ids."""
        await self.set_online(unit_id, user, online=False, at=at)
        returned = []
        statuses = list(UNSTARTED_STATUSES)
        for case_id in await self._queues.member_cases(unit_id, user, statuses=statuses):
            if await self._return(case_id, user, at=at, actor=actor):
                returned.append(case_id)
        await self.fill(unit_id, at=at)
        return returned

    async def offline(self, unit_id: str) -> set[str]:
        """Return the members of ``unit_id`` who are offline (read once per ``read_once``)."""
        seen = _offline_seen.get()
        if seen is None:
            return await assignment_store.offline_members(self._store, unit_id=unit_id)
        async with self._offline_read:  # one reading for contacts routed side by side
            if unit_id not in seen:
                seen[unit_id] = await assignment_store.offline_members(self._store, unit_id=unit_id)
        return set(seen[unit_id])

    async def _return(self, case_id: str, user: str, *, at: datetime, actor: str) -> bool:
        for _ in range(5):
            case = await self._cases.get_case(case_id)
            if case.assignee != user or case.status not in UNSTARTED_STATUSES:
                return False  # started or handed on meanwhile: not ours to move
            lifecycle.unassign(case, at=at, reason=f"{user} went offline", actor=actor)
            try:
                await self._cases.save_case(case)
            except StaleCase:
                continue
            return True
        log.warning("could not return a case to the queue", extra={"case_id": case_id})
        return False

    async def _ticket(self, unit_id: str) -> int:
        """Return the unit's next round-robin ticket from this replica's block."""
        block = self._tickets.get(unit_id)
        ticket = next(block, None) if block is not None else None
        if ticket is None:
            taken = await assignment_store.take_tickets(
                self._store, unit_id=unit_id, count=TICKET_BLOCK
            )
            block = self._tickets[unit_id] = iter(taken)
            ticket = next(block)
        return ticket
