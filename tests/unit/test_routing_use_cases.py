"""Routing's use cases on the in-memory case repository: who may act, lost races, the outbox.

No store and no bus: the case commands, the workspace's actions, the
contact pipeline and the SLA watcher run on ``tests/support/routing_memory.py``; the runtime they
are given holds a recording bus and a store that answers nobody, so a use
case reaching past its repository fails the test at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from services.routing.assignment.areas import Gazetteer
from services.routing.assignment.rules import Choice
from services.routing.assignment.rules_in_force import RuleBook
from services.routing.cases import lifecycle
from services.routing.cases import moves as casemoves
from services.routing.cases.access import Actor
from services.routing.cases.commands import CaseCommands
from services.routing.cases.contacts import ContactRouter
from services.routing.cases.domain import Case, Classification, case_number
from services.routing.cases.outbox import OutboxRelay
from services.routing.cases.workspace_commands import WorkspaceCommands
from services.routing.classification.labels import LabelLog
from services.routing.classification.pipeline import CaseClassifier
from services.routing.classification.taxonomy import load_taxonomy
from services.routing.org.config import OrgConfig, load_org
from services.routing.sla.watcher import SlaWatcher
from shared.clock import FrozenClock
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.ids import new_id
from shared.messages import ContactScreened, Envelope
from shared.runtime import Runtime
from shared.store import Store
from tests.support.messages import screened_message
from tests.support.routing import KeywordModel, RecordingBus, settings
from tests.support.routing_memory import MemoryCases, NoSeats

START = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
UNIT = "pea-cc"
MEMBER = Actor(user="cc.nattaya", role="unit_member", unit=UNIT)
AGENT = Actor(user="cc.prasert", role="agent")
SUPERVISOR = Actor(user="cc.sup.wanida", role="supervisor", unit=UNIT)
MANAGER = Actor(user="boss.manee", role="manager")
OTHER_UNITS_MEMBER = Actor(user="netops.chaiwat", role="unit_member", unit="pea-netops")
OUTAGE = Classification(
    category="complaint",
    topic="outage",
    urgency="normal",
    confidence=0.91,
    confident=True,
    source="model",
)


@dataclass
class Desk:
    """Routing's use cases wired to the in-memory repository."""

    org: OrgConfig
    clock: FrozenClock
    bus: RecordingBus
    cases: MemoryCases
    seats: NoSeats
    relay: OutboxRelay
    commands: CaseCommands
    actions: WorkspaceCommands
    contacts: ContactRouter
    watcher: SlaWatcher

    async def opened(self, message: ContactScreened | None = None) -> Case:
        """Store a case of ``UNIT``, routed and unassigned, for ``message``; return it."""
        message = message or screened_message(received_at=self.clock.now())
        now = self.clock.now()
        case = lifecycle.open_case(
            message,
            case_id=new_id(),
            number=case_number(now.year, await self.cases.next_serial(now.year)),
            at=now,
            causation=Envelope.of(message),
            classification=OUTAGE,
            area=Gazetteer(self.org).area_of(message),
            tier="standard",
        )
        lifecycle.route(case, Choice(UNIT, None, "test"), at=now, causation=None)
        self.commands.sla.start(case, now)
        await self.cases.insert_case(case)
        return case

    def pending_types(self, case_id: str) -> list[str]:
        """Return the types of the case's events still waiting for the relay."""
        return [event["type"] for event in self.cases.stored(case_id).outbox]


def _colleague_notes(case: Case) -> None:
    """Another writer's change: a colleague's note."""
    casemoves.add_note(
        case, text="called the customer", text_ref=None, mentions=[], at=START, actor="cc.somsak"
    )


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    taxonomy = load_taxonomy()
    org = load_org("pea", taxonomy=taxonomy)
    clock = FrozenClock(START)
    bus = RecordingBus()
    # A store nobody listens at: any use of it fails within a tenth of a second.
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        "mongodb://127.0.0.1:9", serverSelectionTimeoutMS=100, connect=False
    )
    store = Store(client, "vocdesk_routing_unit")
    runtime = Runtime(
        service="routing", settings=settings(tmp_path), bus=bus, store=store, clock=clock
    )
    cases, seats = MemoryCases(), NoSeats()
    relay = OutboxRelay(runtime, outbox=cases)
    commands = CaseCommands(
        runtime,
        cases=cases,
        org=org,
        taxonomy=taxonomy,
        dispatcher=seats,
        labels=LabelLog(tmp_path / "labels"),
        relay=relay,
    )
    contacts = ContactRouter(
        runtime,
        cases=cases,
        org=org,
        rulebook=RuleBook(store, org=org, taxonomy=taxonomy),
        classifier=CaseClassifier(org, taxonomy, model=KeywordModel()),
        dispatcher=seats,
        relay=relay,
    )
    actions = WorkspaceCommands(runtime, org=org, commands=commands, dispatcher=seats)
    watcher = SlaWatcher(
        runtime, cases=cases, leases=cases, org=org, relay=relay, replica="this-replica"
    )
    yield Desk(org, clock, bus, cases, seats, relay, commands, actions, contacts, watcher)
    await client.close()


