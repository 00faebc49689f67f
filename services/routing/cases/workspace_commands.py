"""The workspace's case actions: note, assign, merge, split. Each write is one case, atomic.

Merging writes the source first (closed, ``merged_into`` the target), then the
target (``merged_cases``). Should the second write fail, the source's link is
all that shows, and asking for the same merge again completes the target.

Splitting cannot put the contact in the new case while the source still holds
it (``contacts.contact_id`` is unique across cases), so it takes three writes,
each safe to stop after: the new case is inserted with the contact held aside
(``moving_contact``); the source lets go of the contact; the new case takes it.
A split stopped half-way is finished by asking for it again.

The actions write through the case commands' repository (``CaseCommands.cases``).
"""

from __future__ import annotations

from datetime import datetime

from services.routing.cases import moves as casemoves
from services.routing.cases.access import Actor, Can
from services.routing.cases.commands import CaseCommands, Seats, Version
from services.routing.cases.domain import Case, CaseContact, case_number
from services.routing.org.config import OrgConfig
from services.routing.org.in_force import unit_in_force
from shared.errors import Conflict, Forbidden, Invalid
from shared.ids import new_id
from shared.runtime import Runtime

# Roles that hand cases to others; everyone else who works cases takes or gives back their own.
ASSIGNING_ROLES = frozenset({"supervisor", "admin"})


class WorkspaceCommands:
    """What the workspace does to cases beyond the case API's lifecycle actions."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        org: OrgConfig,
        commands: CaseCommands,
        dispatcher: Seats,
    ) -> None:
        self._runtime = runtime
        self._org = org
        self._commands = commands
        self._cases = commands.cases
        self._dispatcher = dispatcher

    async def note(
        self,
        case_id: str,
        actor: Actor,
        *,
        text: str,
        text_ref: str | None,
        mentions: list[str],
        version: Version = None,
    ) -> Case:
        """Add an internal note to the case."""

        def apply(case: Case, at: datetime) -> None:
            casemoves.add_note(
                case, text=text, text_ref=text_ref, mentions=mentions, at=at, actor=actor.user
            )

        return (await self._commands.change(case_id, actor, Can.WORK, apply, version=version))[0]

    async def assign(
        self,
        case_id: str,
        actor: Actor,
        *,
        user: str | None,
        reason: str | None,
        version: Version = None,
    ) -> Case:
        """Give the case to ``user`` of its unit, or back to the unit's queue (None)."""

        def apply(case: Case, at: datetime) -> bool:
            self._may_assign(actor, case, user)
            return casemoves.reassign(case, user, reason=reason, at=at, actor=actor.user)

        case, changed = await self._commands.change(
            case_id, actor, Can.WORK, apply, version=version
        )
        # Back in the queue: the unit's assignment hands it on as it would a new case.
        handed = changed and user is None
        if handed and await self._dispatcher.fill(case.unit, at=self._runtime.clock.now()):
            case = await self._cases.get_case(case.id)
        return case

    async def merge(
        self, case_id: str, actor: Actor, *, into: str, reason: str, version: Version = None
    ) -> Case:
        """Close the case into ``into`` and record it there; return the target case."""
        target = await self._commands.read(into, actor)
        actor.require(Can.WORK)
        source = await self._commands.read(case_id, actor)
        if source.id == target.id:
            raise Conflict(f"case {source.number} cannot be merged into itself")
        if source.id in target.merged_cases:
            return target  # asked again after it was done
        if not target.is_open:
            raise Conflict(f"case {target.number} is {target.status}; only open cases take a merge")
        if source.merged_into != target.id:

            def close(case: Case, at: datetime) -> None:
                casemoves.merge_away(case, into=target.id, reason=reason, at=at, actor=actor.user)

            await self._commands.change(source.id, actor, Can.WORK, close, version=version)

        def take(case: Case, at: datetime) -> None:
            casemoves.take_merged(case, source=source.id, reason=reason, at=at, actor=actor.user)

        merged = (await self._commands.change(target.id, actor, Can.WORK, take))[0]
        # The source's member has a seat free for the next waiting case.
        await self._dispatcher.fill(source.unit, at=self._runtime.clock.now())
        return merged

    async def split(
        self,
        case_id: str,
        actor: Actor,
        *,
        contact_id: str,
        reason: str,
        version: Version = None,
    ) -> Case:
        """Move one contact of the case into a new case of the same unit; return the new case."""
        source = await self._commands.read(case_id, actor)
        actor.require(Can.WORK)
        new_case = await self._cases.moving_to(contact_id)
        if new_case is None or new_case.split_from != source.id:
            contact = casemoves.contact_to_split(source, contact_id)
            if version is not None and source.version != version:
                raise Conflict(
                    f"case {source.number} is at version {source.version}, not {version}"
                )
            new_case = await self._open_split(source, contact, actor, reason=reason)
        moving = new_case

        def let_go(case: Case, at: datetime) -> None:
            if case.has_contact(contact_id):
                casemoves.let_go(case, moving, reason=reason, at=at, actor=actor.user)

        if source.has_contact(contact_id):  # else a stopped split already got past it
            await self._commands.change(source.id, actor, Can.WORK, let_go)

        def arrive(case: Case, at: datetime) -> None:
            casemoves.arrive(case)

        return (await self._commands.change(new_case.id, actor, Can.WORK, arrive))[0]

    async def _open_split(
        self, source: Case, contact: CaseContact, actor: Actor, *, reason: str
    ) -> Case:
        now = self._runtime.clock.now()
        serial = await self._cases.next_serial(now.year)
        assignee = await self._dispatcher.choose(source.unit) if source.unit else None
        case = casemoves.split_off(
            source,
            contact,
            case_id=new_id(),
            number=case_number(now.year, serial),
            assignee=assignee,
            reason=reason,
            at=now,
            actor=actor.user,
            role=actor.role,
            sla=self._commands.sla,
        )
        await self._cases.insert_case(case)
        return case

    def _may_assign(self, actor: Actor, case: Case, user: str | None) -> None:
        """Let supervisors and admins assign the unit's members; others only themselves."""
        if actor.role in ASSIGNING_ROLES:
            unit = unit_in_force(self._org, case.unit)
            if user is not None and (unit is None or unit.member(user) is None):
                raise Invalid(f"{user} is not a member of unit {case.unit}", field="user")
            return
        if user == actor.user or (user is None and case.assignee in (None, actor.user)):
            return
        raise Forbidden(f"{actor.user} may take or give back only their own cases")
