"""Closing a case by the customer's rating: privacy, routing and notify together, mail to SMTP."""

from __future__ import annotations

import asyncio
import inspect
import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from shared.ids import new_id
from shared.messages import Contact, ContactReceived, Envelope, Identity, ThreadKeys
from tests.support.acting import acting_headers
from tests.support.notify_stack import SERVICE_TOKEN, NotifyStack, notify_stack

pytestmark = pytest.mark.integration

def agent() -> dict[str, str]:
    """Headers of a call to routing as an agent, with a fresh assertion."""
    return acting_headers(
        audience="routing", token=SERVICE_TOKEN, role="agent", user="agent.somsri"
    )


LINK = re.compile(r"http://notify\.test(/survey/\S+)")


@pytest.fixture
async def stack(mongo_url: str, tmp_path: Path) -> AsyncIterator[NotifyStack]:
    async with notify_stack(mongo_url, real_routing=tmp_path) as running:
        yield running


async def wait_for(probe: Any, *, timeout: float = 15.0) -> Any:
    """Return ``probe()``'s first truthy answer (awaited if it is a coroutine)."""
    for _ in range(int(timeout / 0.05)):
        found = probe()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("gave up waiting")


def bodies(stack: NotifyStack) -> list[str]:
    texts = []
    for raw in stack.mail.raw:
        mail = message_from_bytes(raw, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        plain = mail.get_body(("plain",))
        assert plain is not None
        texts.append(str(plain.get_content()))
    return texts


async def resolved_case_and_link(stack: NotifyStack) -> tuple[str, str]:
    """Mail a complaint, have an agent resolve it; return the case id and the survey path."""
    marker = f"M{new_id()[-8:]}"
    contact_id = new_id()
    contact = Contact(
        id=contact_id,
        channel="email",
        org="pea",
        received_at=datetime.now(UTC),
        dedupe_key=f"email:{contact_id}",
        text=f"ไฟดับทั้งซอย {marker}",
        subject="ไฟดับ",
        customer=Identity(name="วิไล ทดสอบ", email=f"w.{contact_id.lower()}@mail.example"),
        thread=ThreadKeys(message_id=f"<{contact_id}@mail.example>"),
        raw_ref=f"raw-{contact_id}",
    )
    await stack.bus.publish(Envelope.of(ContactReceived(contact=contact)))

    async def listed() -> list[dict[str, Any]]:
        answer = await stack.http.get(
            "http://routing.test/internal/v1/cases", params={"q": marker}, headers=agent()
        )
        return list(answer.json()["items"]) if answer.status_code == 200 else []

    (case,) = await wait_for(listed)
    await wait_for(lambda: any(case["number"] in t for t in bodies(stack)))
    resolved = await stack.http.post(
        f"http://routing.test/internal/v1/cases/{case['id']}/resolve",
        json={"summary": "ซ่อมสายไฟแรงต่ำเรียบร้อย"},
        headers=agent(),
    )
    assert resolved.status_code == 200, resolved.text
    text = await wait_for(lambda: next((t for t in bodies(stack) if LINK.search(t)), None))
    assert "ซ่อมสายไฟแรงต่ำเรียบร้อย" in text
    match = LINK.search(text)
    assert match is not None
    return str(case["id"]), match.group(1)


async def case_status(stack: NotifyStack, case_id: str) -> dict[str, Any]:
    answer = await stack.http.get(
        f"http://routing.test/internal/v1/cases/{case_id}", headers=agent()
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_rating_through_the_mailed_link_closes_the_case(stack: NotifyStack) -> None:
    case_id, path = await resolved_case_and_link(stack)
    async with stack.notify_client() as client:
        answer = await client.post(path, data={"score": "5", "comment": "รวดเร็วมาก"})

    assert answer.status_code == 200, answer.text
    case = await case_status(stack, case_id)
    assert case["status"] == "closed"
    closure = case["closure"]
    assert (closure["score"], closure["comment"], closure["channel"]) == (5, "รวดเร็วมาก", "email")
    assert closure["acknowledged_at"]


async def test_low_rating_reopens_the_case_and_the_customer_hears_of_it(stack: NotifyStack) -> None:
    case_id, path = await resolved_case_and_link(stack)
    mails_before = len(stack.mail.raw)
    async with stack.notify_client() as client:
        answer = await client.post(path, data={"score": "1", "comment": "ยังดับอยู่"})

    assert answer.status_code == 200, answer.text
    case = await case_status(stack, case_id)
    assert case["status"] not in ("closed", "resolved")  # reopened to the supervisor
    assert case["closure"]["score"] == 1
    await wait_for(lambda: len(stack.mail.raw) > mails_before)
    assert "เปิดดำเนินการอีกครั้ง" in bodies(stack)[-1]


def line_contact(user_id: str, text: str, **meta: str | int) -> Contact:
    contact_id = new_id()
    postback = "postback_action" in meta
    return Contact.model_validate(
        {
            "id": contact_id,
            "channel": "line",
            "org": "pea",
            "received_at": datetime.now(UTC),
            "dedupe_key": f"line:{contact_id}",
            "text": text,
            "customer": Identity(line_user_id=user_id),
            "flags": ("postback",) if postback else (),
            "meta": {"line_event_type": "postback" if postback else "message", **meta},
            "raw_ref": f"raw-{contact_id}",
        }
    )


async def test_tapping_a_rating_button_on_line_closes_the_case(stack: NotifyStack) -> None:
    user = "U" + secrets.token_hex(16)
    marker = f"L{new_id()[-8:]}"
    await stack.bus.publish(
        Envelope.of(ContactReceived(contact=line_contact(user, f"ไฟดับ {marker}")))
    )

    async def listed() -> list[dict[str, Any]]:
        answer = await stack.http.get(
            "http://routing.test/internal/v1/cases", params={"q": marker}, headers=agent()
        )
        return list(answer.json()["items"]) if answer.status_code == 200 else []

    (case,) = await wait_for(listed)
    await stack.http.post(
        f"http://routing.test/internal/v1/cases/{case['id']}/resolve",
        json={"summary": "แก้ไขแล้ว"},
        headers=agent(),
    )

    async def rating_buttons() -> list[str] | None:
        for _, _, messages in stack.line.delivered:
            items = messages[-1].get("quickReply", {}).get("items", [])
            if items:
                return [item["action"]["data"] for item in items]
        return None

    buttons = await wait_for(rating_buttons)
    tapped = dict(pair.split("=") for pair in buttons[3].split("&"))
    assert tapped == {"action": "csat", "case": case["number"], "score": "4"}
    # LINE posts the button's data back; intake turns it into this contact.
    postback = line_contact(
        user, "", postback_action="csat", postback_case=tapped["case"], postback_score=4
    )
    await stack.bus.publish(Envelope.of(ContactReceived(contact=postback)))

    async def closed() -> dict[str, Any] | None:
        current = await case_status(stack, case["id"])
        return current if current["status"] == "closed" else None

    closure = (await wait_for(closed))["closure"]
    assert (closure["score"], closure["channel"]) == (4, "line")
