"""Phone, walk-in and app customers: SMS to a mobile, else a call-back task; FCM for the app."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.notify.messages import CallbackRequested
from shared.ids import new_id
from shared.messages import Contact, Identity
from tests.support.notify_stack import NotifyStack, case_event, notify_stack

pytestmark = pytest.mark.integration

RESOLVED = {"summary": "ปรับปรุงสายส่งแล้ว"}


@pytest.fixture
async def stack(mongo_url: str) -> AsyncIterator[NotifyStack]:
    async with notify_stack(mongo_url) as running:
        yield running


def contact(channel: str, customer: Identity, **meta: str) -> Contact:
    contact_id = new_id()
    return Contact.model_validate(
        {
            "id": contact_id,
            "channel": channel,
            "org": "pea",
            "received_at": datetime.now(UTC),
            "dedupe_key": f"{channel}:{contact_id}",
            "text": "มิเตอร์หมุนเร็วผิดปกติ",
            "customer": customer,
            "meta": meta,
            "raw_ref": f"raw-{contact_id}",
        }
    )


async def test_caller_with_a_mobile_gets_an_sms_with_the_survey_link(stack: NotifyStack) -> None:
    screened = await stack.screen(contact("phone", Identity(name="มาลี", phone="081-245-7730")))
    event = case_event(screened, "case.resolved", number="VOC-2026-000901", detail=RESOLVED)
    doc = await stack.delivery(await stack.publish(event))

    assert (doc["status"], doc["channel"]) == ("sent", "sms")
    path, body, headers = stack.sms.calls[0]
    assert path == "/send"
    assert body["to"] == "+66812457730"
    assert "VOC-2026-000901" in body["text"]
    assert "http://notify.test/survey/" in body["text"]
    assert headers["authorization"] == "Basic " + base64.b64encode(b"pea:sms-secret").decode()


async def test_walk_in_without_a_mobile_becomes_a_call_back_task(stack: NotifyStack) -> None:
    landline = "053491228"
    screened = await stack.screen(contact("walk_in", Identity(name="ประสิทธิ์", phone=landline)))
    event = await stack.publish(case_event(screened, "case.resolved", detail=RESOLVED))
    doc = await stack.delivery(event)

    assert (doc["status"], doc["channel"]) == ("callback_task", "callback")
    (envelope,) = await stack.wait_published("notification.callback_requested")
    task = envelope.message()
    assert isinstance(task, CallbackRequested)
    assert task.case_id == f"case-{screened.contact_id}"
    assert "ปรับปรุงสายส่งแล้ว" in task.text
    assert landline not in stack.bus_text()
    assert "ประสิทธิ์" not in stack.bus_text()
    assert stack.sms.calls == []


async def test_app_resolution_is_pushed_by_fcm_with_the_survey_link_in_its_data(
    stack: NotifyStack,
) -> None:
    customer = Identity(app_user_id=f"u-{new_id()}", phone="0812457730")
    screened = await stack.screen(contact("app", customer, reply_device_token="fcm-token-1"))
    event = await stack.publish(case_event(screened, "case.resolved", detail=RESOLVED))
    doc = await stack.delivery(event)

    assert (doc["status"], doc["channel"]) == ("sent", "app")
    path, body, headers = stack.fcm.calls[0]
    assert path == "/v1/projects/pea-app/messages:send"
    assert headers["authorization"] == "Bearer ya29.test"
    message = body["message"]
    assert message["token"] == "fcm-token-1"
    assert message["data"]["survey_url"].startswith("http://notify.test/survey/")
    assert message["data"]["kind"] == "resolved"


async def test_app_customer_without_a_device_token_is_texted_instead(stack: NotifyStack) -> None:
    customer = Identity(app_user_id=f"u-{new_id()}", phone="0812457730")
    screened = await stack.screen(contact("app", customer))
    doc = await stack.delivery(await stack.publish(case_event(screened, "case.opened")))

    assert (doc["status"], doc["channel"]) == ("sent", "sms")
    assert stack.fcm.calls == []
