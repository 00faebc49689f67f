"""The satisfaction survey page: signed links from real notifications, ratings to routing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from services.notify.survey import SurveySigner
from shared.assertions import HEADER, verify
from shared.clock import FrozenClock
from shared.ids import new_id
from shared.messages import Contact, Identity, ThreadKeys
from tests.support.notify_stack import (
    SECRET_KEY,
    SERVICE_TOKEN,
    NotifyStack,
    case_event,
    notify_stack,
)

pytestmark = pytest.mark.integration

LINK = re.compile(r"http://notify\.test(/survey/\S+)")


@pytest.fixture
async def stack(mongo_url: str) -> AsyncIterator[NotifyStack]:
    async with notify_stack(mongo_url) as running:
        yield running


async def survey_path(stack: NotifyStack, *, language: str = "th") -> tuple[str, str]:
    """Resolve an email customer's case and return (survey path, case id) from the mail."""
    contact_id = new_id()
    contact = Contact.model_validate(
        {
            "id": contact_id,
            "channel": "email",
            "org": "pea",
            "received_at": datetime.now(UTC),
            "dedupe_key": f"email:{contact_id}",
            "text": "ค่าไฟแพงผิดปกติ",
            "language": language,
            "customer": Identity(email=f"c.{contact_id.lower()}@mail.example"),
            "thread": ThreadKeys(message_id=f"<{contact_id}@mail.example>"),
            "raw_ref": f"raw-{contact_id}",
        }
    )
    screened = await stack.screen(contact)
    event = case_event(
        screened, "case.resolved", number="VOC-2026-000432", detail={"summary": "ok"}
    )
    assert (await stack.delivery(await stack.publish(event)))["status"] == "sent"
    mail = message_from_bytes(stack.mail.raw[-1], policy=policy.default)
    assert isinstance(mail, EmailMessage)
    plain = mail.get_body(("plain",))
    assert plain is not None
    match = LINK.search(str(plain.get_content()))
    assert match is not None
    return match.group(1), event.case.id


async def test_link_from_the_mail_shows_the_form_and_records_the_rating(stack: NotifyStack) -> None:
    path, case_id = await survey_path(stack)
    async with stack.notify_client() as client:
        page = await client.get(path)
        answer = await client.post(path, data={"score": "4", "comment": " ช่างมาเร็ว ขอบคุณครับ "})
        again = await client.post(path, data={"score": "1"})

    assert page.status_code == 200
    assert "กรุณาให้คะแนนความพึงพอใจ" in page.text
    assert "VOC-2026-000432" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert answer.status_code == 200
    assert "ขอบคุณ" in answer.text
    (call,) = stack.routing.calls
    route, body, headers = call
    assert route == f"/internal/v1/cases/{case_id}/satisfaction"
    assert body == {"score": 4, "comment": "ช่างมาเร็ว ขอบคุณครับ", "channel": "email"}
    assert headers["x-service-token"] == SERVICE_TOKEN
    acting = verify(
        headers[HEADER.lower()],
        audience="routing",
        key=stack.settings.acting_key.get_secret_value(),
    )
    assert (acting.user, acting.role) == ("notify", "notify")
    assert again.status_code == 409  # one answer per link


async def test_english_customer_gets_the_english_page(stack: NotifyStack) -> None:
    path, _ = await survey_path(stack, language="en")
    async with stack.notify_client() as client:
        page = await client.get(path)
    assert page.status_code == 200
    assert "Please rate our service" in page.text


async def test_tampered_or_expired_links_are_refused_and_record_nothing(stack: NotifyStack) -> None:
    path, case_id = await survey_path(stack)
    token = path.rsplit("/", 1)[1]
    other_case = token.replace(case_id, new_id(), 1)
    past = FrozenClock(datetime.now(UTC) - timedelta(days=30))
    expired = SurveySigner(SECRET_KEY, ttl=timedelta(days=14), clock=past).issue(
        case_id=case_id, case_number="VOC-2026-000432", channel="email", language="th"
    )
    async with stack.notify_client() as client:
        answers = {
            "tampered": await client.post(f"/survey/{other_case}", data={"score": "5"}),
            "garbage": await client.get("/survey/not-a-token"),
            "expired": await client.post(f"/survey/{expired}", data={"score": "5"}),
            "expired page": await client.get(f"/survey/{expired}"),
        }

    assert {name: a.status_code for name, a in answers.items()} == {
        "tampered": 403,
        "garbage": 403,
        "expired": 410,
        "expired page": 410,
    }
    assert "หมดอายุ" in answers["expired page"].text
    assert stack.routing.calls == []


async def test_rating_waits_when_routing_is_down_and_goes_through_on_retry(
    stack: NotifyStack,
) -> None:
    path, _ = await survey_path(stack)
    stack.routing.script = [503]
    async with stack.notify_client() as client:
        down = await client.post(path, data={"score": "2", "comment": "ยังไม่ดีขึ้น"})
        missing = await client.post(path, data={"comment": "no score"})
        retried = await client.post(path, data={"score": "2", "comment": "ยังไม่ดีขึ้น"})

    assert (down.status_code, missing.status_code, retried.status_code) == (503, 422, 200)
    assert [body["score"] for _, body, _ in stack.routing.calls] == [2, 2]
