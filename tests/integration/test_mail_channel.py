"""The SMTP listener over every sample mail, through a real SMTP client and the real store."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import AsyncIterator

import aiosmtplib
import pytest

from services.intake.blobs import get_blob
from services.intake.channels.fax.ocr import OcrResult, PageImage, ocr_unavailable_reason
from services.intake.channels.mail.accept import MAX_MAIL_BYTES
from services.intake.channels.mail.parse import parse_mail
from services.intake.settings import IntakeSettings
from shared.bus.amqp import AmqpBus
from shared.bus.inproc import InProcessBus
from shared.embedded import free_port
from shared.runtime import port_answers
from shared.store import Store
from tests.support.intake import DEAD_BROKER, FlakyBus, running_intake
from tests.support.mail import (
    EMAIL_DIR,
    FAX_DIR,
    GATEWAY,
    Smtp,
    build_eml,
    deliver,
    fax_mail,
    listening,
    sample,
)

pytestmark = pytest.mark.integration

C1_CONTROLS = re.compile("[\u0080-\u009f]")
FLAGS = {
    "auto_reply.eml": ("auto_reply",),
    "bounce_dsn.eml": ("bounce",),
    "spam_like.eml": ("bulk",),
    "html_only.eml": (),
    "reply_thread_1.eml": (),
    "reply_thread_2.eml": (),
    "tis620.eml": (),
    "utf8_plain.eml": (),
    "windows874.eml": (),
    "with_attachments.eml": (),
}


@pytest.fixture
async def smtp(store: Store) -> AsyncIterator[Smtp]:
    async with listening(store, InProcessBus()) as channel:
        yield channel


async def test_every_sample_mail_is_accepted_once(smtp: Smtp) -> None:
    names = sorted(p.name for p in EMAIL_DIR.glob("*.eml"))
    assert names == sorted(FLAGS)
    for name in names:
        code, text = await smtp.send_sample(name)
        assert (code, text[:8]) == (250, "2.0.0 Ac"), name
    contacts = smtp.contacts()
    assert [c.flags for c in contacts] == [FLAGS[name] for name in names]
    for contact in contacts:
        assert contact.channel == "email"
        assert contact.consent == "unknown"
        assert contact.thread.message_id is not None
        raw = await smtp.store["raw"].find_one({"_id": contact.raw_ref})
        assert raw is not None
        assert raw["content_type"] == "message/rfc822"
        assert raw["retention_class"] == "contact"
        assert raw["body"].startswith(b"Return-Path: <")
        assert contact.thread.message_id.encode() in raw["body"]
    assert await smtp.count("raw") == len(names)


async def test_utf8_mail_has_thai_subject_sender_and_text(smtp: Smtp) -> None:
    await smtp.send_sample("utf8_plain.eml")
    (contact,) = smtp.contacts()
    assert contact.subject == "ร้องเรียนไฟตกและไฟกระพริบบ่อย ซอยศรีจันทร์ 5 ต.ในเมือง อ.เมือง จ.ขอนแก่น"
    assert (contact.customer.name, contact.customer.email) == (
        "วนิดา ศรีสุข",
        "wanida.srisuk@example.com",
    )
    assert "วัดแรงดันที่ปลั๊กได้ประมาณ 185-190 โวลต์" in contact.text
    assert contact.org == "pea"
    assert contact.language == "th"
    assert "wanida" not in str(contact.meta)


async def test_tis620_mail_is_decoded_as_thai(smtp: Smtp) -> None:
    await smtp.send_sample("tis620.eml")
    (contact,) = smtp.contacts()
    assert contact.subject == "ขอให้ตรวจสอบค่าไฟเดือนตุลาคม จดหน่วยผิด"
    assert "จดหน่วยเกินจริงไปประมาณ 300 หน่วย" in contact.text
    assert "\ufffd" not in contact.text


async def test_windows874_mail_keeps_its_punctuation_and_goes_to_or(smtp: Smtp) -> None:
    await smtp.send_sample("windows874.eml")
    (contact,) = smtp.contacts()
    assert contact.subject is not None
    for mark in ("“", "”", "…", "–"):
        assert mark in contact.subject + contact.text
    assert not C1_CONTROLS.search(contact.subject + contact.text)
    assert "<p" not in contact.text
    assert contact.org == "or"


async def test_html_only_mail_text_comes_from_the_html(smtp: Smtp) -> None:
    await smtp.send_sample("html_only.eml")
    (contact,) = smtp.contacts()
    assert "เสาไฟฟ้าล้มขวางถนน" in contact.text
    assert "<" not in contact.text
    assert "แจ้งเหตุเสาไฟฟ้าล้ม ต.ท่าพระ" not in contact.text  # the hidden preheader


async def test_attachments_are_stored_by_sha256_under_decoded_thai_names(smtp: Smtp) -> None:
    await smtp.send_sample("with_attachments.eml")
    (contact,) = smtp.contacts()
    by_name = {a.name: a for a in contact.attachments}
    assert set(by_name) == {"bill_2026-10.pdf", "รูปมิเตอร์ชำรุด.jpg"}
    for attachment in contact.attachments:
        assert attachment.ref == attachment.sha256
        stored = await smtp.store["attachments"].find_one({"_id": attachment.sha256})
        assert stored is not None
        assert stored["size"] == attachment.size == len(stored["data"])
        assert stored["content_type"] == attachment.content_type
    jpeg = await smtp.store["attachments"].find_one({"_id": by_name["รูปมิเตอร์ชำรุด.jpg"].sha256})
    assert jpeg is not None
    assert jpeg["data"].startswith(b"\xff\xd8")


async def test_reply_threads_to_the_first_mail_and_keeps_only_the_new_text(smtp: Smtp) -> None:
    await smtp.send_sample("reply_thread_1.eml")
    await smtp.send_sample("reply_thread_2.eml")
    first, second = smtp.contacts()
    assert second.thread.in_reply_to == first.thread.message_id
    assert first.thread.message_id in second.thread.references
    assert "กิ่งต้นไม้ใหญ่ริมถนนพาดสายไฟ" in second.text
    assert "เขียนว่า" not in second.text
    assert "ทำสวนทุเรียน" not in second.text
    raw = await smtp.store["raw"].find_one({"_id": second.raw_ref})
    assert raw is not None
    assert "> ที่บ้านทำสวนทุเรียน" in parse_mail(raw["body"]).quoted  # history stays archived


async def test_auto_reply_is_flagged_and_tagged_with_its_case(smtp: Smtp) -> None:
    await smtp.send_sample("auto_reply.eml")
    (contact,) = smtp.contacts()
    assert contact.flags == ("auto_reply",)
    assert contact.thread.case_number == "VOC-2026-000125"
    assert contact.thread.in_reply_to == "<voc-2026-000125.ack.1@pea-demo.example>"
    assert contact.meta["mail_kind_reason"] == "Auto-Submitted: auto-replied"


async def test_bounce_names_the_failed_address_status_and_original_ack(smtp: Smtp) -> None:
    await smtp.send_sample("bounce_dsn.eml")
    (contact,) = smtp.contacts()
    assert contact.flags == ("bounce",)
    assert contact.customer.email == "somchai.tongdee@example.com"
    assert contact.customer.name is None
    assert contact.meta["bounce_status"] == "5.1.1"
    assert contact.meta["bounce_action"] == "failed"
    assert contact.meta["bounce_original_message_id"] == "<voc-2026-000124.ack.1@pea-demo.example>"
    assert "somchai" not in str(contact.meta)


async def test_bulk_marketing_is_flagged_bulk(smtp: Smtp) -> None:
    await smtp.send_sample("spam_like.eml")
    (contact,) = smtp.contacts()
    assert contact.flags == ("bulk",)


async def test_null_envelope_sender_marks_the_mail_automatic(smtp: Smtp) -> None:
    raw = b"From: robot@example.com\r\nSubject: notice\r\nMessage-ID: <n1@example.com>\r\n\r\nhi"
    code, _ = await deliver(smtp.port, raw, sender="")
    assert code == 250
    (contact,) = smtp.contacts()
    assert contact.flags == ("auto_reply",)
    assert contact.meta["mail_kind_reason"] == "Return-Path: <>"


async def test_same_message_id_again_is_accepted_without_a_second_contact(smtp: Smtp) -> None:
    first = await smtp.send_sample("utf8_plain.eml")
    again = await smtp.send_sample("utf8_plain.eml")
    (contact,) = smtp.contacts()
    assert first == (250, f"2.0.0 Accepted as {contact.id}")
    assert again == (250, f"2.0.0 Already accepted as {contact.id}")
    assert await smtp.count("raw") == 1


async def test_oversize_mail_is_refused_with_552_and_nothing_is_kept(smtp: Smtp) -> None:
    over = build_eml(19)
    assert len(over) == 27_263_917  # the recipe in oversize_note.txt
    declared = await deliver(smtp.port, over)  # SIZE= at MAIL FROM
    streamed = await deliver(smtp.port, over, declare_size=False)  # counted during DATA
    for code, text in (declared, streamed):
        assert code == 552
        assert text.startswith("5.3.4 Message size exceeds fixed limit")
    assert smtp.contacts() == []
    for collection in ("raw", "idempotency", "attachments"):
        assert await smtp.count(collection) == 0


async def test_ehlo_advertises_the_size_limit(smtp: Smtp) -> None:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp.port) as client:
        await client.ehlo()
        assert client.esmtp_extensions["size"] == str(MAX_MAIL_BYTES)


async def test_mail_just_under_the_limit_keeps_its_attachment(smtp: Smtp) -> None:
    under = build_eml(17, message_id="<just-under@example.com>")  # 24,394,129 bytes
    assert MAX_MAIL_BYTES - 2 * 1024 * 1024 < len(under) < MAX_MAIL_BYTES
    assert (await deliver(smtp.port, under))[0] == 250
    (contact,) = smtp.contacts()
    (video,) = contact.attachments
    assert (video.name, video.size) == ("หลักฐาน.mp4", 17 * 1024 * 1024)
    stored = await smtp.store["attachments"].find_one({"_id": video.sha256})
    assert stored is not None
    assert stored["gridfs_id"] is not None  # beyond one document's 16 MiB
    data = await get_blob(smtp.store, stored)
    assert len(data) == video.size
    assert hashlib.sha256(data).hexdigest() == video.sha256
    raw = await smtp.store["raw"].find_one({"_id": contact.raw_ref})
    archived = await get_blob(smtp.store, raw, field="body")
    assert archived.endswith(under.split(b"\r\n", 1)[1])  # as received, after Return-Path


async def test_mail_without_a_from_address_is_refused_with_a_reason(smtp: Smtp) -> None:
    code, text = await deliver(smtp.port, b"Subject: who am I\r\n\r\nhello\r\n")
    assert code == 554
    assert "From" in text
    assert await smtp.count("raw") == 0


async def test_broker_down_answers_451_within_two_seconds_and_keeps_nothing(store: Store) -> None:
    bus = AmqpBus(DEAD_BROKER, publish_timeout=1.0)
    async with listening(store, bus) as smtp:
        started = time.monotonic()
        code, text = await smtp.send_sample("with_attachments.eml")
        assert time.monotonic() - started < 2.0
    assert code == 451
    assert text.startswith("4.3.0")
    for collection in ("raw", "idempotency", "attachments"):
        assert await store[collection].count_documents({}) == 0


async def test_mail_refused_with_451_is_accepted_once_when_retried(store: Store) -> None:
    async with listening(store, FlakyBus(failures=1)) as smtp:
        assert (await smtp.send_sample("with_attachments.eml"))[0] == 451
        assert (await smtp.send_sample("with_attachments.eml"))[0] == 250
        (contact,) = smtp.contacts()
        assert await smtp.count("raw") == 1
        assert await smtp.count("attachments") == len(contact.attachments) == 2


@pytest.mark.skipif(ocr_unavailable_reason() is not None, reason="needs tesseract with Thai")
async def test_fax_to_email_is_read_by_ocr_with_the_pages_attached(smtp: Smtp) -> None:
    page = (FAX_DIR / "letter_g3.tiff").read_bytes()
    raw = fax_mail(f"Fax Gateway <{GATEWAY}>", page, message_id="<fax-1@gateway.example>")
    assert (await deliver(smtp.port, raw, sender=GATEWAY))[0] == 250
    (contact,) = smtp.contacts()
    assert contact.flags == ("fax",)
    assert "1-5099-00123-45-3" in contact.text
    assert "089-765-4321" in contact.text
    assert contact.customer.is_empty()  # the gateway is not the customer
    assert [a.content_type for a in contact.attachments] == ["image/tiff", "image/png"]
    assert float(contact.meta["ocr_confidence"] or 0) >= 80
    for attachment in contact.attachments:
        assert await smtp.store["attachments"].find_one({"_id": attachment.ref}) is not None


async def test_fax_read_with_low_confidence_is_flagged_for_review(store: Store) -> None:
    async def poor_ocr(data: bytes, content_type: str) -> OcrResult:
        page = PageImage(png=b"\x89PNG\r\n\x1a\nfake", width=1, height=1)
        return OcrResult(
            text="ร้องเรียน",
            page_texts=["ร้องเรียน"],
            confidence=41.0,
            low_confidence=True,
            pages=[page],
        )

    async with listening(store, InProcessBus(), ocr=poor_ocr) as smtp:
        raw = fax_mail(GATEWAY, b"II*\x00page", message_id="<fax-2@gateway.example>")
        assert (await deliver(smtp.port, raw, sender=GATEWAY))[0] == 250
        (contact,) = smtp.contacts()
    assert contact.flags == ("fax", "ocr_low_confidence")
    assert contact.text == "ร้องเรียน"


async def test_fax_gateway_address_from_another_host_is_ordinary_mail(store: Store) -> None:
    settings = IntakeSettings(fax_gateway_addresses=[GATEWAY], fax_gateway_hosts=["192.0.2.25"])
    async with listening(store, InProcessBus(), settings=settings) as smtp:
        raw = fax_mail(GATEWAY, b"II*\x00page", message_id="<fax-3@gateway.example>")
        assert (await deliver(smtp.port, raw, sender=GATEWAY))[0] == 250
        (contact,) = smtp.contacts()
    assert "fax" not in contact.flags
    assert contact.flags == ("auto_reply",)  # the gateway marks its mail Auto-Submitted


async def test_intake_app_starts_the_listener_in_its_lifespan(mongo_url: str) -> None:
    port = free_port()
    with running_intake(mongo_url, InProcessBus(), smtp_port=port) as intake:
        for _ in range(50):  # the listener binds in a background task
            if port_answers(port=port):
                break
            await asyncio.sleep(0.1)
        assert (await deliver(port, sample("utf8_plain.eml")))[0] == 250
        (contact,) = intake.published()
        assert contact.channel == "email"
        assert intake.db["raw"].count_documents({"_id": contact.raw_ref}) == 1
