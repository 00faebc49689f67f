"""LINE notifications: reply or push, retries, reports, duplicates, restarts, who gets nothing."""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from services.notify.adapters import notification_id_for, retry_key
from services.notify.messages import NotificationFailed
from shared.ids import new_id
from shared.messages import Contact, ContactScreened, Identity, ReplyRequested, ThreadKeys
from tests.support.acting import acting_headers
from tests.support.notify_stack import (
    SERVICE_TOKEN,
    NotifyStack,
    case_event,
    expiring,
    notify_stack,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(mongo_url: str) -> AsyncIterator[NotifyStack]:
    async with notify_stack(mongo_url) as running:
        yield running


def line_user() -> str:
    return "U" + secrets.token_hex(16)


def line_contact(user_id: str, *, token: str | None = None, expires_in: float = 50) -> Contact:
    contact_id = new_id()
    meta: dict[str, str | int | float | bool | None] = {"line_event_type": "message"}
    if token:
        meta |= {"reply_token": token, "reply_token_expires_at": expiring(expires_in)}
    return Contact(
        id=contact_id,
        channel="line",
        org="pea",
        received_at=datetime.now(UTC),
        dedupe_key=f"line:{contact_id}",
        text="ไฟดับทั้งซอย",
        customer=Identity(line_user_id=user_id),
        thread=ThreadKeys(conversation=f"line-user-{contact_id.lower()}"),
        meta=meta,
        raw_ref=f"raw-{contact_id}",
    )


def agent_reply(screened: ContactScreened, text: str = "เจ้าหน้าที่จะเข้าตรวจสอบพรุ่งนี้") -> ReplyRequested:
    return ReplyRequested(
        request_id=new_id(),
        case_id=f"case-{screened.contact_id}",
        case_number="VOC-2026-000777",
        text=text,
        author="agent.somsri",
        reply_handle=screened.reply_handle,
    )


async def test_reply_while_the_token_lives_then_push_with_a_retry_key(stack: NotifyStack) -> None:
    user = line_user()
    stack.line.reply_tokens.add("rt-fresh")
    screened = await stack.screen(line_contact(user, token="rt-fresh"))

    opened = await stack.publish(case_event(screened, "case.opened"))
    assert (await stack.delivery(opened))["via"] == "reply"
    reply = await stack.publish(agent_reply(screened))
    assert (await stack.delivery(reply))["via"] == "push"

    (first, to_first, _), (second, to_second, messages) = stack.line.delivered
    assert (first, to_first) == ("reply", "rt-fresh")
    assert (second, to_second) == ("push", user)
    assert messages[0]["text"].startswith("เจ้าหน้าที่จะเข้าตรวจสอบพรุ่งนี้")
    push_headers = stack.line.requests[-1][1]
    assert push_headers["x-line-retry-key"] == retry_key(notification_id_for(reply.id, "line"))
    uuid.UUID(push_headers["x-line-retry-key"])


async def test_expired_reply_token_goes_by_push(stack: NotifyStack) -> None:
    user = line_user()
    stack.line.reply_tokens.add("rt-old")
    screened = await stack.screen(line_contact(user, token="rt-old", expires_in=-5))
    opened = await stack.publish(case_event(screened, "case.opened"))

    assert (await stack.delivery(opened))["via"] == "push"
    assert [(e, to) for e, to, _ in stack.line.delivered] == [("push", user)]


async def test_resolution_on_line_asks_for_a_rating_with_five_postback_buttons(
    stack: NotifyStack,
) -> None:
    screened = await stack.screen(line_contact(line_user()))
    event = case_event(
        screened, "case.resolved", number="VOC-2026-000555", detail={"summary": "ซ่อมสายแล้ว"}
    )
    await stack.delivery(await stack.publish(event))

    items = stack.line.delivered[0][2][-1]["quickReply"]["items"]
    answers = [parse_qs(item["action"]["data"]) for item in items]
    assert [a["score"] for a in answers] == [["1"], ["2"], ["3"], ["4"], ["5"]]
    assert all(a["action"] == ["csat"] and a["case"] == ["VOC-2026-000555"] for a in answers)


@pytest.mark.parametrize("delivered_before_500", [False, True])
async def test_provider_500_is_retried_and_the_customer_gets_one_message(
    stack: NotifyStack, delivered_before_500: bool
) -> None:
    stack.line.script = [(500, delivered_before_500)]
    screened = await stack.screen(line_contact(line_user()))
    doc = await stack.delivery(await stack.publish(agent_reply(screened)))

    assert doc["status"] == "sent"
    statuses = [a["provider_status"] for a in doc["attempts"]]
    assert statuses == [500, 409 if delivered_before_500 else 200]
    assert len(stack.line.delivered) == 1


async def test_provider_400_is_not_retried_and_an_agent_is_told(
    stack: NotifyStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    user = line_user()
    stack.line.script = [(400, False)]
    screened = await stack.screen(line_contact(user))
    event = await stack.publish(
        case_event(screened, "case.info_requested", detail={"question": "เลขผู้ใช้ไฟ?"})
    )

    doc = await stack.delivery(event)

    assert doc["status"] == "failed"
    assert len(doc["attempts"]) == 1
    (envelope,) = await stack.wait_published("notification.failed")
    report = envelope.message()
    assert isinstance(report, NotificationFailed)
    assert (report.event_id, report.kind, report.channel) == (event.id, "info_requested", "line")
    assert (report.provider_status, report.attempts) == (400, 1)
    assert envelope.causation_id == event.id
    assert user not in stack.bus_text()
    assert user not in caplog.text


async def test_same_event_delivered_again_and_after_a_restart_sends_one_message(
    stack: NotifyStack,
) -> None:
    screened = await stack.screen(line_contact(line_user()))
    event = await stack.publish(case_event(screened, "case.opened"))
    await stack.delivery(event)
    await stack.publish(event)
    await stack.bus.drain()
    await stack.stop_notify()
    await stack.start_notify()
    await stack.publish(event)
    await stack.bus.drain()
    await asyncio.sleep(0.2)  # give a wrongly re-queued delivery time to go out

    assert len(stack.line.delivered) == 1
    assert await stack.notify_store["deliveries"].count_documents({"event_id": event.id}) == 1


async def test_a_retry_waiting_in_the_store_is_sent_after_a_restart(stack: NotifyStack) -> None:
    stack.line.script = [(503, False)]
    stack.line.retry_after = "1"
    screened = await stack.screen(line_contact(line_user()))
    event = await stack.publish(agent_reply(screened))
    key = {"_id": f"n-{event.id}"}
    for _ in range(200):
        doc = await stack.notify_store["deliveries"].find_one(key)
        if doc and doc["attempts"]:
            break
        await asyncio.sleep(0.02)
    await stack.stop_notify()
    assert stack.line.delivered == []

    await stack.start_notify()
    doc = await stack.delivery(event)

    assert doc["status"] == "sent"
    assert [a["provider_status"] for a in doc["attempts"]] == [503, 200]
    assert len(stack.line.delivered) == 1


async def test_unknown_or_erased_customer_gets_nothing(stack: NotifyStack) -> None:
    screened = await stack.screen(line_contact(line_user()))
    gone = screened.model_copy(update={"reply_handle": f"rh_{new_id()}"})
    doc = await stack.delivery(await stack.publish(agent_reply(gone)))

    assert (doc["status"], doc["attempts"]) == ("skipped", [])
    assert stack.line.delivered == []


async def test_unfollowed_or_unreachable_customer_gets_nothing(stack: NotifyStack) -> None:
    unfollowed = await stack.screen(line_contact(line_user()))
    await stack.publish(
        case_event(unfollowed, "case.contact_added", detail={"flags": ["unfollow"]})
    )
    first = await stack.delivery(await stack.publish(agent_reply(unfollowed)))

    marked = await stack.screen(line_contact(line_user()))
    async with stack.notify_client() as client:
        answer = await client.put(
            f"/internal/v1/customers/{marked.subject_ref}/reachability",
            json={"reachable": False, "reason": "number disconnected"},
            headers=acting_headers(audience="notify", token=SERVICE_TOKEN, role="agent"),
        )
    assert answer.status_code == 204
    second = await stack.delivery(await stack.publish(agent_reply(marked)))

    assert (first["status"], second["status"]) == ("skipped", "skipped")
    assert stack.line.delivered == []


async def test_rate_limit_holds_back_the_third_message_in_a_window(mongo_url: str) -> None:
    async with notify_stack(mongo_url, notify_rate_limit=2) as stack:
        screened = await stack.screen(line_contact(line_user()))
        for n in range(3):
            await stack.publish(agent_reply(screened, f"ข้อความ {n}"))
        for _ in range(200):
            docs = await stack.notify_store["deliveries"].find().to_list()
            if sorted(d["status"] for d in docs) == ["queued", "sent", "sent"]:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # the held one must stay held
        docs = await stack.notify_store["deliveries"].find().to_list()

    (held,) = [d for d in docs if d["status"] != "sent"]
    assert len(stack.line.delivered) == 2
    assert (held["status"], held["attempts"]) == ("queued", [])
    assert held["next_attempt_at"] > datetime.now(UTC)
