"""No unit writes to another unit's case, by any door; admins work cases as agents, on the record.

Intake's walk-in door, privacy and routing run on real RabbitMQ and the
embedded store.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.routing.cases.domain import Case
from shared.ids import new_id
from shared.messages import Contact, Identity
from tests.support.desk import Desk, running_desk
from tests.support.messages import contact

pytestmark = pytest.mark.integration

OUTSIDER = {"role": "unit_member", "user": "cmi.somchai", "unit": "pea-chiangmai"}


@pytest.fixture
async def desk(mongo_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    async with running_desk(mongo_url, tmp_path) as running:
        yield running


def someone() -> Identity:
    """Return a customer nobody else in the test shares an identifier with."""
    digits = str(uuid.uuid4().int)[-7:]
    return Identity(name="ลูกค้า ทดสอบ", phone=f"086{digits}", app_user_id=f"u-{new_id()}")


async def billing_case(desk: Desk, who: Identity | None = None) -> Case:
    """Open a billing complaint from the app; return its case (with the billing unit)."""
    first = contact(customer=who or someone(), text="ค่าไฟเดือนนี้แพงผิดปกติ")
    await desk.receive(first)
    case = await desk.case_holding(first.id)
    assert case.unit == "pea-billing"
    return case


async def test_a_walk_in_recorded_by_another_unit_opens_a_related_case(desk: Desk) -> None:
    owner = someone()
    theirs = await billing_case(desk, owner)
    entry = {
        "branch_code": "CMI01",
        "counter_no": 1,
        "queue_no": f"B{new_id()[-6:]}",
        "queued_at": datetime.now(UTC).isoformat(),
        "staff_id": "S-3",
        "customer": {"name": owner.name, "phone": owner.phone},
        "text": "ขอเพิ่มข้อมูลเรื่องค่าไฟ",
        "case_number": theirs.number,
    }

    answer = await desk.call("intake", "POST", "/internal/v1/walk-in", json=entry, **OUTSIDER)

    assert answer.status_code == 202, answer.text
    visit = await desk.case_holding(answer.json()["id"])
    assert visit.id != theirs.id
    assert visit.related_cases == [theirs.id]
    shown = await desk.call("routing", "GET", f"/internal/v1/cases/{visit.id}", role="agent")
    assert shown.json()["related_cases"] == [theirs.id]
    held = await desk.case(theirs.id)
    assert [c.contact_id for c in held.contacts] == [theirs.contacts[0].contact_id]
    assert held.status == theirs.status


# Every API door that writes to a case.
WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "acknowledge", {}),
    ("POST", "replies", {"text": "เราแก้ให้แล้ว"}),
    ("POST", "resolve", {"summary": "ปิดเรื่อง"}),
    ("POST", "request-info", {"question": "ขอเลขผู้ใช้ไฟ"}),
    ("POST", "transfer", {"unit": "pea-chiangmai", "reason": "ของเรา"}),
    ("POST", "reopen", {"reason": "เปิดใหม่"}),
    ("POST", "acknowledge-on-behalf", {"channel": "phone", "note": "โทรแจ้งแล้ว"}),
    ("PATCH", "", {"status": "in_progress"}),
]


async def test_a_unit_member_cannot_change_another_units_case_through_the_api(
    desk: Desk,
) -> None:
    theirs = await billing_case(desk)

    for method, action, body in WRITES:
        path = f"/internal/v1/cases/{theirs.id}" + (f"/{action}" if action else "")
        answer = await desk.call("routing", method, path, json=body, **OUTSIDER)
        assert answer.status_code in (403, 404), f"{action}: {answer.status_code} {answer.text}"

    held = await desk.case(theirs.id)
    assert (held.version, held.status, held.unit) == (theirs.version, theirs.status, "pea-billing")


async def test_mail_naming_a_resolved_case_reopens_it_only_for_its_customer(desk: Desk) -> None:
    theirs = await billing_case(desk)
    resolved = await desk.call(
        "routing",
        "POST",
        f"/internal/v1/cases/{theirs.id}/resolve",
        json={"summary": "ปรับบิลแล้ว"},
        role="unit_member",
        user="billing.orawan",
        unit="pea-billing",
    )
    assert resolved.status_code == 200, resolved.text
    mail = Contact(
        id=new_id(),
        channel="email",
        org="pea",
        received_at=datetime.now(UTC),
        dedupe_key=f"email:<{new_id()}@cmi.example>",
        text="ขอเปิดเรื่องนี้ใหม่",
        subject=f"[{theirs.number}] เปิดใหม่",
        customer=Identity(email=f"staff{new_id().lower()}@cmi.example"),
    )

    await desk.receive(mail)
    opened = await desk.case_holding(mail.id)

    assert opened.id != theirs.id
    held = await desk.case(theirs.id)
    assert held.status == "resolved"
    assert held.reopen_count == 0
    assert held.related_cases == [opened.id]


async def test_an_admin_works_a_case_as_an_agent_does_and_the_timeline_says_so(
    desk: Desk,
) -> None:
    case = await billing_case(desk)
    admin = {"role": "admin", "user": "admin"}
    steps = [
        ("acknowledge", {}),
        ("replies", {"text": "รับเรื่องแล้ว กำลังตรวจสอบ"}),
        ("resolve", {"summary": "ปรับบิลแล้ว"}),
        ("reopen", {"reason": "ลูกค้าแจ้งว่ายังผิด"}),
    ]

    for action, body in steps:
        answer = await desk.call(
            "routing", "POST", f"/internal/v1/cases/{case.id}/{action}", json=body, **admin
        )
        assert answer.status_code in (200, 202), f"{action}: {answer.text}"

    held = await desk.case(case.id)
    by_admin = [e for e in held.timeline if e["actor"] == "admin"]
    assert [e["type"] for e in by_admin] == [
        "case.acknowledged",
        "case.updated",
        "case.resolved",
        "case.reopened",
    ]
    assert {e.get("role") for e in by_admin} == {"admin"}
    assert {e["detail"]["actor_role"] for e in by_admin} == {"admin"}
    assert held.status == "in_progress"
