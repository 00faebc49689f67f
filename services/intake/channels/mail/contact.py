"""Turn a parsed mail into the canonical email ``Contact``: pure, no I/O.

Machine mail keeps its kind as a flag (``auto_reply``, ``bounce``, ``bulk``)
so routing never opens a case for it and notify never answers it. Personal
data goes only into ``customer`` and the text; ``meta`` holds what is safe to
show anyone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.intake.channels.mail.parse import ParsedMail
from shared.instants import MAX_AHEAD
from shared.kinds import OrgId
from shared.messages import Attachment, Contact, Identity, ThreadKeys
from shared.messages.contacts import MetaValue

# Longer than any letter a person writes; a body beyond it (a pasted log, a
# forwarded archive) is cut in the contact and stays whole in the raw archive.
MAX_TEXT_CHARS = 50_000
_SARA_AM = "\u0e33"  # a spacing vowel, yet it belongs to the cluster before it
_THAI = re.compile("[\u0e00-\u0e7f]")
_LATIN = re.compile("[A-Za-z]")


@dataclass(frozen=True)
class FaxReading:
    """What OCR made of a fax-to-email page file."""

    text: str
    confidence: float | None
    pages: int
    low_confidence: bool
    failed: bool = False


def dedupe_key(parsed: ParsedMail, message_sha256: str) -> str:
    """Return the key one mail is accepted once under: its Message-ID, else its digest."""
    if parsed.message_id:
        return f"email:{parsed.message_id}"
    return f"email:sha256:{message_sha256}"


def org_of(addresses: Iterable[str], routes: dict[str, OrgId], default: OrgId) -> OrgId:
    """Return the organisation of the first recipient an address or domain route matches."""
    for address in addresses:
        address = address.strip().lower()
        domain = address.rpartition("@")[2]
        for key in (address, domain):
            if key in routes:
                return routes[key]
    return default


def malformed_reason(parsed: ParsedMail) -> str | None:
    """Return why a mail cannot become a contact, or None if it can."""
    if parsed.from_address is None:
        return "message has no valid From address (RFC 5322 section 3.6.2)"
    if not (parsed.text.strip() or parsed.subject.strip() or parsed.attachments):
        return "message has no subject, text or attachment"
    return None


def language_of(text: str) -> str:
    """Return "en" for text with Latin letters and no Thai, else "th"."""
    return "en" if _LATIN.search(text) and not _THAI.search(text) else "th"


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    """Return ``text`` cut to at most ``limit`` code points, never inside a Thai cluster."""
    if len(text) <= limit:
        return text, False
    cut = limit
    # Thai vowels above and below, tone marks and ำ extend the consonant before them.
    while cut > 0 and (unicodedata.category(text[cut]).startswith("M") or text[cut] == _SARA_AM):
        cut -= 1
    return text[:cut], True


def _customer(parsed: ParsedMail, fax: FaxReading | None) -> Identity:
    if fax is not None:
        return Identity()  # the From address is the gateway's, not the sender's
    if parsed.kind == "bounce":
        # The customer is the address our mail failed to reach, not the mailer daemon.
        recipient = parsed.bounce.recipient if parsed.bounce else None
        return Identity(email=recipient)
    return Identity(email=parsed.from_address, name=parsed.from_name)


def _flags(parsed: ParsedMail, fax: FaxReading | None) -> tuple[str, ...]:
    if fax is None:
        return () if parsed.kind == "contact" else (parsed.kind,)
    flags = ["fax"]
    if fax.failed:
        flags.append("ocr_failed")
    elif fax.low_confidence:
        flags.append("ocr_low_confidence")
    return tuple(flags)


def _meta(
    parsed: ParsedMail, fax: FaxReading | None, source: str, received_at: datetime
) -> dict[str, MetaValue]:
    # A Date header is the sender's claim; one far ahead of our clock is dropped,
    # not refused: the mail itself is still the customer's.
    sent_at = parsed.date if parsed.date and parsed.date <= received_at + MAX_AHEAD else None
    meta: dict[str, MetaValue] = {
        "source": source,
        "mail_kind": "fax" if fax else parsed.kind,
        "mail_kind_reason": parsed.kind_reason or None,
        "sent_at": sent_at.isoformat() if sent_at else None,
        "has_quoted_history": bool(parsed.quoted),
        "attachment_count": len(parsed.attachments),
    }
    bounce = parsed.bounce
    if bounce is not None:
        # The diagnostic usually repeats the address, so it stays in the raw archive.
        meta |= {
            "bounce_status": bounce.status,
            "bounce_action": bounce.action,
            "bounce_permanent": bounce.permanent,
            "bounce_original_message_id": bounce.original_message_id,
        }
    if fax is not None:
        meta |= {"ocr_confidence": fax.confidence, "ocr_pages": fax.pages}
    return {key: value for key, value in meta.items() if value is not None}


def build_contact(
    parsed: ParsedMail,
    *,
    contact_id: str,
    org: OrgId,
    received_at: datetime,
    key: str,
    source: str,
    attachments: tuple[Attachment, ...],
    fax: FaxReading | None = None,
) -> Contact:
    """Normalise a parsed mail into the canonical contact."""
    text, clipped = clip(fax.text if fax is not None and fax.text else parsed.text)
    return Contact(
        id=contact_id,
        channel="email",
        org=org,
        received_at=received_at,
        dedupe_key=key,
        text=text,
        subject=parsed.subject or None,
        language="en" if language_of(f"{parsed.subject}\n{text}") == "en" else "th",
        customer=_customer(parsed, fax),
        consent="unknown",
        attachments=attachments,
        thread=ThreadKeys(
            message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to,
            references=parsed.references,
            case_number=parsed.case_tag,
        ),
        flags=_flags(parsed, fax),
        meta=_meta(parsed, fax, source, received_at) | ({"text_clipped": True} if clipped else {}),
        raw_ref=f"raw-{contact_id}",
    )
