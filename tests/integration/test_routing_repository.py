"""One list of scenarios on both case repositories, so the in-memory fake cannot drift from MongoDB.

Each scenario runs on ``tests/support/routing_memory.py``'s ``MemoryCases``
and on ``MongoCases`` over the embedded MongoDB-protocol server with routing's
indexes: stale writes refused, serials per year, a contact in one case, the
outbox pending until published, leases that expire, unit queues and loads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest

from services.routing.assignment.rules import Area, Choice
from services.routing.cases import lifecycle, work
from services.routing.cases import moves as casemoves
from services.routing.cases import store as case_store
from services.routing.cases.domain import (
    UNSTARTED_STATUSES,
    Case,
    Classification,
    case_number,
    contact_from,
)
from services.routing.cases.repository import (
    CaseLeases,
    CaseOutbox,
    CaseQueues,
    CaseRepository,
    MongoCases,
)
from services.routing.cases.store import DuplicateContact, StaleCase
from services.routing.classification.taxonomy import load_taxonomy
from services.routing.org.config import load_org
from services.routing.sla.case import SlaKeeper
from shared.errors import NotFound
from shared.ids import new_id
from shared.messages import ContactScreened, Envelope
from shared.store import Store
from tests.support.messages import screened_message
from tests.support.routing_memory import MemoryCases

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SLA = SlaKeeper(load_org("pea", taxonomy=load_taxonomy()))


class Cases(CaseRepository, CaseOutbox, CaseLeases, CaseQueues, Protocol):
    """Both implementations: the four ports in one."""


Scenario = Callable[[Cases], Awaitable[None]]


def _message(**overrides: object) -> ContactScreened:
    return screened_message(received_at=START, **overrides)


async def _opened(
    cases: Cases,
    message: ContactScreened | None = None,
    *,
    at: datetime = START,
    unit: str = "pea-cc",
) -> Case:
    """Insert a case for ``message`` opened ``at``, routed to ``unit``, its SLA started."""
    message = message or _message()
    serial = await cases.next_serial(START.year)
    case = lifecycle.open_case(
        message,
        case_id=new_id(),
        number=case_number(START.year, serial),
        at=at,
        causation=Envelope.of(message),
        classification=Classification(category="complaint", topic="outage", confident=True),
        area=Area(),
        tier="standard",
    )
    lifecycle.route(case, Choice(unit, None, "test"), at=at, causation=None)
    SLA.start(case, at)
    await cases.insert_case(case)
    return case


def _note(case: Case, text: str = "called back", *, at: datetime = START) -> None:
    casemoves.add_note(case, text=text, text_ref=None, mentions=[], at=at, actor="cc.prasert")


async def an_inserted_case_reads_back_by_id_and_number(cases: Cases) -> None:
    case = await _opened(cases)
    by_id = await cases.get_case(case.id)
    by_number = await cases.get_case(case.number)
    assert by_id.model_dump() == by_number.model_dump()
    assert (by_id.version, by_id.status, by_id.unit) == (1, "routed", "pea-cc")
    assert by_id.outbox == []  # what is stored there belongs to the relay
    assert [e["type"] for e in by_id.timeline] == ["case.opened", "case.routed"]
    with pytest.raises(NotFound):
        await cases.get_case("VOC-2026-999999")


async def a_save_over_a_version_that_moved_on_is_refused(cases: Cases) -> None:
    case = await _opened(cases)
    first, second = await cases.get_case(case.id), await cases.get_case(case.id)
    _note(first, "first")
    await cases.save_case(first)
    assert first.version == 2
    _note(second, "second")
    with pytest.raises(StaleCase):
        await cases.save_case(second)
    assert second.version == 1
    stored = await cases.get_case(case.id)
    assert stored.version == 2
    assert [e["detail"]["text"] for e in stored.timeline if e["type"] == "case.note_added"] == [
        "first"
    ]
    fresh = await cases.get_case(case.id)
    _note(fresh, "second")
    await cases.save_case(fresh)
    assert (await cases.get_case(case.id)).version == 3


async def serials_count_up_per_year(cases: Cases) -> None:
    assert [await cases.next_serial(2031) for _ in range(3)] == [1, 2, 3]
    assert await cases.next_serial(2032) == 1
    assert await cases.next_serial(2031) == 4


async def a_contact_belongs_to_one_case(cases: Cases) -> None:
    message = _message()
    case = await _opened(cases, message)
    assert (await cases.find_by_contact(message.contact_id) or case).id == case.id
    assert await cases.find_by_contact("nobody's") is None
    with pytest.raises(DuplicateContact):
        await _opened(cases, message)  # a redelivery opening a second case
    other = await _opened(cases)
    held = await cases.get_case(other.id)
    lifecycle.add_contact(
        held, message, at=START, joined_by="test", sla=SLA, causation=Envelope.of(message)
    )
    with pytest.raises(DuplicateContact):
        await cases.save_case(held)  # the first case holds it
    again = await cases.get_case(case.id)
    lifecycle.add_contact(
        again, message, at=START, joined_by="test", sla=SLA, causation=Envelope.of(message)
    )
    with pytest.raises(DuplicateContact):
        await cases.save_case(again)  # it holds it already
    assert len((await cases.get_case(case.id)).contacts) == 1


async def a_case_is_found_by_the_references_a_contact_gives(cases: Cases) -> None:
    mail_id = f"<{new_id()}@example.org>"
    mailed = await _opened(cases, _message(thread={"message_id": mail_id}))
    named = await _opened(cases)
    found = await cases.find_referenced(numbers=[named.number], message_ids=[mail_id])
    assert found is not None
    assert found.id == named.id  # the number first
    found = await cases.find_referenced(numbers=["VOC-2026-999999"], message_ids=[mail_id])
    assert found is not None
    assert found.id == mailed.id
    assert await cases.find_referenced(numbers=[], message_ids=["<none@example.org>"]) is None


async def a_customers_cases_come_newest_first_without_their_history(cases: Cases) -> None:
    subject = f"sub_{new_id()}"
    older = await _opened(cases, _message(subject_ref=subject))
    newer = await _opened(cases, _message(subject_ref=subject))
    later = await cases.get_case(newer.id)
    _note(later, at=START + timedelta(minutes=5))
    await cases.save_case(later)
    found = await cases.subject_cases(subject)
    assert [c.id for c in found] == [newer.id, older.id]
    assert all(c.timeline == [] for c in found)
    assert [c.id for c in await cases.subject_cases(subject, limit=1)] == [newer.id]
    assert await cases.subject_cases(None) == []
    with pytest.raises(ValueError, match="without its timeline"):
        await cases.save_case(found[0])


async def a_split_contact_on_its_way_is_found(cases: Cases) -> None:
    message = _message()
    case = await _opened(cases)
    arriving = await cases.get_case(case.id)
    arriving.moving_contact = contact_from(message)
    _note(arriving)
    await cases.save_case(arriving)
    found = await cases.moving_to(message.contact_id)
    assert found is not None
    assert found.id == case.id
    assert await cases.moving_to("nobody's") is None


async def events_are_pending_until_marked_published(cases: Cases) -> None:
    case = await _opened(cases)
    [pending] = await cases.pending_outbox()
    assert pending["_id"] == case.id
    opened, routed = pending["outbox"]
    assert (opened["type"], routed["type"]) == ("case.opened", "case.routed")
    await cases.mark_published({case.id: [opened["id"]]})
    changed = await cases.get_case(case.id)
    _note(changed)
    await cases.save_case(changed)
    assert changed.outbox == []
    [pending] = await cases.pending_outbox()
    assert [e["type"] for e in pending["outbox"]] == ["case.routed", "case.note_added"]
    await cases.mark_published({case.id: [e["id"] for e in pending["outbox"]]})
    assert await cases.pending_outbox() == []


async def a_lease_is_held_until_it_expires_or_is_released(cases: Cases) -> None:
    case = await _opened(cases)
    assert case.sla_next_due is not None
    assert await cases.due_case_ids(now=case.sla_next_due - timedelta(seconds=1), limit=10) == []
    now = case.sla_next_due + timedelta(seconds=1)
    assert await cases.due_case_ids(now=now, limit=10) == [case.id]
    lease = timedelta(seconds=30)
    assert await cases.take_lease(case.id, now=now, until=now + lease, owner="a")
    assert not await cases.take_lease(case.id, now=now, until=now + lease, owner="b")
    later = now + lease + timedelta(seconds=1)
    assert await cases.take_lease(case.id, now=later, until=later + lease, owner="b")  # expired
    await cases.release_lease(case.id, owner="a")  # no longer a's to give up
    assert not await cases.take_lease(case.id, now=later, until=later + lease, owner="c")
    await cases.release_lease(case.id, owner="b")
    assert await cases.take_lease(case.id, now=later, until=later + lease, owner="c")
    fired = await cases.get_case(case.id)
    _note(fired)
    await cases.save_case(fired, release_lease=True)
    assert await cases.take_lease(case.id, now=later, until=later + lease, owner="d")
    assert not await cases.take_lease("no-such-case", now=later, until=later + lease, owner="d")


async def a_units_queue_and_its_members_loads_come_from_the_cases(cases: Cases) -> None:
    minute = timedelta(minutes=1)
    first, second, third, fourth = [
        await _opened(cases, at=START + n * minute) for n in (3, 0, 2, 1)
    ]
    await _opened(cases, at=START, unit="pea-north")  # another unit's
    assert await cases.waiting_cases("pea-cc", limit=10) == [
        second.id,
        fourth.id,
        third.id,
        first.id,
    ]
    assert await cases.waiting_cases("pea-cc", limit=2) == [second.id, fourth.id]
    for held, user in ((second, "cc.somchai"), (third, "cc.somchai"), (first, "cc.malee")):
        case = await cases.get_case(held.id)
        lifecycle.assign(case, user, at=START + 5 * minute, strategy="pull")
        await cases.save_case(case)
    started = await cases.get_case(third.id)
    work.set_status(started, "in_progress", at=START + 6 * minute, actor="cc.somchai", sla=SLA)
    await cases.save_case(started)
    assert await cases.waiting_cases("pea-cc", limit=10) == [fourth.id]
    loads = await cases.member_loads("pea-cc", ["cc.somchai", "cc.malee", "cc.nobody"])
    assert loads == {"cc.somchai": 2, "cc.malee": 1, "cc.nobody": 0}
    assert await cases.member_loads("pea-north", ["cc.somchai"]) == {"cc.somchai": 0}
    assert await cases.member_loads("pea-cc", []) == {}
    unstarted = list(UNSTARTED_STATUSES)
    assert await cases.member_cases("pea-cc", "cc.somchai", statuses=unstarted) == [second.id]
    assert await cases.member_cases(
        "pea-cc", "cc.somchai", statuses=[*unstarted, "in_progress"]
    ) == [second.id, third.id]
    assert await cases.member_cases("pea-north", "cc.somchai", statuses=unstarted) == []


SCENARIOS: list[Scenario] = [
    an_inserted_case_reads_back_by_id_and_number,
    a_save_over_a_version_that_moved_on_is_refused,
    serials_count_up_per_year,
    a_contact_belongs_to_one_case,
    a_case_is_found_by_the_references_a_contact_gives,
    a_customers_cases_come_newest_first_without_their_history,
    a_split_contact_on_its_way_is_found,
    events_are_pending_until_marked_published,
    a_lease_is_held_until_it_expires_or_is_released,
    a_units_queue_and_its_members_loads_come_from_the_cases,
]


@pytest.fixture(params=["memory", "mongo"])
async def cases(request: pytest.FixtureRequest, store: Store) -> Cases:
    if request.param == "memory":
        return MemoryCases()
    await store.ensure_indexes(case_store.INDEXES)
    return MongoCases(store)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
async def test_both_case_repositories_behave_alike(cases: Cases, scenario: Scenario) -> None:
    await scenario(cases)
