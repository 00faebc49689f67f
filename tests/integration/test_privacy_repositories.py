"""Privacy's consent repository: the in-memory fake answers as MongoDB does, scenario by scenario.

Every scenario runs against ``tests/support/privacy_memory.py`` and against
``MongoConsents`` on the embedded store, with the same expectations, so the
fake the consent book's unit tests use cannot drift from the real thing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.privacy.audit import AuditEntry, verify_chain
from services.privacy.consent import ConsentChange, ConsentRecord
from services.privacy.consent_book import ConsentBook
from services.privacy.masking import mask
from services.privacy.store import (
    CONSENTS,
    CONTACTS,
    INDEXES,
    SUBJECTS,
    ConsentRepository,
    MongoConsents,
    audit_entries,
)
from shared.clock import FrozenClock
from shared.ids import new_id
from shared.messages import Consent
from shared.store import Store, connect
from tests.support.privacy_memory import MemoryConsents, screened_contact
from tests.support.recording_bus import RecordingBus

pytestmark = pytest.mark.integration

# Microseconds on purpose: the store keeps milliseconds, and so must the fake.
T = datetime(2026, 12, 1, 3, 0, 0, 123_456, tzinfo=UTC)
CUSTOMER = "sub_customer"
NEIGHBOUR = "sub_neighbour"


def ms(when: datetime) -> datetime:
    """Return ``when`` as the store hands it back."""
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


@dataclass
class Backend:
    """One backend's consent repository, with how a test seeds and reads what it holds."""

    consents: ConsentRepository
    add_contact: Callable[[dict[str, Any]], Awaitable[None]]
    add_subject: Callable[[str], Awaitable[None]]
    record_doc: Callable[[str], Awaitable[dict[str, Any] | None]]
    audit: Callable[[], Awaitable[list[AuditEntry]]]


def screened(
    contact_id: str, subject_ref: str = CUSTOMER, *, at: datetime = T, **fields: Any
) -> dict[str, Any]:
    """Return a screened contact ``contact_id`` as screening stores it."""
    return screened_contact(subject_ref, at=at, contact_id=contact_id, **fields)


def record(case_id: str, *changes: tuple[datetime, Consent]) -> ConsentRecord:
    """Return a record of ``case_id`` with ``changes`` (time, state) made by an agent."""
    history = tuple(
        ConsentChange(at=at, state=state, source="agent", actor="cc.prasert")
        for at, state in changes
    )
    return ConsentRecord(case_id=case_id, history=history)


def announcement(message_id: str) -> dict[str, Any]:
    """Return an outbox entry as the consent book writes one."""
    return {"id": message_id, "type": "consent.changed", "data": {"state": "granted"}}


async def a_record_is_written_only_over_the_version_read(b: Backend) -> None:
    first = record("case-1", (T, "withheld"))
    assert await b.consents.held("case-1") is None
    assert await b.consents.write(
        "case-1", version=0, record=first, subjects={CUSTOMER}, customer=CUSTOMER, announce=None
    )
    second = record("case-1", (T, "withheld"), (T + timedelta(minutes=1), "granted"))
    assert not await b.consents.write(
        "case-1", version=0, record=second, subjects=set(), customer=None, announce=None
    )
    assert await b.consents.write(
        "case-1", version=1, record=second, subjects={NEIGHBOUR}, customer=None, announce=None
    )
    held = await b.consents.held("case-1")
    assert held is not None
    assert held.version == 2
    assert held.subject_refs == {CUSTOMER, NEIGHBOUR}
    assert held.record.customer_ref == CUSTOMER
    assert [(c.at, c.state) for c in held.record.history] == [
        (ms(T), "withheld"),
        (ms(T + timedelta(minutes=1)), "granted"),
    ]
    assert held.record.state == "granted"
    assert await b.consents.customer_of("case-1") == CUSTOMER
    assert [r.case_id for r in await b.consents.for_subject(NEIGHBOUR)] == ["case-1"]
    assert await b.consents.for_subject("sub_other") == []
    assert await b.consents.customer_of("case-none") is None


