"""Accept one inbound mail, from SMTP or IMAP, and say what to answer.

The size is checked on the raw bytes before anything is parsed. A mail from
a configured fax gateway with a TIFF or PDF takes the OCR path. The contact
goes through ``accept_once`` (claim the Message-ID, archive the raw mail,
publish with confirms); the attachments are stored only after the publish is
confirmed, so a refused mail leaves nothing behind, and a retry after a crash
in between stores them then.

The outcome is an SMTP reply: the listener sends it as is, the IMAP poller
reads its class (2xx done, 4xx try again later, 5xx refused for good).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from pymongo.errors import PyMongoError

from services.intake.accept import accept_once
from services.intake.channels.fax.ocr import OcrResult, ocr_document
from services.intake.channels.mail.contact import (
    FaxReading,
    build_contact,
    dedupe_key,
    malformed_reason,
    org_of,
)
from services.intake.channels.mail.parse import (
    MailAttachment,
    ParsedMail,
    check_size,
    fax_gateway_attachment,
    parse_mail,
)
from services.intake.settings import IntakeSettings
from services.intake.store import sha256_hex, store_attachment
from shared.errors import (
    BusError,
    ConfigError,
    Conflict,
    Invalid,
    PayloadTooLarge,
    StoreUnavailable,
)
from shared.ids import new_id
from shared.messages import Attachment
from shared.runtime import Runtime

log = logging.getLogger(__name__)

# The common limit of mail servers; large payloads go to GridFS (intake/blobs.py).
MAX_MAIL_BYTES = 25 * 1024 * 1024

Ocr = Callable[[bytes, str], Awaitable[OcrResult]]


@dataclass(frozen=True)
class MailOutcome:
    """The answer for one mail, as an SMTP reply code and text."""

    code: int
    text: str

    @property
    def reply(self) -> str:
        """Return the SMTP reply line."""
        return f"{self.code} {self.text}"

    @property
    def accepted(self) -> bool:
        """Return True if the mail is a contact on the bus (now or before)."""
        return self.code < 300

    @property
    def temporary(self) -> bool:
        """Return True if the same mail may succeed later."""
        return 400 <= self.code < 500


TOO_LARGE = MailOutcome(552, f"5.3.4 Message size exceeds fixed limit of {MAX_MAIL_BYTES} bytes")
BUS_DOWN = MailOutcome(451, "4.3.0 Message bus unavailable, try again later")
STORE_DOWN = MailOutcome(451, "4.3.0 Storage unavailable, try again later")
IN_PROGRESS = MailOutcome(451, "4.3.0 The same message is being accepted, try again later")
LOCAL_ERROR = MailOutcome(451, "4.3.0 Local error, try again later")


@dataclass(frozen=True)
class MailSource:
    """Where a mail came from: an SMTP transaction or a polled mailbox."""

    kind: Literal["smtp", "imap"]
    return_path: str | None = None  # the SMTP envelope sender; "" is the null sender
    recipients: tuple[str, ...] = ()
    peer: str | None = None
    helo: str | None = None
    mailbox: str | None = None
    uid: str | None = None

    def archive_meta(self) -> dict[str, Any]:
        """Return what the raw archive records about the delivery."""
        meta = {
            "source": self.kind,
            "return_path": self.return_path,
            "recipients": list(self.recipients),
            "peer": self.peer,
            "helo": self.helo,
            "mailbox": self.mailbox,
            "uid": self.uid,
        }
        return {key: value for key, value in meta.items() if value not in (None, [])}


def with_return_path(message: bytes, return_path: str | None) -> bytes:
    """Prepend ``Return-Path`` from the envelope sender, as the delivering MTA does."""
    if return_path is None:
        return message
    address = "".join(c for c in return_path if c not in "<>\r\n")
    return f"Return-Path: <{address}>\r\n".encode() + message


class MailIntake:
    """Turn raw mail into accepted email contacts."""

    def __init__(
        self, runtime: Runtime, settings: IntakeSettings, *, ocr: Ocr = ocr_document
    ) -> None:
        self._runtime = runtime
        self._settings = settings
        self._routes = settings.org_routes()
        self._ocr = ocr

    async def accept(self, message: bytes, source: MailSource) -> MailOutcome:
        """Accept ``message`` once per Message-ID; return the reply to give its sender."""
        try:
            check_size(len(message), MAX_MAIL_BYTES)
        except PayloadTooLarge:
            return TOO_LARGE
        raw = with_return_path(message, source.return_path)
        try:
            # Parsing a large mail takes a while; other channels share this loop.
            parsed = await asyncio.to_thread(parse_mail, raw, limit=len(raw))
        except Exception as exc:
            # Python's email package still raises on some malformed headers;
            # the sender's server returns the refusal to the sender.
            log.warning("mail could not be parsed: %s", type(exc).__name__)
            return MailOutcome(554, "5.6.0 Message could not be parsed as RFC 5322 mail")
        reason = malformed_reason(parsed)
        if reason is not None:
            return MailOutcome(554, f"5.6.0 Malformed message: {reason}")
        try:
            return await self._accept(parsed, raw, sha256_hex(message), source)
        except BusError:
            return BUS_DOWN
        except Conflict:
            return IN_PROGRESS
        except (PyMongoError, StoreUnavailable, TimeoutError):
            log.warning("mail store failed", extra={"source": source.kind})
            return STORE_DOWN

    async def _accept(
        self, parsed: ParsedMail, raw: bytes, digest: str, source: MailSource
    ) -> MailOutcome:
        runtime = self._runtime
        fax, pages = await self._read_fax(parsed, source)
        files = parsed.attachments + pages
        contact_id, now = new_id(), runtime.clock.now()
        key = dedupe_key(parsed, digest)
        contact = build_contact(
            parsed,
            contact_id=contact_id,
            org=org_of(
                (*source.recipients, *parsed.to, *parsed.cc), self._routes, runtime.settings.org
            ),
            received_at=now,
            key=key,
            source=source.kind,
            attachments=tuple(
                Attachment(
                    name=f.name,
                    content_type=f.content_type,
                    size=f.size,
                    sha256=f.sha256,
                    ref=f.sha256,
                )
                for f in files
            ),
            fax=fax,
        )
        accepted_id = await accept_once(
            runtime,
            key=key,
            # The Message-ID alone identifies the mail: a copy relayed another
            # way differs in its trace headers but is the same message.
            body_hash=sha256_hex(key.encode()),
            contact=contact,
            raw=raw,
            content_type="message/rfc822",
            raw_meta=source.archive_meta(),
        )
        for file in files:
            await store_attachment(
                runtime.store, data=file.data, content_type=file.content_type, at=now
            )
        if accepted_id != contact_id:
            return MailOutcome(250, f"2.0.0 Already accepted as {accepted_id}")
        kind = contact.meta["mail_kind"]
        log.info(
            "mail accepted", extra={"contact_id": contact_id, "source": source.kind, "kind": kind}
        )
        return MailOutcome(250, f"2.0.0 Accepted as {contact_id}")

    async def _read_fax(
        self, parsed: ParsedMail, source: MailSource
    ) -> tuple[FaxReading | None, tuple[MailAttachment, ...]]:
        hosts = self._settings.fax_gateway_hosts
        if source.kind == "smtp" and hosts and source.peer not in hosts:
            return None, ()  # From claims a gateway, but the mail did not come from one
        page_file = fax_gateway_attachment(parsed, self._settings.fax_gateway_addresses)
        if page_file is None:
            return None, ()
        try:
            result = await self._ocr(page_file.data, page_file.content_type)
        except (Invalid, PayloadTooLarge, ConfigError) as exc:
            # The fax is still a contact: a person reads the attached file.
            log.warning("fax OCR failed: %s", exc)
            unread = FaxReading(text="", confidence=None, pages=0, low_confidence=True, failed=True)
            return unread, ()
        images = tuple(
            MailAttachment(
                name=f"fax-page-{number}.png",
                content_type="image/png",
                data=page.png,
                sha256=sha256_hex(page.png),
                size=len(page.png),
            )
            for number, page in enumerate(result.pages, 1)
        )
        reading = FaxReading(
            text=result.text,
            confidence=result.confidence,
            pages=len(result.pages),
            low_confidence=result.low_confidence,
        )
        return reading, images
