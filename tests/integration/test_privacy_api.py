"""Privacy's internal API on the real store: who sees what, consent changes, PDPA requests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest

from services.privacy import store as pstore
from services.privacy.app import create_app
from services.privacy.screening import Screener, blind_indexer, key_ring
from services.privacy.settings import PrivacySettings
from services.privacy.vaulting import SubjectVault
from shared.bus import QUEUES, QueueSpec, Subscription
from shared.bus.inproc import InProcessBus
from shared.clock import FrozenClock
from shared.ids import new_id
from shared.messages import ContactScreened, Envelope, Identity
from shared.runtime import Runtime
from shared.settings import Settings
from shared.store import Store
from tests.support.acting import acting_headers
from tests.support.messages import contact

pytestmark = pytest.mark.integration

TOKEN = "svc-token-test"
SETTINGS = Settings(service_token=TOKEN, vault_kek="k1:api-kek", blind_index_key="api-index-key")
NATIONAL_ID = "3301500123457"
CONSENT_QUEUE = "test.consent"


@dataclass
class Privacy:
    """A privacy app on the test's store, with a way to seed screened contacts."""

    http: httpx.AsyncClient
    store: Store
    screener: Screener
    clock: FrozenClock
    bus: InProcessBus
    announced: list[Envelope] = field(default_factory=list)

    async def screened(self, **overrides: object) -> ContactScreened:
        return await self.screener.screen(contact(**overrides), at=self.clock.now())

    async def call(
        self, method: str, path: str, *, role: str, user: str = "u1", **kwargs: object
    ) -> httpx.Response:
        headers = acting_headers(
            audience="privacy",
            token=TOKEN,
            role=role,
            user=user,
            acting_key=SETTINGS.acting_key.get_secret_value(),
        )
        return await self.http.request(method, "/internal/v1" + path, headers=headers, **kwargs)  # type: ignore[arg-type]

    async def view(
        self, case_id: str, ids: list[str], *, role: str, user: str = "u1", **body: object
    ) -> httpx.Response:
        payload = {"case_id": case_id, "contact_ids": ids, "reason": "handling the case", **body}
        return await self.call("POST", "/cases/view", role=role, user=user, json=payload)