async def a_new_record_starts_with_an_empty_outbox_unless_it_announces(b: Backend) -> None:
    quiet = record("case-quiet", (T, "withheld"))
    told = record("case-told", (T, "granted"))
    assert await b.consents.write(
        "case-quiet", version=0, record=quiet, subjects=set(), customer=None, announce=None
    )
    assert await b.consents.write(
        "case-told",
        version=0,
        record=told,
        subjects=set(),
        customer=None,
        announce=announcement("consent-case-told-1"),
    )
    assert (await b.record_doc("case-quiet") or {})["pending"] == 0
    assert (await b.record_doc("case-quiet") or {})["outbox"] == []
    assert [p.case_id async for p in b.consents.pending()] == ["case-told"]
    assert [p.case_id async for p in b.consents.pending("case-quiet")] == []
    [pending] = [p async for p in b.consents.pending("case-told")]
    assert pending.outbox == (announcement("consent-case-told-1"),)


async def a_published_message_leaves_the_outbox_once(b: Backend) -> None:
    changes: list[tuple[datetime, Consent]] = [
        (T, "granted"),
        (T + timedelta(minutes=1), "withheld"),
    ]
    for version in (0, 1):
        assert await b.consents.write(
            "case-1",
            version=version,
            record=record("case-1", *changes[: version + 1]),
            subjects={CUSTOMER},
            customer=None,
            announce=announcement(f"consent-case-1-{version + 1}"),
        )
    await b.consents.delivered("case-1", "consent-case-1-1")
    await b.consents.delivered("case-1", "consent-case-1-1")
    doc = await b.record_doc("case-1")
    assert doc is not None
    assert doc["pending"] == 1
    assert [m["id"] for m in doc["outbox"]] == ["consent-case-1-2"]
    await b.consents.delivered("case-1", "consent-case-1-2")
    assert [p async for p in b.consents.pending()] == []
    assert (await b.record_doc("case-1") or {})["pending"] == 0


async def the_opener_is_the_earliest_contact_tied_to_the_case(b: Backend) -> None:
    await b.add_contact(screened("c-late", at=T + timedelta(hours=1), case_id="case-1"))
    await b.add_contact(screened("c-early", at=T, case_id="case-1"))
    await b.add_contact(screened("c-free", at=T - timedelta(hours=1)))
    opener = await b.consents.opener("case-1")
    assert opener is not None
    assert opener["_id"] == "c-early"
    assert opener["received_at"] == ms(T)
    assert "vault" not in opener
    assert await b.consents.opener("case-none") is None


async def contacts_come_back_without_their_sealed_part(b: Backend) -> None:
    await b.add_contact(screened("c-1", at=T))
    await b.add_contact(screened("c-2", NEIGHBOUR, at=T, consent="granted", source=None))
    docs = sorted(await b.consents.contacts(["c-2", "c-1", "c-missing"]), key=lambda d: d["_id"])
    assert [d["_id"] for d in docs] == ["c-1", "c-2"]
    assert all("vault" not in d for d in docs)
    assert docs[1]["consent_source"] is None
    assert docs[0]["received_at"] == ms(T)
    assert await b.consents.contacts([]) == []


async def only_free_contacts_are_tied_to_a_case(b: Backend) -> None:
    await b.add_contact(screened("c-free"))
    await b.add_contact(screened("c-split", case_id="case-old"))
    await b.add_contact(screened("c-taken", case_id="case-other"))
    ids = ["c-free", "c-split", "c-taken"]
    await b.consents.tie(ids, case_id="case-new", free=[None, "case-old"])
    tied = {d["_id"]: d["case_id"] for d in await b.consents.contacts(ids)}
    assert tied == {"c-free": "case-new", "c-split": "case-new", "c-taken": "case-other"}


async def a_known_customer_is_known_erased_or_not(b: Backend) -> None:
    await b.add_subject(CUSTOMER)
    assert await b.consents.subject_exists(CUSTOMER)
    assert not await b.consents.subject_exists("sub_nobody")


async def the_audit_log_chains_and_masks_what_people_typed(b: Backend) -> None:
    reason = "customer 081-234-5678 agreed"
    first = await b.consents.append_audit(
        at=T,
        actor="cc.prasert",
        role="agent",
        action="consent_change",
        subject_ref=CUSTOMER,
        case_id="case-1",
        reason=reason,
    )
    second = await b.consents.append_audit(
        at=T + timedelta(seconds=1),
        actor="line",
        role="system",
        action="consent_change",
        subject_ref=CUSTOMER,
        case_id="case-1",
        reason="granted via line_quick_reply",
    )
    assert (first.seq + 1, first.hash) == (second.seq, second.prev_hash)
    assert first.reason == mask(reason) != reason
    assert first.at == ms(T)
    entries = await b.audit()
    assert entries == [first, second]
    assert verify_chain(entries).ok


