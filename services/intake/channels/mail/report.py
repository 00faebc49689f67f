"""Tell customer mail from machine mail, and read delivery failure reports.

Answering machine mail makes loops: an acknowledgement to an out-of-office
reply draws another out-of-office reply, an acknowledgement to a bounce
bounces again. So before a mail becomes a contact it is classified:

- ``bounce``: an RFC 3464 delivery-status report, or mail from MAILER-DAEMON;
- ``auto_reply``: RFC 3834 ``Auto-Submitted`` other than ``no``,
  ``X-Auto-Response-Suppress``, ``Precedence: auto_reply``, a null
  ``Return-Path: <>`` (the SMTP layer adds Return-Path from the envelope
  sender, as a delivering MTA does);
- ``bulk``: ``Precedence`` bulk/junk/list, ``List-Id``, ``List-Unsubscribe``;
- ``contact``: everything else.
"""

from __future__ import annotations

import re
from email.message import Message, MIMEPart
from email.parser import HeaderParser
from email.policy import compat32
from typing import Literal

from services.intake.channels.mail.decode import message_ids, repair_8bit
from shared.messages.base import Frozen

MailKind = Literal["contact", "auto_reply", "bounce", "bulk"]

_DSN_TYPES = frozenset({"message/delivery-status"})
_ORIGINAL_TYPES = frozenset({"text/rfc822-headers", "message/rfc822"})
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_DAEMONS = frozenset({"mailer-daemon", "postmaster"})


class Bounce(Frozen):
    """What a delivery-status report says about one message we sent."""

    recipient: str | None = None
    status: str | None = None  # enhanced status code, e.g. "5.1.1"
    action: str | None = None  # "failed", "delayed", …
    diagnostic: str | None = None
    original_message_id: str | None = None

    @property
    def permanent(self) -> bool:
        """Return True if the address will not work on a retry (a 5.x.x status)."""
        return bool(self.status and self.status.startswith("5"))


def _header(msg: Message, name: str) -> str:
    # The raw value: policy.default's header registry raises on some malformed
    # address headers (an AttributeError or IndexError inside CPython's parser).
    wanted = name.lower()
    value = next((v for k, v in msg.raw_items() if k.lower() == wanted), "")
    # Raw 8-bit bytes arrive as surrogate escapes, which no JSON or BSON encoder takes.
    return " ".join(repair_8bit(str(value)).split())


def _first_token(value: str) -> str:
    # Auto-Submitted allows parameters and comments after the keyword.
    return re.split(r"[;(\s]", value.strip(), maxsplit=1)[0].lower()


def _report_part(msg: MIMEPart, types: frozenset[str]) -> MIMEPart | None:
    # Only a top-level report counts: a customer may forward a bounce as evidence.
    if msg.get_content_type() != "multipart/report":
        return None
    return next((p for p in msg.iter_parts() if p.get_content_type() in types), None)


def classify(msg: MIMEPart) -> tuple[MailKind, str]:
    """Return the mail's kind and the header or part that decided it."""
    if _report_part(msg, _DSN_TYPES) is not None:
        return "bounce", "delivery-status report"
    sender = _header(msg, "From").lower()
    if any(f"{daemon}@" in sender for daemon in _DAEMONS):
        return "bounce", "From: " + sender
    auto_submitted = _first_token(_header(msg, "Auto-Submitted"))
    if auto_submitted and auto_submitted != "no":
        return "auto_reply", "Auto-Submitted: " + auto_submitted
    suppress = _header(msg, "X-Auto-Response-Suppress")
    if suppress and suppress.lower() != "none":
        return "auto_reply", "X-Auto-Response-Suppress: " + suppress
    precedence = _first_token(_header(msg, "Precedence"))
    if precedence == "auto_reply":
        return "auto_reply", "Precedence: auto_reply"
    if _header(msg, "Return-Path") == "<>":
        return "auto_reply", "Return-Path: <>"
    if precedence in ("bulk", "junk", "list"):
        return "bulk", "Precedence: " + precedence
    for name in ("List-Id", "List-Unsubscribe"):
        if msg.get(name) is not None:
            return "bulk", name
    return "contact", ""


def _field(block: Message, name: str) -> str | None:
    value = _header(block, name)
    # DSN fields are "type; value", e.g. "rfc822; someone@example.com".
    value = value.split(";", 1)[-1].strip() if ";" in value else value
    return value or None


def _original_message_id(part: Message) -> str | None:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload(0)
        headers: Message = inner if isinstance(inner, Message) else Message()
    else:
        text = part.get_payload(decode=True)
        raw = text.decode("ascii", "replace") if isinstance(text, bytes) else ""
        headers = HeaderParser(policy=compat32).parsestr(raw)
    ids = message_ids(headers.get("Message-ID"))
    return ids[0] if ids else None


def parse_bounce(msg: MIMEPart) -> Bounce | None:
    """Read the first failed recipient of a delivery-status report, if there is one."""
    report = _report_part(msg, _DSN_TYPES)
    if report is None:
        return None
    # Python parses the report into field blocks: per-message first, then per-recipient.
    payload = report.get_payload()
    blocks = [b for b in payload[1:] if isinstance(b, Message)] if isinstance(payload, list) else []
    failed = [b for b in blocks if _header(b, "Action").lower() == "failed"]
    block = (failed or blocks or [Message()])[0]
    diagnostic = _field(block, "Diagnostic-Code")
    status = _STATUS.search(_header(block, "Status") or diagnostic or "")
    recipient = _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
    original = _report_part(msg, _ORIGINAL_TYPES)
    return Bounce(
        recipient=recipient.strip("<>") if recipient else None,
        status=status.group(1) if status else None,
        action=_header(block, "Action").lower() or None,
        diagnostic=diagnostic,
        original_message_id=_original_message_id(original) if original is not None else None,
    )