async def test_a_member_acknowledging_an_unassigned_case_takes_it(desk: Desk) -> None:
    case = await desk.opened()
    acknowledged = await desk.commands.acknowledge(case.id, MEMBER)
    assert acknowledged.status == "acknowledged"
    assert acknowledged.assignee == MEMBER.user
    assert (await desk.cases.get_case(case.id)).version == 2


async def test_a_role_that_does_not_work_cases_is_refused_every_action(desk: Desk) -> None:
    case = await desk.opened()
    with pytest.raises(Forbidden):
        await desk.commands.acknowledge(case.id, MANAGER)
    with pytest.raises(Forbidden):
        await desk.actions.assign(case.id, MANAGER, user=AGENT.user, reason=None)
    with pytest.raises(Forbidden):
        await desk.commands.transfer(case.id, MANAGER, unit="pea-netops", reason="wrong desk")
    with pytest.raises(Forbidden):
        await desk.commands.resolve(case.id, MANAGER, summary="done")
    await desk.commands.resolve(case.id, AGENT, summary="done")
    with pytest.raises(Forbidden):
        await desk.commands.reopen(case.id, MEMBER, reason="not fixed")  # members do not reopen
    stored = await desk.cases.get_case(case.id)
    assert stored.status == "resolved"
    assert stored.version == 2


async def test_another_units_member_finds_no_such_case(desk: Desk) -> None:
    case = await desk.opened()
    with pytest.raises(NotFound):
        await desk.commands.acknowledge(case.id, OTHER_UNITS_MEMBER)
    with pytest.raises(NotFound):
        await desk.actions.assign(
            case.id, OTHER_UNITS_MEMBER, user=OTHER_UNITS_MEMBER.user, reason=None
        )
    with pytest.raises(NotFound):
        await desk.commands.transfer(case.id, OTHER_UNITS_MEMBER, unit="pea-netops", reason="x")
    with pytest.raises(NotFound):
        await desk.commands.resolve(case.id, OTHER_UNITS_MEMBER, summary="done")
    assert (await desk.cases.get_case(case.id)).version == 1


async def test_supervisors_assign_members_and_agents_only_take_cases_themselves(
    desk: Desk,
) -> None:
    case = await desk.opened()
    assigned = await desk.actions.assign(case.id, SUPERVISOR, user=AGENT.user, reason="skills")
    assert assigned.assignee == AGENT.user
    with pytest.raises(Invalid):
        await desk.actions.assign(case.id, SUPERVISOR, user="stranger", reason=None)
    with pytest.raises(Forbidden):
        await desk.actions.assign(case.id, AGENT, user="cc.kanokwan", reason=None)
    back = await desk.actions.assign(case.id, AGENT, user=None, reason="on leave")
    assert back.assignee is None
    assert desk.seats.filled == [UNIT]  # back in the queue: the unit hands it on


async def test_a_transfer_moves_the_case_and_fills_both_queues(desk: Desk) -> None:
    case = await desk.opened()
    with pytest.raises(Invalid):
        await desk.commands.transfer(case.id, AGENT, unit="nowhere", reason="x")
    moved = await desk.commands.transfer(case.id, AGENT, unit="pea-netops", reason="a fault")
    assert (moved.unit, moved.status, moved.assignee) == ("pea-netops", "routed", None)
    assert desk.seats.filled == ["pea-netops", UNIT]
    assert desk.pending_types(case.id)[-2:] == ["case.transferred", "case.routed"]


async def test_a_resolved_case_reopens_for_an_agent(desk: Desk) -> None:
    case = await desk.opened()
    resolved = await desk.commands.resolve(case.id, AGENT, summary="line repaired")
    assert resolved.status == "resolved"
    assert desk.seats.filled == [UNIT]
    reopened = await desk.commands.reopen(case.id, AGENT, reason="the power is out again")
    assert (reopened.status, reopened.reopen_count) == ("in_progress", 1)


async def test_a_write_that_loses_a_race_is_applied_again_on_the_fresh_case(desk: Desk) -> None:
    case = await desk.opened()

    desk.cases.race_once(case.id, _colleague_notes)
    acknowledged = await desk.commands.acknowledge(case.id, MEMBER)
    assert acknowledged.version == 3  # opened 1, the colleague's note 2, the acknowledgement 3
    stored = await desk.cases.get_case(case.id)
    assert stored.status == "acknowledged"
    assert [e["type"] for e in stored.timeline][-2:] == ["case.note_added", "case.acknowledged"]
    assert desk.pending_types(case.id).count("case.acknowledged") == 1