async def the_book_records_audits_and_relays_a_staff_decision(b: Backend) -> None:
    await b.add_subject(CUSTOMER)
    await b.add_contact(screened("c-1", at=T))
    bus, clock = RecordingBus(), FrozenClock(ms(T) + timedelta(minutes=5))
    book = ConsentBook(b.consents, bus=bus, clock=clock)
    updated = await book.record(
        "case-1",
        "granted",
        source="customer",
        actor="cc.prasert",
        role="agent",
        reason="the customer agreed on the phone",
        contact_ids=["c-1"],
    )
    assert [(c.state, c.source) for c in updated.history] == [
        ("withheld", "app_form"),
        ("granted", "customer"),
    ]
    assert [(m.id, m.data["state"]) for m in bus.published] == [("consent-case-1-2", "granted")]
    assert (await b.record_doc("case-1") or {})["pending"] == 0
    [entry] = await b.audit()
    assert (entry.action, entry.actor, entry.role) == ("consent_change", "cc.prasert", "agent")
    assert (entry.subject_ref, entry.case_id) == (CUSTOMER, "case-1")
    assert updated.customer_ref == CUSTOMER
    assert await book.get("case-1") == updated


async def the_book_lets_no_later_contact_flip_consent(b: Backend) -> None:
    await b.add_contact(screened("c-open", at=T, consent="withheld", source="app_form"))
    await b.add_contact(
        screened("c-walkin", at=T + timedelta(hours=1), consent="granted", source="walk_in_form")
    )
    await b.add_contact(
        screened(
            "c-other",
            NEIGHBOUR,
            at=T + timedelta(hours=2),
            consent="granted",
            source="line_quick_reply",
        )
    )
    book = ConsentBook(b.consents, bus=RecordingBus(), clock=FrozenClock(T))
    await book.link("case-1", ["c-open"])
    linked = await book.link("case-1", ["c-open", "c-walkin", "c-other"])
    assert linked.state == "withheld"
    assert len(linked.history) == 1
    assert [p async for p in b.consents.pending()] == []
    held = await b.consents.held("case-1")
    assert held is not None
    assert held.subject_refs == {CUSTOMER, NEIGHBOUR}
    assert held.record.customer_ref == CUSTOMER


SCENARIOS = [
    a_record_is_written_only_over_the_version_read,
    a_new_record_starts_with_an_empty_outbox_unless_it_announces,
    a_published_message_leaves_the_outbox_once,
    the_opener_is_the_earliest_contact_tied_to_the_case,
    contacts_come_back_without_their_sealed_part,
    only_free_contacts_are_tied_to_a_case,
    a_known_customer_is_known_erased_or_not,
    the_audit_log_chains_and_masks_what_people_typed,
    the_book_records_audits_and_relays_a_staff_decision,
    the_book_lets_no_later_contact_flip_consent,
]


def memory_backend() -> Backend:
    """Return the in-memory fake as a backend."""
    fake = MemoryConsents()

    async def add_contact(doc: dict[str, Any]) -> None:
        fake.add_contact(doc)

    async def add_subject(subject_ref: str) -> None:
        fake.add_subject(subject_ref)

    async def record_doc(case_id: str) -> dict[str, Any] | None:
        return fake.records.get(case_id)

    async def audit() -> list[AuditEntry]:
        return list(fake.audit)

    return Backend(fake, add_contact, add_subject, record_doc, audit)


def mongo_backend(store: Store) -> Backend:
    """Return ``MongoConsents`` on ``store`` as a backend."""

    async def add_contact(doc: dict[str, Any]) -> None:
        await store[CONTACTS].insert_one(dict(doc))

    async def add_subject(subject_ref: str) -> None:
        await store[SUBJECTS].insert_one({"_id": subject_ref, "data_key": None})

    async def record_doc(case_id: str) -> dict[str, Any] | None:
        return await store[CONSENTS].find_one({"_id": case_id})

    async def audit() -> list[AuditEntry]:
        return await audit_entries(store)

    return Backend(MongoConsents(store), add_contact, add_subject, record_doc, audit)


@pytest.fixture(params=["memory", "mongo"])
async def backend(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[Backend]:
    """Yield each backend in turn, the MongoDB one on a database of its own."""
    if request.param == "memory":
        yield memory_backend()
        return
    store = connect(mongo_url, f"test_{new_id().lower()}")
    await store.ensure_indexes(INDEXES)
    try:
        yield mongo_backend(store)
    finally:
        await store.client.drop_database(store.db.name)
        await store.client.close()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_consent_repository(
    backend: Backend, scenario: Callable[[Backend], Awaitable[None]]
) -> None:
    await scenario(backend)
