"""The case API's use cases: read, check who acts, change, write with the events, follow up.

A change is applied to the case as it is now: if someone else wrote it
between our read and our write, we read it again and apply the change again
(it is a command, re-checked against the fresh state), unless the caller
named the version it saw (``If-Match``): then the answer is 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from services.routing.cases import lifecycle
from services.routing.cases import work as casework
from services.routing.cases.access import Actor, Can
from services.routing.cases.domain import Case
from services.routing.cases.outbox import OutboxRelay
from services.routing.cases.repository import CaseRepository
from services.routing.cases.store import StaleCase
from services.routing.classification.labels import LabelLog
from services.routing.classification.taxonomy import Taxonomy
from services.routing.org.config import OrgConfig
from services.routing.org.in_force import unit_in_force
from services.routing.sla.case import SlaKeeper
from shared.errors import Conflict, Invalid
from shared.ids import new_id
from shared.messages.cases import CaseStatus
from shared.runtime import Runtime

T = TypeVar("T")
ATTEMPTS = 5
Version = int | None


class Seats(Protocol):
    """What the use cases ask of the unit queues (``assignment/dispatch.py``'s ``Dispatcher``)."""

    async def choose(self, unit_id: str) -> str | None:
        """Return the member a new case of ``unit_id`` goes to, or None to queue it."""
        ...

    async def fill(self, unit_id: str | None, *, at: datetime) -> int:
        """Hand the unit's waiting cases to members with room; return how many."""
        ...


class CaseCommands:
    """What the internal case API does, one method per action."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        cases: CaseRepository,
        org: OrgConfig,
        taxonomy: Taxonomy,
        dispatcher: Seats,
        labels: LabelLog,
        relay: OutboxRelay,
    ) -> None:
        self._runtime = runtime
        self.cases = cases
        self._org = org
        self._topics = set(taxonomy.organisation(org.org).topic_keys)
        self._categories = set(taxonomy.category_keys)
        self._dispatcher = dispatcher
        self._labels = labels
        self._relay = relay
        self.sla = SlaKeeper(org)

    async def read(self, case_id: str, actor: Actor) -> Case:
        """Return the case if the actor may see it."""
        case = await self.cases.get_case(case_id)
        actor.check(case, Can.READ)
        return case

    async def change(
        self,
        case_id: str,
        actor: Actor,
        permission: Can,
        apply: Callable[[Case, datetime], T],
        *,
        version: Version = None,
    ) -> tuple[Case, T]:
        """Apply ``apply`` to the fresh case and write it; retry if someone wrote in between."""
        for _ in range(ATTEMPTS):
            case = await self.cases.get_case(case_id)
            actor.check(case, permission)
            case.acting_role = actor.role
            if version is not None and case.version != version:
                raise Conflict(f"case {case.number} is at version {case.version}, not {version}")
            result = apply(case, self._runtime.clock.now())
            try:
                await self.cases.save_case(case)
            except StaleCase:
                if version is not None:
                    raise
                continue
            self._relay.wake()
            return case, result
        raise Conflict(f"case {case_id} is changing too fast; try again")

    async def acknowledge(self, case_id: str, actor: Actor, *, version: Version = None) -> Case:
        """The unit acknowledges the case; a member doing so on an unassigned case takes it."""
        taker = actor.user if self._is_member(actor) else None

        def apply(case: Case, at: datetime) -> None:
            casework.acknowledge(case, at=at, actor=actor.user, sla=self.sla, taker=taker)

        return (await self.change(case_id, actor, Can.WORK, apply, version=version))[0]

    async def update(
        self, case_id: str, actor: Actor, changes: dict[str, Any], *, version: Version = None
    ) -> Case:
        """Correct the classification and/or start work; a correction becomes a training example."""
        labels = {k: v for k, v in changes.items() if k in ("category", "topic", "urgency")}
        status: CaseStatus | None = changes.get("status")
        if labels.get("topic") is not None and labels["topic"] not in self._topics:
            raise Invalid(f"unknown topic {labels['topic']!r} for {self._org.org}", field="topic")
        if labels.get("category") is not None and labels["category"] not in self._categories:
            raise Invalid(f"unknown category {labels['category']!r}", field="category")
        if not labels and status is None:
            raise Invalid("nothing to change: give category, topic, urgency or status")

        def apply(case: Case, at: datetime) -> dict[str, Any]:
            before: dict[str, Any] = {}
            if labels:
                before = casework.reclassify(case, labels, at=at, actor=actor.user, sla=self.sla)
            if status is not None:
                casework.set_status(case, status, at=at, actor=actor.user, sla=self.sla)
            return before

        case, before = await self.change(case_id, actor, Can.WORK, apply, version=version)
        if before:
            await self._labels.record(case)
        return case

    async def transfer(
        self, case_id: str, actor: Actor, *, unit: str, reason: str, version: Version = None
    ) -> Case:
        """Move the case to another unit's queue; its SLA carries over."""
        if self._org.unit(unit) is None:
            raise Invalid(f"unknown unit {unit!r}", field="unit")

        def apply(case: Case, at: datetime) -> str:
            return casework.transfer(
                case, unit=unit, reason=reason, at=at, actor=actor.user, sla=self.sla
            )

        case, previous = await self.change(case_id, actor, Can.WORK, apply, version=version)
        now = self._runtime.clock.now()
        # The new unit may have someone free for it; the old one has a seat free.
        if await self._dispatcher.fill(unit, at=now):
            case = await self.cases.get_case(case.id)
        await self._dispatcher.fill(previous, at=now)
        return case

    async def request_info(
        self,
        case_id: str,
        actor: Actor,
        *,
        question: str,
        version: Version = None,
        text_ref: str | None = None,
    ) -> Case:
        """Ask the customer; the SLA pauses until they answer."""

        def apply(case: Case, at: datetime) -> None:
            casework.request_info(
                case, question=question, at=at, actor=actor.user, sla=self.sla, text_ref=text_ref
            )

        return (await self.change(case_id, actor, Can.WORK, apply, version=version))[0]

    async def reply(
        self,
        case_id: str,
        actor: Actor,
        *,
        text: str,
        version: Version = None,
        text_ref: str | None = None,
    ) -> tuple[Case, str]:
        """Record a reply and queue it for the customer; return the case and the request id."""
        request_id = new_id()

        def apply(case: Case, at: datetime) -> None:
            casework.reply(
                case,
                text=text,
                request_id=request_id,
                at=at,
                actor=actor.user,
                sla=self.sla,
                text_ref=text_ref,
            )

        case, _ = await self.change(case_id, actor, Can.WORK, apply, version=version)
        return case, request_id

    async def resolve(
        self,
        case_id: str,
        actor: Actor,
        *,
        summary: str,
        version: Version = None,
        text_ref: str | None = None,
    ) -> Case:
        """Resolve the case; its member has a seat free for the next waiting case."""

        def apply(case: Case, at: datetime) -> None:
            casework.resolve(
                case, summary=summary, at=at, actor=actor.user, sla=self.sla, text_ref=text_ref
            )

        case, _ = await self.change(case_id, actor, Can.WORK, apply, version=version)
        await self._dispatcher.fill(case.unit, at=self._runtime.clock.now())
        return case

    async def reopen(
        self, case_id: str, actor: Actor, *, reason: str, version: Version = None
    ) -> Case:
        """Reopen a resolved or closed case."""

        def apply(case: Case, at: datetime) -> None:
            lifecycle.reopen(case, at=at, reason=reason, sla=self.sla, actor=actor.user)

        return (await self.change(case_id, actor, Can.REOPEN, apply, version=version))[0]

    async def rate(
        self,
        case_id: str,
        actor: Actor,
        *,
        score: int,
        comment: str | None,
        channel: str,
        version: Version = None,
    ) -> Case:
        """Record the customer's rating: close, and reopen to the supervisor if it is low."""

        def apply(case: Case, at: datetime) -> None:
            casework.rate(
                case,
                score=score,
                comment=comment,
                channel=channel,
                at=at,
                actor=actor.user,
                sla=self.sla,
                supervisor=self._supervisor(case),
            )

        return (await self.change(case_id, actor, Can.RATE, apply, version=version))[0]

    async def acknowledge_on_behalf(
        self,
        case_id: str,
        actor: Actor,
        *,
        channel: str,
        note: str,
        score: int | None,
        version: Version = None,
    ) -> Case:
        """Record the customer's acknowledgement taken by an agent; it awaits certification."""

        def apply(case: Case, at: datetime) -> None:
            casework.record_on_behalf(
                case, channel=channel, note=note, score=score, at=at, actor=actor.user
            )

        return (await self.change(case_id, actor, Can.ON_BEHALF, apply, version=version))[0]

    async def certify(self, case_id: str, actor: Actor, *, version: Version = None) -> Case:
        """A supervisor certifies the acknowledgement recorded on the customer's behalf."""

        def apply(case: Case, at: datetime) -> None:
            casework.certify_closure(
                case, at=at, actor=actor.user, sla=self.sla, supervisor=self._supervisor(case)
            )

        return (await self.change(case_id, actor, Can.CERTIFY, apply, version=version))[0]

    def _supervisor(self, case: Case) -> str | None:
        unit = self._org.unit(case.unit)
        return unit.supervisor if unit else None

    def _is_member(self, actor: Actor) -> bool:
        unit = unit_in_force(self._org, actor.unit)  # an admin's members, else the file's
        return unit is not None and unit.member(actor.user) is not None


async def relate_cases(
    case_id: str, other_id: str, *, cases: CaseRepository, at: datetime, reason: str
) -> None:
    """Link ``other_id`` to ``case_id`` as related (the other side records its own link)."""
    for _ in range(ATTEMPTS):
        case = await cases.get_case(case_id)
        if not case.relate(other_id, at=at, reason=reason):
            return
        try:
            await cases.save_case(case)
        except StaleCase:
            continue
        return
    raise Conflict(f"case {case_id} is changing too fast to link {other_id}")