async def test_a_caller_that_named_a_stale_version_gets_a_conflict(desk: Desk) -> None:
    case = await desk.opened()
    with pytest.raises(Conflict):
        await desk.commands.acknowledge(case.id, MEMBER, version=0)
    desk.cases.race_once(case.id, _colleague_notes)
    with pytest.raises(Conflict):
        # The version named was current when read, but someone wrote before us.
        await desk.commands.acknowledge(case.id, MEMBER, version=1)
    stored = await desk.cases.get_case(case.id)
    assert (stored.status, stored.version) == ("routed", 2)


async def test_the_events_written_with_the_case_wait_in_its_outbox_until_published(
    desk: Desk,
) -> None:
    case = await desk.opened()
    _, request_id = await desk.commands.reply(case.id, AGENT, text="a crew is on its way")
    assert desk.pending_types(case.id) == [
        "case.opened",
        "case.routed",
        "case.updated",
        "reply.requested",
    ]
    assert await desk.relay.relay_once() == 4
    assert desk.bus.types(case.id)[:2] == ["case.opened", "case.routed"]
    assert [e.data.get("request_id") for e in desk.bus.published][-1] == request_id
    assert await desk.cases.pending_outbox() == []
    assert await desk.relay.relay_once() == 0


async def test_the_customers_contact_naming_the_case_joins_it_once(desk: Desk) -> None:
    case = await desk.opened()
    follow_up = screened_message(
        received_at=desk.clock.now(),
        subject_ref=case.subject_ref,
        thread={"case_number": case.number},
        text="ยังไม่มีไฟเลยครับ",
    )
    await desk.contacts.on_contact_screened(Envelope.of(follow_up))
    await desk.contacts.on_contact_screened(Envelope.of(follow_up))  # redelivered
    joined = await desk.cases.get_case(case.id)
    assert [c.contact_id for c in joined.contacts][-1] == follow_up.contact_id
    assert len(joined.contacts) == 2
    assert desk.pending_types(case.id).count("case.contact_added") == 1


async def test_someone_elses_sticker_naming_the_case_changes_nothing(desk: Desk) -> None:
    case = await desk.opened()
    sticker = screened_message(
        received_at=desk.clock.now(),
        thread={"case_number": case.number},
        flags=["sticker"],
        text="",
    )
    await desk.contacts.on_contact_screened(Envelope.of(sticker))
    assert (await desk.cases.get_case(case.id)).version == 1
    assert await desk.cases.find_by_contact(sticker.contact_id) is None


async def test_a_follow_up_soon_after_resolution_reopens_the_case(desk: Desk) -> None:
    case = await desk.opened()
    await desk.commands.resolve(case.id, AGENT, summary="line repaired")
    desk.clock.advance(timedelta(days=2))
    follow_up = screened_message(
        received_at=desk.clock.now(),
        subject_ref=case.subject_ref,
        thread={"case_number": case.number},
        text="ไฟดับอีกแล้ว",
    )
    await desk.contacts.on_contact_screened(Envelope.of(follow_up))
    reopened = await desk.cases.get_case(case.id)
    assert (reopened.status, reopened.reopen_count) == ("in_progress", 1)
    assert reopened.has_contact(follow_up.contact_id)


async def test_a_contact_whose_case_changed_meanwhile_joins_the_fresh_case(desk: Desk) -> None:
    case = await desk.opened()
    follow_up = screened_message(
        received_at=desk.clock.now(),
        subject_ref=case.subject_ref,
        thread={"case_number": case.number},
        text="ยังไม่มีไฟเลยครับ",
    )
    desk.cases.race_once(
        case.id,
        lambda other: lifecycle.assign(other, AGENT.user, at=START, strategy="pull"),
    )
    await desk.contacts.on_contact_screened(Envelope.of(follow_up))
    joined = await desk.cases.get_case(case.id)
    assert joined.assignee == AGENT.user  # the other write stands
    assert joined.has_contact(follow_up.contact_id)
    assert joined.version == 3


async def test_the_watcher_fires_a_due_step_once_another_replicas_lease_has_expired(
    desk: Desk,
) -> None:
    case = await desk.opened()
    assert case.sla_next_due is not None
    desk.clock.set(case.sla_next_due + timedelta(seconds=1))
    now = desk.clock.now()
    assert await desk.cases.take_lease(
        case.id, now=now, until=now + timedelta(seconds=30), owner="other-replica"
    )
    assert await desk.watcher.sweep() == 0  # the other replica holds it
    desk.clock.advance(timedelta(seconds=31))
    fired = await desk.watcher.sweep()
    assert fired >= 1
    assert await desk.watcher.sweep() == 0  # nothing more is due at this instant
    stored = desk.cases.stored(case.id)
    sla_events = [e for e in stored.outbox if e["type"].startswith(("case.sla.", "case.escalated"))]
    assert len(sla_events) == fired
    assert desk.cases.lease_of(case.id) is None  # given up in the write that fired them
