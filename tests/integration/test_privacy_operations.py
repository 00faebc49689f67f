"""Privacy's operations on the real store: audit verification, key rotation, retention."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from services.privacy import store as pstore
from services.privacy.commands import describe_verify, rotate_data_keys, verify_audit
from services.privacy.consent_book import ConsentBook
from services.privacy.retention import ClosedCase, Retention, RoutingCases
from services.privacy.rotation import rotate_keys
from services.privacy.screening import Screener, blind_indexer, key_ring
from services.privacy.settings import PrivacySettings
from services.privacy.vault import KeyRing
from services.privacy.vaulting import SubjectVault
from shared.assertions import HEADER, verify
from shared.bus import QUEUES, QueueSpec
from shared.bus.inproc import InProcessBus
from shared.clock import FrozenClock
from shared.ids import new_id
from shared.messages import ContactScreened, Identity
from shared.runtime import open_store
from shared.settings import Settings
from shared.store import Store
from tests.support.messages import contact

pytestmark = pytest.mark.integration

SETTINGS = Settings(vault_kek="k1:ops-kek-one", blind_index_key="ops-index-key")


@pytest.fixture
async def privacy_store(mongo_url: str) -> AsyncIterator[tuple[Settings, Store]]:
    """The privacy database the operator commands open by settings."""
    settings = SETTINGS.model_copy(update={"mongo_db_prefix": f"ops{new_id().lower()[-8:]}"})
    store = open_store(settings, "privacy", mongo_url)
    await store.ensure_indexes(pstore.INDEXES)
    yield settings, store
    await store.client.drop_database(store.db.name)
    await store.client.close()


def _phone() -> str:
    return "086" + str(int(new_id()[-10:], 36))[-7:].rjust(7, "3")


async def _screen(
    store: Store, ring: KeyRing, at: datetime, **overrides: object
) -> ContactScreened:
    screener = Screener(store, vault=SubjectVault(store, ring), indexer=blind_indexer(SETTINGS))
    return await screener.screen(contact(**overrides), at=at)


async def _audit_some(store: Store, count: int) -> None:
    at = contact().received_at
    for n in range(count):
        await pstore.append_audit(
            store,
            at=at,
            actor="agent7",
            role="agent",
            action="reveal",
            subject_ref=f"sub_{n}",
            purpose="handle_case",
            reason="handling the case",
        )


async def test_audit_verify_passes_and_tampering_with_one_entry_fails_it(
    privacy_store: tuple[Settings, Store], mongo_url: str
) -> None:
    settings, store = privacy_store
    await _audit_some(store, 4)
    intact = await verify_audit(settings, mongo_url)
    assert (intact.ok, intact.checked) == (True, 4)
    assert describe_verify(intact) == ("audit log intact: 4 entries", 0)

    await store[pstore.AUDIT].update_one({"_id": 3}, {"$set": {"reason": "nothing to see"}})
    broken = await verify_audit(settings, mongo_url)
    assert (broken.ok, broken.first_bad_seq) == (False, 3)
    assert describe_verify(broken)[1] == 1


async def test_rotation_rewraps_data_keys_and_leaves_the_data_alone(
    privacy_store: tuple[Settings, Store], mongo_url: str
) -> None:
    settings, store = privacy_store
    old = key_ring(settings)
    at = contact().received_at
    screened = await _screen(store, old, at, customer=Identity(phone=_phone(), name="ก"))
    assert screened.subject_ref is not None
    before = await store[pstore.SUBJECTS].find_one({"_id": screened.subject_ref})
    sealed = await store[pstore.CONTACTS].find_one({"_id": screened.contact_id})
    assert before is not None
    assert sealed is not None

    rotated = settings.model_copy(update={"vault_kek": SecretStr("k1:ops-kek-one,k2:ops-kek-two")})
    report = await rotate_data_keys(rotated, mongo_url)
    assert report.rewrapped == 1

    after = await store[pstore.SUBJECTS].find_one({"_id": screened.subject_ref})
    assert after is not None
    assert after["data_key"]["kek_id"] == "k2"
    assert after["identity"] == before["identity"]  # never re-encrypted
    only_new = KeyRing([("k2", "ops-kek-two")])
    assert (await SubjectVault(store, only_new).identity(screened.subject_ref))["name"] == "ก"
    assert (await SubjectVault(store, only_new).open_contact(sealed))["text"]
    again = await rotate_keys(store, key_ring(rotated))
    assert (again.rewrapped, again.current) == (0, 1)


class _Closed:
    """Routing as retention sees it: a fixed list of closed cases."""

    def __init__(self, cases: list[ClosedCase]) -> None:
        self.cases = cases

    async def closed_cases(self, *, closed_before: datetime) -> list[ClosedCase]:
        return [c for c in self.cases if c.closed_at <= closed_before]


async def test_retention_purges_clear_text_after_closure_then_the_identity(
    privacy_store: tuple[Settings, Store],
) -> None:
    _, store = privacy_store
    ring = key_ring(SETTINGS)
    clock = FrozenClock(contact().received_at)
    phone = _phone()
    closed = await _screen(store, ring, clock.now(), customer=Identity(phone=phone))
    still_open = await _screen(store, ring, clock.now(), customer=Identity(phone=_phone()))
    case = ClosedCase(
        case_id=f"case-{new_id()}",
        number="VOC-2026-000042",
        closed_at=clock.now() + timedelta(days=1),
        contact_ids=(closed.contact_id,),
    )
    rules = PrivacySettings(retention_contact_text_days=30, retention_identity_days=60)
    vault = SubjectVault(store, ring)
    retention = Retention(store, vault=vault, cases=_Closed([case]), settings=rules, clock=clock)

    clock.advance(timedelta(days=30))
    assert (await retention.run_once()).contacts_purged == 0  # closed 29 days ago

    clock.advance(timedelta(days=2))
    assert (await retention.run_once()).contacts_purged == 1
    doc = await store[pstore.CONTACTS].find_one({"_id": closed.contact_id})
    assert doc is not None
    assert "vault" not in doc
    assert doc["screened"]["text"] == closed.text
    assert (doc["case_id"], doc["case_number"]) == (case.case_id, case.number)
    assert (await store[pstore.CONTACTS].find_one({"_id": still_open.contact_id}) or {})["vault"]

    clock.advance(timedelta(days=30))
    report = await retention.run_once()
    assert report.subjects_purged == 1  # the open case's customer keeps their identity
    assert closed.subject_ref is not None
    subject = await store[pstore.SUBJECTS].find_one({"_id": closed.subject_ref})
    assert subject is not None
    assert subject["data_key"] is None
    assert await store[pstore.BLIND].count_documents({"subject_ref": closed.subject_ref}) == 0
    purges = await pstore.audit_entries(store, action="purge")
    assert [(e.subject_ref, e.purpose) for e in purges] == [
        (closed.subject_ref, "retention"),
        (closed.subject_ref, "retention"),
    ]


async def test_routing_cases_are_read_page_by_page_with_their_closing_time() -> None:
    closed_at = "2026-01-10T03:00:00+00:00"

    def item(n: int) -> dict[str, object]:
        return {
            "id": f"c{n}",
            "number": f"VOC-2026-{n:06d}",
            "updated_at": "2026-02-01T00:00:00+00:00",
            "timeline": [{"type": "case.closed", "at": closed_at}],
            "contacts": [{"id": f"k{n}"}],
        }

    seen: list[httpx.Request] = []

    def routing(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params["page"])
        items = [item(n) for n in range((page - 1) * 200, min(page * 200, 250))]
        return httpx.Response(200, json={"items": items, "total": 250})

    cases = RoutingCases(
        "http://routing", token="t", acting_key="k", transport=httpx.MockTransport(routing)
    )
    found = await cases.closed_cases(
        closed_before=datetime.fromisoformat("2026-01-11T00:00:00+00:00")
    )
    assert len(found) == 250
    assert len(seen) == 2
    assert found[0].closed_at == datetime.fromisoformat(closed_at)
    assert found[0].contact_ids == ("k0",)
    acting = verify(seen[1].headers[HEADER], audience="routing", key="k")
    assert (acting.user, acting.role) == ("privacy-retention", "system")
    assert seen[0].headers["X-Service-Token"] == "t"
    assert seen[0].url.params["status"] == "closed"


async def test_consent_change_waits_in_the_outbox_until_a_queue_takes_it(
    privacy_store: tuple[Settings, Store],
) -> None:
    _, store = privacy_store
    clock = FrozenClock(contact().received_at)
    screened = await _screen(store, key_ring(SETTINGS), clock.now(), consent="withheld")
    case_id = f"case-{new_id()}"
    no_taker = {k: v for k, v in QUEUES.items() if "consent.changed" not in v.bindings}
    unbound = ConsentBook(pstore.MongoConsents(store), bus=InProcessBus(no_taker), clock=clock)
    clock.advance(timedelta(minutes=1))
    await unbound.record(
        case_id,
        "granted",
        source="agent",
        actor="agent7",
        role="agent",
        reason="customer agreed",
        contact_ids=[screened.contact_id],
    )
    held = await store[pstore.CONSENTS].find_one({"_id": case_id})
    assert held is not None
    assert held["pending"] == 1

    queues = {**QUEUES, "test.consent": QueueSpec("test.consent", ("consent.changed",))}
    bus = InProcessBus(queues)
    assert await ConsentBook(pstore.MongoConsents(store), bus=bus, clock=clock).relay() == 1
    body, _ = bus._queues["test.consent"].pending.get_nowait()
    parked = json.loads(body)
    assert parked["id"] == f"consent-{case_id}-2"
    assert parked["data"]["state"] == "granted"
    assert (await store[pstore.CONSENTS].find_one({"_id": case_id}) or {})["pending"] == 0
    await bus.close()