@pytest.fixture
async def privacy(store: Store) -> AsyncIterator[Privacy]:
    # Only the test's own queue takes consent.changed, so draining the bus
    # does not wait for a routing consumer that is not running here.
    others = {k: v for k, v in QUEUES.items() if "consent.changed" not in v.bindings}
    queues = {**others, CONSENT_QUEUE: QueueSpec(CONSENT_QUEUE, ("consent.changed",))}
    bus = InProcessBus(queues)
    clock = FrozenClock(contact().received_at)
    runtime = Runtime(service="privacy", settings=SETTINGS, bus=bus, store=store, clock=clock)
    app = create_app(runtime, settings=PrivacySettings())
    await store.ensure_indexes(pstore.INDEXES)
    screener = Screener(
        store, vault=SubjectVault(store, key_ring(SETTINGS)), indexer=blind_indexer(SETTINGS)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://privacy") as http:
        seeded = Privacy(http=http, store=store, screener=screener, clock=clock, bus=bus)

        async def remember(envelope: Envelope) -> None:
            seeded.announced.append(envelope)

        await bus.subscribe(Subscription(queue=CONSENT_QUEUE, handler=remember, prefetch=1))
        yield seeded
    await bus.close()


def _customer() -> Identity:
    suffix = str(int(new_id()[-10:], 36))[-7:].rjust(7, "2")
    return Identity(
        name="สมหญิง ทดสอบ",
        phone="089" + suffix,
        email=f"s{suffix}@example.com",
        national_id=NATIONAL_ID,
    )


async def test_unit_member_sees_a_withheld_case_masked_and_an_agent_sees_it_audited(
    privacy: Privacy,
) -> None:
    customer = _customer()
    screened = await privacy.screened(
        customer=customer, consent="withheld", text=f"ติดต่อ {customer.phone}"
    )
    case_id = f"case-{new_id()}"

    unit = await privacy.view(case_id, [screened.contact_id], role="unit_member")
    assert unit.status_code == 200
    body = json.dumps(unit.json(), ensure_ascii=False)
    for value in (customer.phone, customer.email, NATIONAL_ID, "สมหญิง"):
        assert str(value) not in body
    assert unit.json()["revealed"] is False

    agent = await privacy.view(case_id, [screened.contact_id], role="agent", user="agent7")
    shown = agent.json()
    assert shown["revealed"] is True
    assert shown["contacts"][0]["identity"]["phone"] == customer.phone
    assert customer.phone in shown["contacts"][0]["text"]
    assert shown["customers"][0]["identity"]["national_id"] == NATIONAL_ID

    audit = await privacy.call("GET", "/audit", role="dpo", params={"case_id": case_id})
    (entry,) = audit.json()["items"]
    assert (entry["action"], entry["actor"], entry["purpose"]) == (
        "reveal",
        "agent7",
        "handle_case",
    )
    assert entry["subject_ref"] == screened.subject_ref


async def test_manager_sees_masked_data_even_with_consent(privacy: Privacy) -> None:
    screened = await privacy.screened(customer=_customer(), consent="granted")
    answer = await privacy.view(f"case-{new_id()}", [screened.contact_id], role="manager")
    assert answer.json()["revealed"] is False
    assert answer.json()["contacts"][0]["identity"] is None


async def test_reveal_without_a_reason_is_refused(privacy: Privacy) -> None:
    screened = await privacy.screened(customer=_customer())
    answer = await privacy.view(f"case-{new_id()}", [screened.contact_id], role="agent", reason=" ")
    assert answer.status_code == 422


async def test_contact_of_another_case_cannot_be_shown_under_this_one(privacy: Privacy) -> None:
    screened = await privacy.screened(customer=_customer())
    await privacy.view(f"case-{new_id()}", [screened.contact_id], role="unit_member")
    other = await privacy.view(
        f"case-{new_id()}", [screened.contact_id], role="unit_member", consent="granted"
    )
    assert other.status_code == 409


async def test_a_contact_split_off_its_case_is_shown_under_the_new_case_only(
    privacy: Privacy,
) -> None:
    screened = await privacy.screened(customer=_customer())
    source, split = f"case-{new_id()}", f"case-{new_id()}"
    await privacy.view(source, [screened.contact_id], role="agent")
    stranger = await privacy.view(
        split, [screened.contact_id], role="agent", split_from=f"case-{new_id()}"
    )
    assert stranger.status_code == 409

    moved = await privacy.view(split, [screened.contact_id], role="agent", split_from=source)

    assert moved.status_code == 200, moved.text
    assert moved.json()["contacts"][0]["id"] == screened.contact_id
    # The contact now belongs to the new case: the case it left cannot show it again.
    back = await privacy.view(source, [screened.contact_id], role="agent")
    assert back.status_code == 409


async def test_agent_grants_consent_for_the_customer_and_the_unit_then_sees_identity(
    privacy: Privacy,
) -> None:
    customer = _customer()
    screened = await privacy.screened(customer=customer, consent="withheld")
    case_id = f"case-{new_id()}"
    privacy.clock.advance(timedelta(minutes=5))

    changed = await privacy.call(
        "POST",
        "/consent",
        role="agent",
        user="agent7",
        json={
            "case_id": case_id,
            "contact_ids": [screened.contact_id],
            "state": "granted",
            "source": "customer",
            "reason": "customer agreed on the phone",
        },
    )
    assert changed.status_code == 200, changed.text
    history = (await privacy.call("GET", f"/consent/{case_id}", role="agent")).json()
    assert history["state"] == "granted"
    assert [(h["state"], h["source"]) for h in history["history"]] == [
        ("withheld", "app_form"),
        ("granted", "customer"),
    ]
    # The caller still says withheld (routing has not caught up): privacy's record wins.
    unit = await privacy.view(
        case_id, [screened.contact_id], role="unit_member", consent="withheld"
    )
    assert unit.json()["consent"] == "granted"
    assert unit.json()["contacts"][0]["identity"]["phone"] == customer.phone

    await privacy.bus.drain()
    (announced,) = privacy.announced
    assert announced.type == "consent.changed"
    assert announced.data["case_id"] == case_id
    assert announced.data["state"] == "granted"
    assert set(announced.data) == {"type", "version", "case_id", "state", "at"}


async def test_system_relays_the_customers_choice_but_cannot_decide_as_an_agent(
    privacy: Privacy,
) -> None:
    screened = await privacy.screened(customer=_customer(), channel="line", consent="unknown")
    body = {"case_id": f"case-{new_id()}", "contact_ids": [screened.contact_id], "state": "granted"}
    as_agent = await privacy.call(
        "POST", "/consent", role="system", json={**body, "source": "agent"}
    )
    assert as_agent.status_code == 403
    choice = await privacy.call(
        "POST", "/consent", role="system", json={**body, "source": "line_quick_reply"}
    )
    assert choice.status_code == 200
    assert choice.json()["history"][-1]["source"] == "line_quick_reply"
    unit_member = await privacy.call(
        "POST", "/consent", role="unit_member", json={**body, "source": "customer", "reason": "x"}
    )
    assert unit_member.status_code == 403


async def test_dpo_finds_exports_and_erases_a_customer(privacy: Privacy) -> None:
    customer = _customer()
    screened = await privacy.screened(
        customer=customer, text=f"บัตรประชาชน {NATIONAL_ID} โทร {customer.phone}"
    )
    case_id = f"case-{new_id()}"
    await privacy.view(case_id, [screened.contact_id], role="agent")
    request = {"reason": "PDPA request no. 12"}

    found = await privacy.call(
        "POST", "/subjects/lookup", role="dpo", json={"phone": customer.phone, **request}
    )
    assert found.status_code == 200
    ref = found.json()["subject_ref"]
    assert ref == screened.subject_ref

    export = (
        await privacy.call("POST", f"/subjects/{ref}/export", role="dpo", json=request)
    ).json()
    assert export["identity"]["email"] == customer.email
    (exported,) = export["contacts"]
    assert NATIONAL_ID in exported["clear"]["text"]
    assert export["cases"] == [
        {"case_id": case_id, "number": None, "contact_ids": [screened.contact_id]}
    ]
    assert export["consents"][0]["state"] == "withheld"
    assert [e["action"] for e in export["audit"]] == ["reveal", "lookup", "export"]

    erased = await privacy.call("POST", f"/subjects/{ref}/erase", role="dpo", json=request)
    assert erased.json()["erased"] is True

    everything = [
        doc
        for name in await privacy.store.db.list_collection_names()
        for doc in await privacy.store[name].find().to_list()
    ]
    raw = json.dumps(everything, ensure_ascii=False, default=str)
    for value in (customer.phone, customer.email, NATIONAL_ID, "สมหญิง"):
        assert str(value) not in raw
    subject = await privacy.store[pstore.SUBJECTS].find_one({"_id": ref})
    assert subject is not None
    assert subject["data_key"] is None
    assert subject["identity"] is None
    again = await privacy.call(
        "POST", "/subjects/lookup", role="dpo", json={"phone": customer.phone, **request}
    )
    assert again.status_code == 404
    shown = (await privacy.view(case_id, [screened.contact_id], role="agent")).json()
    assert shown["contacts"][0]["erased"] is True
    assert shown["contacts"][0]["text"] == screened.text  # the masked text stays
    handle = await privacy.call("GET", f"/reply-handles/{screened.reply_handle}", role="notify")
    assert handle.status_code == 404


async def test_only_the_dpo_exports_or_erases(privacy: Privacy) -> None:
    screened = await privacy.screened(customer=_customer())
    for action in ("export", "erase"):
        answer = await privacy.call(
            "POST",
            f"/subjects/{screened.subject_ref}/{action}",
            role="supervisor",
            json={"reason": "curious"},
        )
        assert answer.status_code == 403


async def test_notify_resolves_a_reply_handle_and_the_reveal_is_audited(privacy: Privacy) -> None:
    customer = _customer()
    screened = await privacy.screened(customer=customer)
    answer = await privacy.call("GET", f"/reply-handles/{screened.reply_handle}", role="notify")
    assert answer.json()["phone"] == customer.phone
    refused = await privacy.call("GET", f"/reply-handles/{screened.reply_handle}", role="agent")
    assert refused.status_code == 403
    audit = await privacy.call(
        "GET", "/audit", role="dpo", params={"subject_ref": screened.subject_ref}
    )
    assert [e["purpose"] for e in audit.json()["items"]] == ["notify_customer"]


async def test_only_roles_that_work_cases_may_vault_a_staff_text(privacy: Privacy) -> None:
    body = {"case_id": f"case-{new_id()}", "kind": "reply", "text": "ช่างจะโทรกลับค่ะ"}
    for role in ("manager", "dpo", "notify", "system"):
        refused = await privacy.call("POST", "/staff-texts", role=role, json=body)
        assert refused.status_code == 403, (role, refused.text)
    assert await privacy.store[pstore.STAFF_TEXTS].count_documents({}) == 0
    for role in ("agent", "unit_member"):
        vaulted = await privacy.call("POST", "/staff-texts", role=role, json=body)
        assert vaulted.status_code == 200, (role, vaulted.text)


async def test_staff_find_a_customer_by_phone_or_name_until_erased(privacy: Privacy) -> None:
    customer = _customer()
    screened = await privacy.screened(customer=customer, text="ไฟดับทั้งซอย")
    reason = {"reason": "customer search in the queue"}
    name = str(customer.name)

    by_phone = await privacy.call(
        "POST", "/subjects/search", role="agent", json={"phone": customer.phone, **reason}
    )
    by_name = await privacy.call(
        "POST", "/subjects/search", role="agent", json={"name": f"คุณ{name}", **reason}
    )
    assert by_phone.json() == {"subject_refs": [screened.subject_ref]}
    assert by_name.json() == {"subject_refs": [screened.subject_ref]}
    refused = await privacy.call(
        "POST", "/subjects/search", role="manager", json={"phone": customer.phone, **reason}
    )
    assert refused.status_code == 403
    audit = await privacy.call("GET", "/audit", role="dpo", params={"action": "lookup"})
    assert len(audit.json()["items"]) == 2  # each search audited, the refused one not

    ref = screened.subject_ref
    await privacy.call("POST", f"/subjects/{ref}/erase", role="dpo", json=reason)
    gone = await privacy.call(
        "POST", "/subjects/search", role="agent", json={"name": name, **reason}
    )
    assert gone.json() == {"subject_refs": []}
