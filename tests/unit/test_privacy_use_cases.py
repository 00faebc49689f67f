"""Privacy's consent book on the in-memory repository: who may change consent, and how it is told.

No store and no broker: ``ConsentBook`` runs on ``tests/support/privacy_memory.py``
and a recording bus, so each rule is checked on what the book asks of its
repository and what it publishes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.privacy.consent import ConsentSource
from services.privacy.consent_book import ConsentBook
from shared.clock import FrozenClock
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.messages import Consent
from tests.support.privacy_memory import MemoryConsents, screened_contact
from tests.support.recording_bus import RecordingBus

START = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
CUSTOMER = "sub_customer"
NEIGHBOUR = "sub_neighbour"


class Desk:
    """A consent book on the in-memory repository, with its bus and clock."""

    def __init__(self) -> None:
        self.consents = MemoryConsents()
        self.bus = RecordingBus()
        self.clock = FrozenClock(START)
        self.book = ConsentBook(self.consents, bus=self.bus, clock=self.clock)

    def contact(self, subject_ref: str = CUSTOMER, *, at: datetime = START, **fields: Any) -> str:
        """Hold a screened contact of ``subject_ref``; return its id."""
        doc = screened_contact(subject_ref, at=at, **fields)
        self.consents.add_subject(subject_ref)
        self.consents.add_contact(doc)
        return str(doc["_id"])


@pytest.fixture
def desk() -> Desk:
    return Desk()


async def test_an_agent_records_consent_with_a_reason_audited_as_consent_change(
    desk: Desk,
) -> None:
    opener = desk.contact()
    desk.clock.advance(timedelta(minutes=5))

    record = await desk.book.record(
        "case-1",
        "granted",
        source="customer",
        actor="cc.prasert",
        role="agent",
        reason="the customer agreed on the phone",
        contact_ids=[opener],
    )

    assert record.state == "granted"
    assert [(c.state, c.source, c.actor) for c in record.history] == [
        ("withheld", "app_form", "customer"),
        ("granted", "customer", "cc.prasert"),
    ]
    [entry] = desk.consents.audit
    assert (entry.action, entry.actor, entry.role) == ("consent_change", "cc.prasert", "agent")
    assert (entry.subject_ref, entry.case_id) == (CUSTOMER, "case-1")
    assert entry.reason == "the customer agreed on the phone"
    assert entry.at == desk.clock.now()


async def test_the_change_is_relayed_once_and_leaves_the_outbox(desk: Desk) -> None:
    opener = desk.contact()
    desk.clock.advance(timedelta(minutes=5))

    await desk.book.record(
        "case-1",
        "granted",
        source="agent",
        actor="cc.prasert",
        role="agent",
        reason="needed to send a technician",
        contact_ids=[opener],
    )

    [message] = desk.bus.published
    assert message.type == "consent.changed"
    assert message.id == "consent-case-1-2"
    assert (message.data["case_id"], message.data["state"]) == ("case-1", "granted")
    assert desk.consents.records["case-1"]["pending"] == 0
    assert await desk.book.relay() == 0
    assert len(desk.bus.published) == 1


async def test_a_change_the_broker_refuses_waits_and_goes_out_in_order_later(desk: Desk) -> None:
    opener = desk.contact()
    desk.bus.failing = True
    changes: tuple[tuple[int, Consent], ...] = ((1, "granted"), (2, "withheld"))
    for minutes, state in changes:
        desk.clock.advance(timedelta(minutes=minutes))
        await desk.book.record(
            "case-1",
            state,
            source="agent",
            actor="cc.prasert",
            role="agent",
            reason="customer changed their mind",
            contact_ids=[opener],
        )
    assert desk.bus.published == []
    assert desk.consents.records["case-1"]["pending"] == 2

    desk.bus.failing = False
    assert await desk.book.relay() == 2

    assert [m.data["state"] for m in desk.bus.published] == ["granted", "withheld"]
    assert [m.id for m in desk.bus.published] == ["consent-case-1-2", "consent-case-1-3"]
    assert await desk.book.relay() == 0


async def test_a_new_record_repeats_what_the_contact_said_without_announcing_it(
    desk: Desk,
) -> None:
    opener = desk.contact(consent="granted", source="app_form")

    record = await desk.book.link("case-1", [opener])

    assert record.state == "granted"
    assert record.customer_ref == CUSTOMER
    assert desk.bus.published == []
    assert desk.consents.records["case-1"]["pending"] == 0
    assert desk.consents.contact_docs[opener]["case_id"] == "case-1"


async def test_a_later_contact_never_flips_consent_by_what_its_form_says(desk: Desk) -> None:
    opener = desk.contact(consent="withheld", source="app_form")
    await desk.book.link("case-1", [opener])
    later = desk.contact(at=START + timedelta(hours=1), consent="granted", source="walk_in_form")
    neighbours = desk.contact(
        NEIGHBOUR, at=START + timedelta(hours=2), consent="granted", source="line_quick_reply"
    )

    record = await desk.book.link("case-1", [opener, later, neighbours])

    assert record.state == "withheld"
    assert len(record.history) == 1
    assert desk.bus.published == []
    assert (await desk.book.get("case-1")) == record


async def test_the_customers_own_verified_act_on_a_later_contact_counts(desk: Desk) -> None:
    opener = desk.contact(consent="withheld", source="app_form")
    await desk.book.link("case-1", [opener])
    answer = desk.contact(
        at=START + timedelta(hours=1), consent="granted", source="line_quick_reply"
    )

    record = await desk.book.link("case-1", [opener, answer])

    assert record.state == "granted"
    assert await desk.book.relay() == 1
    [message] = desk.bus.published
    assert message.data["state"] == "granted"


@pytest.mark.parametrize(
    ("role", "source"),
    [
        ("unit_member", "agent"),
        ("manager", "customer"),
        ("agent", "line_quick_reply"),
        ("agent", "app_form"),
        ("system", "agent"),
    ],
)
async def test_who_may_record_consent_and_as_coming_from_where(
    desk: Desk, role: str, source: ConsentSource
) -> None:
    opener = desk.contact()

    with pytest.raises(Forbidden):
        await desk.book.record(
            "case-1",
            "granted",
            source=source,
            actor="someone",
            role=role,
            reason="because",
            contact_ids=[opener],
        )

    assert desk.consents.records == {}
    assert desk.consents.audit == []


async def test_staff_must_give_a_reason_the_system_need_not(desk: Desk) -> None:
    opener = desk.contact()
    desk.clock.advance(timedelta(minutes=1))

    with pytest.raises(Invalid):
        await desk.book.record(
            "case-1",
            "granted",
            source="agent",
            actor="cc.prasert",
            role="agent",
            reason="  ",
            contact_ids=[opener],
        )
    record = await desk.book.record(
        "case-1",
        "granted",
        source="line_quick_reply",
        actor="line",
        role="system",
        reason="",
        contact_ids=[opener],
    )

    assert record.state == "granted"
    [entry] = desk.consents.audit
    assert (entry.role, entry.reason) == ("system", "granted via line_quick_reply")


async def test_a_decision_names_the_cases_contacts_or_a_known_customer(desk: Desk) -> None:
    with pytest.raises(Invalid):
        await desk.book.record(
            "case-1", "granted", source="agent", actor="a", role="agent", reason="r"
        )
    with pytest.raises(NotFound):
        await desk.book.record(
            "case-1",
            "granted",
            source="agent",
            actor="a",
            role="agent",
            reason="r",
            subject_ref="sub_nobody",
        )
    with pytest.raises(NotFound):
        await desk.book.record(
            "case-1",
            "granted",
            source="agent",
            actor="a",
            role="agent",
            reason="r",
            contact_ids=["c-never-screened"],
        )
    assert desk.consents.audit == []


async def test_a_decision_by_customer_alone_is_kept_for_that_customer(desk: Desk) -> None:
    desk.consents.add_subject(CUSTOMER)

    record = await desk.book.record(
        "case-1",
        "granted",
        source="customer",
        actor="cc.prasert",
        role="agent",
        reason="customer asked by phone",
        subject_ref=CUSTOMER,
    )

    assert record.customer_ref == CUSTOMER
    assert [r.case_id for r in await desk.book.for_subject(CUSTOMER)] == ["case-1"]
    assert [m.data["state"] for m in desk.bus.published] == ["granted"]


async def test_a_contact_of_another_case_is_not_taken_over(desk: Desk) -> None:
    elsewhere = desk.contact(case_id="case-2")

    with pytest.raises(Conflict):
        await desk.book.link("case-1", [elsewhere])

    assert desk.consents.contact_docs[elsewhere]["case_id"] == "case-2"


async def test_a_case_split_off_takes_its_contacts_with_it(desk: Desk) -> None:
    moved = desk.contact(case_id="case-1")

    record = await desk.book.link("case-1b", [moved], moved_from="case-1")

    assert record.case_id == "case-1b"
    assert desk.consents.contact_docs[moved]["case_id"] == "case-1b"


async def test_a_lost_write_is_applied_again_on_top_of_the_winner(desk: Desk) -> None:
    opener = desk.contact()
    await desk.book.link("case-1", [opener])
    write = desk.consents.write
    raced = False

    async def lose_once(case_id: str, **kwargs: Any) -> bool:
        nonlocal raced
        if not raced:
            raced = True
            desk.consents.records[case_id]["version"] += 1  # another replica wrote first
            return False
        return await write(case_id, **kwargs)

    desk.consents.write = lose_once  # type: ignore[method-assign]
    desk.clock.advance(timedelta(minutes=1))

    record = await desk.book.record(
        "case-1",
        "granted",
        source="agent",
        actor="cc.prasert",
        role="agent",
        reason="customer agreed",
        contact_ids=[opener],
    )

    assert raced
    assert record.state == "granted"
    assert desk.consents.records["case-1"]["version"] == 3
    assert [m.id for m in desk.bus.published] == ["consent-case-1-3"]
