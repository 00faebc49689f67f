"""Email notifications through the real privacy app to a real SMTP server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage

import pytest

from services.notify.adapters import EmailAdapter, notification_id_for
from services.notify.messages import NotificationFailed
from shared.ids import new_id
from shared.messages import Contact, Identity, ThreadKeys
from tests.support.notify_fakes import MailSink
from tests.support.notify_stack import MAIL_FROM, NotifyStack, case_event, notify_stack

pytestmark = pytest.mark.integration

NAME = "สมชาย ใจดี"


@pytest.fixture
async def stack(mongo_url: str) -> AsyncIterator[NotifyStack]:
    async with notify_stack(mongo_url) as running:
        yield running


def email_contact(mailbox: str, *, message_id: str | None = None) -> Contact:
    contact_id = new_id()
    return Contact(
        id=contact_id,
        channel="email",
        org="pea",
        received_at=datetime.now(UTC),
        dedupe_key=f"email:{contact_id}",
        text="ไฟดับทั้งซอยตั้งแต่เมื่อคืน",
        subject="ไฟดับ",
        customer=Identity(name=NAME, email=mailbox),
        thread=ThreadKeys(
            message_id=message_id or f"<{contact_id}@mail.example>",
            references=("<root-0@mail.example>",),
        ),
        raw_ref=f"raw-{contact_id}",
    )


def parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def subject_of(raw: bytes) -> str:
    return str(
        make_header(decode_header(message_from_bytes(raw, policy=policy.compat32)["Subject"]))
    )


def text_of(message: EmailMessage) -> str:
    plain = message.get_body(("plain",))
    assert plain is not None
    return str(plain.get_content())


async def test_acknowledgement_mail_is_thai_threaded_and_tagged(stack: NotifyStack) -> None:
    mailbox = f"somchai.{new_id().lower()}@mail.example"
    original = f"<{new_id()}@mail.example>"
    screened = await stack.screen(email_contact(mailbox, message_id=original))
    event = await stack.publish(case_event(screened, "case.opened", number="VOC-2026-000321"))

    doc = await stack.delivery(event)

    assert doc["status"] == "sent", doc
    received = parsed(stack.mail.raw[-1])
    assert received["To"].addresses[0].addr_spec == mailbox
    assert subject_of(stack.mail.raw[-1]) == "[VOC-2026-000321] ได้รับเรื่องของท่านแล้ว"
    assert received["In-Reply-To"] == original
    assert received["References"] == f"<root-0@mail.example> {original}"
    ours = EmailAdapter("127.0.0.1", 25, MAIL_FROM).message_id(
        notification_id_for(event.id, "email")
    )
    assert received["Message-ID"] == ours == doc["provider_message_id"]
    assert received["Auto-Submitted"] == "auto-replied"
    body = text_of(received)
    assert "VOC-2026-000321" in body
    assert f"เรียน {NAME}" in body
    assert "1129" in body  # the organisation's hotline from its config


async def test_resolution_mail_carries_the_summary_and_a_survey_link(stack: NotifyStack) -> None:
    screened = await stack.screen(email_contact(f"s.{new_id().lower()}@mail.example"))
    event = await stack.publish(
        case_event(
            screened,
            "case.resolved",
            status="resolved",
            detail={"summary": "เปลี่ยนหม้อแปลงแล้ว ไฟฟ้าใช้งานได้ตามปกติ"},
        )
    )

    assert (await stack.delivery(event))["status"] == "sent"
    body = text_of(parsed(stack.mail.raw[-1]))
    assert "เปลี่ยนหม้อแปลงแล้ว" in body
    assert "http://notify.test/survey/" in body


async def test_refused_mailbox_is_reported_without_the_address(
    mongo_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mailbox = f"gone.{new_id().lower()}@mail.example"
    refusal = MailSink(rcpt_answer=f"550 5.1.1 <{mailbox}>: Recipient address rejected")
    async with notify_stack(mongo_url, mail=refusal) as stack:
        screened = await stack.screen(email_contact(mailbox))
        event = await stack.publish(case_event(screened, "case.opened"))
        doc = await stack.delivery(event)
        (failed,) = await stack.wait_published("notification.failed")

    assert doc["status"] == "failed"
    assert len(doc["attempts"]) == 1  # 5xx from SMTP is final
    assert mailbox not in str(doc)
    report = failed.message()
    assert isinstance(report, NotificationFailed)
    assert (report.case_id, report.channel, report.provider_status) == (
        f"case-{screened.contact_id}",
        "email",
        550,
    )
    # The test's own SMTP server ("mail.log") logs the conversation; it is the provider.
    ours = "\n".join(
        r.getMessage() + str(r.__dict__) for r in caplog.records if r.name != "mail.log"
    )
    for secret in (mailbox, NAME):
        assert secret not in stack.bus_text()
        assert secret not in ours
