"""Mail intake under test: sample mails, a listener on the real store, what reached the bus."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from pathlib import Path

import aiosmtplib

from services.intake.channels.mail.accept import MailIntake, Ocr
from services.intake.channels.mail.channel import MailListener
from services.intake.settings import IntakeSettings
from shared.bus.base import Bus
from shared.bus.inproc import InProcessBus
from shared.embedded import free_port
from shared.messages import Contact, ContactReceived, Envelope
from shared.runtime import Runtime
from shared.settings import Settings
from shared.store import Store

EMAIL_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "channels" / "email"
FAX_DIR = EMAIL_DIR.parent / "fax"
GATEWAY = "fax@gateway.pea-demo.example"


def sample(name: str) -> bytes:
    """Return a sample mail's bytes exactly as stored."""
    return (EMAIL_DIR / name).read_bytes()


def runtime_on(store: Store, bus: Bus) -> Runtime:
    """Return an intake runtime on ``store`` and ``bus`` (closing it is the test's job)."""
    return Runtime(service="intake", settings=Settings(), bus=bus, store=store, owns_bus=False)


def published(bus: Bus) -> list[Contact]:
    """Return the contacts waiting in privacy's queue of an in-process bus, in order."""
    assert isinstance(bus, InProcessBus)
    queue = bus._queues["privacy.contacts"].pending
    contacts = []
    for body, _ in list(queue._queue):  # type: ignore[attr-defined]
        message = Envelope.from_json(body).message()
        assert isinstance(message, ContactReceived)
        contacts.append(message.contact)
    return contacts


async def deliver(
    port: int,
    raw: bytes,
    *,
    sender: str = "customer@example.com",
    recipients: tuple[str, ...] = ("contact1129@pea-demo.example",),
    declare_size: bool = True,
) -> tuple[int, str]:
    """Send ``raw`` with a real SMTP client; return the reply code and text to DATA.

    ``declare_size=False`` sends MAIL FROM without ``SIZE=``, as a client that
    ignores the EHLO limit would, so the listener must count during DATA.
    """
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60) as client:
        try:
            if declare_size:
                _, message = await client.sendmail(sender, list(recipients), raw)
                return 250, message
            await client.mail(sender)
            for recipient in recipients:
                await client.rcpt(recipient)
            answer = await client.data(raw)
        except aiosmtplib.SMTPResponseException as refused:
            return refused.code, refused.message
        return answer.code, answer.message


def build_eml(attachment_mib: float, *, message_id: str = "<oversize-test-1@example.com>") -> bytes:
    """Build a mail with an attachment of the given size, per oversize_note.txt."""
    msg = EmailMessage()
    msg["From"] = Address("ผู้ทดสอบ", addr_spec="tester@example.com")
    msg["To"] = "contact1129@pea-demo.example"
    msg["Subject"] = "ส่งรูปหลักฐานไฟดับ (ไฟล์ใหญ่)"
    msg["Date"] = "Wed, 18 Nov 2026 09:00:00 +0700"
    msg["Message-ID"] = message_id
    msg.set_content("แนบวิดีโอหลักฐานมาด้วยค่ะ", charset="utf-8")
    n = int(attachment_mib * 1024 * 1024)
    payload = (bytes(range(256)) * (n // 256 + 1))[:n]
    msg.add_attachment(payload, maintype="video", subtype="mp4", filename="หลักฐาน.mp4")
    return msg.as_bytes(policy=email.policy.SMTP)


def fax_mail(sender: str, page: bytes, *, message_id: str) -> bytes:
    """Build a fax-to-email mail: a cover line from the gateway and the faxed TIFF."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "contact1129@pea-demo.example"
    msg["Subject"] = "Fax from 053398112 (1 page)"
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("You have received a 1 page fax.")
    msg.add_attachment(page, maintype="image", subtype="tiff", filename="fax-053398112.tif")
    return msg.as_bytes(policy=email.policy.SMTP)


@dataclass
class Smtp:
    """A listening SMTP channel, its bus and its store."""

    port: int
    bus: Bus
    store: Store

    async def send_sample(self, name: str) -> tuple[int, str]:
        """Send a sample as its sender's server would: envelope from its headers."""
        raw = sample(name)
        headers = email.message_from_bytes(raw, policy=compat32)
        null_sender = headers["Return-Path"] == "<>"
        sender = "" if null_sender else parseaddr(str(headers["From"]))[1]
        recipients = tuple(address for _, address in getaddresses(headers.get_all("To", [])))
        return await deliver(self.port, raw, sender=sender, recipients=recipients)

    async def count(self, collection: str) -> int:
        """Return how many documents ``collection`` holds."""
        return await self.store[collection].count_documents({})

    def contacts(self) -> list[Contact]:
        """Return the contacts published so far."""
        return published(self.bus)


@asynccontextmanager
async def listening(
    store: Store, bus: Bus, *, settings: IntakeSettings | None = None, ocr: Ocr | None = None
) -> AsyncIterator[Smtp]:
    """Run the SMTP listener on a free port over ``store`` and ``bus``."""
    runtime = runtime_on(store, bus)
    config = settings or IntakeSettings(fax_gateway_addresses=[GATEWAY])
    intake = MailIntake(runtime, config, ocr=ocr) if ocr else MailIntake(runtime, config)
    listener = MailListener(runtime, intake=intake, port=free_port())
    task = asyncio.create_task(listener.run())
    await asyncio.wait_for(listener.serving.wait(), 5)
    try:
        yield Smtp(listener.port, bus, store)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
