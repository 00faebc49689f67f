"""Consent is the case's customer's: no later contact flips it, only their own act or staff's.

Intake's walk-in door, privacy and routing run on real RabbitMQ and the
embedded store; what a unit member sees is asked the way the console asks.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.privacy import store as pstore
from services.routing.cases.domain import Case
from shared.ids import new_id
from shared.messages import Contact, Identity, ThreadKeys
from tests.support.desk import Desk, eventually, running_desk
from tests.support.messages import contact

pytestmark = pytest.mark.integration


@pytest.fixture
async def desk(mongo_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    async with running_desk(mongo_url, tmp_path) as running:
        yield running


def customer(tag: str) -> Identity:
    """Return a customer of their own (a phone number nobody else in the test has)."""
    digits = str(abs(hash((tag, new_id()))))[-7:].rjust(7, "3")
    return Identity(name=f"ลูกค้า {tag}", phone=f"081{digits}", app_user_id=f"u-{new_id()}")


async def withheld_case(desk: Desk, who: Identity) -> Case:
    """Open a case from the app whose customer withheld consent; return it."""
    first = contact(customer=who, consent="withheld", text="ไฟดับทั้งซอยตั้งแต่เมื่อคืน")
    await desk.receive(first)
    return await desk.case_holding(first.id)


def walk_in(case_number: str, who: dict[str, Any], queue_no: str) -> dict[str, Any]:
    """Return a counter entry naming ``case_number`` with the consent box ticked."""
    return {
        "branch_code": "CMI01",
        "counter_no": 2,
        "queue_no": queue_no,
        "queued_at": datetime.now(UTC).isoformat(),
        "staff_id": "S-17",
        "customer": who,
        "consent_to_disclose": True,
        "text": "มาติดตามเรื่องเดิม ยินยอมเปิดเผยข้อมูล",
        "case_number": case_number,
    }


async def unit_view(desk: Desk, case: Case) -> dict[str, Any]:
    """Return the case as a member of its unit sees it."""
    return await desk.view(case.id, role="unit_member", unit=case.unit, user="unit.member")


async def test_a_walk_in_naming_the_case_with_consent_ticked_reveals_nobody(desk: Desk) -> None:
    owner = customer("owner")
    case = await withheld_case(desk, owner)
    before = await unit_view(desk, case)

    # The customer themself at the counter, then someone else naming their case.
    entries = [
        walk_in(case.number, {"name": owner.name, "phone": owner.phone}, f"A{new_id()[-6:]}"),
        walk_in(case.number, {"name": "คนอื่น", "phone": "0899990001"}, f"A{new_id()[-6:]}"),
    ]
    ids = []
    for entry in entries:
        answer = await desk.call(
            "intake", "POST", "/internal/v1/walk-in", json=entry, role="agent", user="counter.a"
        )
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    joined = [await desk.case_holding(contact_id) for contact_id in ids]

    assert before["consent"] == "withheld"
    assert [c.id for c in joined] == [case.id, case.id]  # an agent may add both visits
    after = await unit_view(desk, case)
    assert after["consent"] == "withheld"
    assert after["revealed"] is False
    assert all(c["identity"] is None for c in after["contacts"])
    assert (await desk.case(case.id)).consent == "withheld"


async def test_a_strangers_email_tagged_with_the_case_opens_a_related_case(desk: Desk) -> None:
    case = await withheld_case(desk, customer("owner"))
    stranger = Identity(name="Mallory", email=f"m{new_id().lower()}@example.net")
    mail = Contact(
        id=new_id(),
        channel="email",
        org="pea",
        received_at=datetime.now(UTC),
        dedupe_key=f"email:<{new_id()}@example.net>",
        text="consent granted, please show me the customer's details",
        subject=f"Re: [{case.number}] ไฟดับ",
        customer=stranger,
        thread=ThreadKeys(message_id=f"<{new_id()}@example.net>"),
    )

    await desk.receive(mail)
    theirs = await desk.case_holding(mail.id)

    assert theirs.id != case.id
    assert theirs.related_cases == [case.id]

    original = await linked_case(desk, case.id)
    assert original.related_cases == [theirs.id]
    assert original.timeline[-1]["detail"]["change"] == "related_case"
    assert [c.contact_id for c in original.contacts] == [case.contacts[0].contact_id]
    assert original.consent == "withheld"
    assert (await unit_view(desk, original))["revealed"] is False


async def linked_case(desk: Desk, case_id: str) -> Case:
    """Wait until the case has a related case; return it."""

    async def probe() -> Case | None:
        held = await desk.case(case_id)
        return held if held.related_cases else None

    return await eventually(probe, what=f"case {case_id} to be linked")


def line_answer(user_id: str, choice: str, *, case_number: str | None = None) -> Contact:
    """Return the customer's tap on a LINE consent button, as intake passes it on."""
    meta: dict[str, str | int | float | bool | None] = {
        "postback_action": "consent",
        "postback_choice": choice,
        "line_source_type": "user",
    }
    if case_number:
        meta["postback_case"] = case_number
    contact_id = new_id()
    return Contact(
        id=contact_id,
        channel="line",
        org="pea",
        received_at=datetime.now(UTC),
        dedupe_key=f"line:{contact_id}",
        customer=Identity(line_user_id=user_id),
        flags=("postback",),
        meta=meta,
    )


async def test_the_customers_line_consent_answer_opens_their_case_to_the_unit(desk: Desk) -> None:
    line_user = "U" + uuid.uuid4().hex
    first = Contact(
        id=new_id(),
        channel="line",
        org="pea",
        received_at=datetime.now(UTC),
        dedupe_key=f"line:{new_id()}",
        text="ไฟดับทั้งซอย ชื่อสมศรี",
        customer=Identity(line_user_id=line_user, name="สมศรี"),
    )
    await desk.receive(first)
    case = await desk.case_holding(first.id)
    stranger_user = "U" + uuid.uuid4().hex

    await desk.receive(line_answer(stranger_user, "granted", case_number=case.number))
    answer = line_answer(line_user, "granted")
    await desk.receive(answer)
    joined = await desk.case_holding(answer.id)

    assert joined.id == case.id
    assert joined.consent == "granted"
    assert joined.timeline[-1]["detail"] | {"decided_at": None} == {
        "change": "consent",
        "consent": "granted",
        "decided_at": None,
        "source": "line_quick_reply",
    }
    seen = await unit_view(desk, joined)
    assert seen["consent"] == "granted"
    assert seen["revealed"] is True
    assert seen["customers"][0]["identity"]["name"] == "สมศรี"


async def test_staff_change_consent_with_a_reason_audited_and_routing_follows(desk: Desk) -> None:
    case = await withheld_case(desk, customer("owner"))

    changed = await desk.call(
        "privacy",
        "POST",
        "/internal/v1/consent",
        role="supervisor",
        user="sup.malee",
        json={
            "case_id": case.id,
            "contact_ids": [case.contacts[0].contact_id],
            "state": "granted",
            "source": "customer",
            "reason": "customer agreed on the phone, call 2026-12-02 10:14",
        },
    )

    assert changed.status_code == 200, changed.text

    async def followed() -> Case | None:
        held = await desk.case(case.id)
        return held if held.consent == "granted" else None

    assert (await eventually(followed, what="routing to apply the consent")).consent == "granted"
    audit = desk.runtimes["privacy"].store[pstore.AUDIT]
    entry = await audit.find_one({"action": "consent_change", "case_id": case.id})
    assert entry is not None
    assert (entry["actor"], entry["role"]) == ("sup.malee", "supervisor")
