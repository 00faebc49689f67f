"""Parse raw RFC 5322 mail into what intake builds an email ``Contact`` from.

Pure code: no network, no store. The SMTP layer refuses an oversize message
with ``check_size`` before reading it into the parser (and answers 552),
prepends ``Return-Path`` from the envelope sender as a delivering MTA does,
then calls ``parse_mail``. The result says which ``kind`` of mail it is, so
the caller opens or threads a case only for ``contact`` and never answers
machine mail.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from email.header import Header
from email.message import Message, MIMEPart
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from services.intake.channels.mail.decode import (
    MAIL_POLICY,
    decode_header_value,
    message_ids,
    nfc,
    register_thai_codecs,
    repair_8bit,
)
from services.intake.channels.mail.html import html_to_text
from services.intake.channels.mail.quote import split_reply
from services.intake.channels.mail.report import Bounce, MailKind, classify, parse_bounce
from shared.errors import PayloadTooLarge
from shared.instants import plausible
from shared.messages.base import Frozen

__all__ = [
    "MAX_MAIL_BYTES",
    "Bounce",
    "MailAttachment",
    "MailKind",
    "ParsedMail",
    "check_size",
    "fax_gateway_attachment",
    "find_case_tag",
    "parse_mail",
    "register_thai_codecs",
]

MAX_MAIL_BYTES = 25 * 1024 * 1024
FAX_TYPES = frozenset({"image/tiff", "application/pdf"})
_FAX_SUFFIXES = (".tif", ".tiff", ".pdf")
_CASE_TAG = re.compile(r"(?<![a-z0-9])VOC-(\d{4})-(\d{6,})(?!\d)", re.IGNORECASE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# RFC 2047: =?charset?encoding?encoded-text?=, the text without "?" or white space.
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_SHIELD_TOKEN = re.compile("\ue000([0-9]+)\ue001")
# Machinery of a delivery report, read by parse_bounce rather than stored.
_NOT_ATTACHMENTS = frozenset({"message/delivery-status", "text/rfc822-headers"})
# Writes an enclosed mail back as it came: 8-bit kept, headers not refolded.
# policy.default would re-encode raw 8-bit header bytes, and raises on some.
_VERBATIM = MAIL_POLICY.clone(cte_type="8bit", refold_source="none")


class MailAttachment(Frozen):
    """A file that came with the mail, under its decoded name, with its digest."""

    name: str
    content_type: str
    data: bytes
    sha256: str
    size: int


class ParsedMail(Frozen):
    """One inbound mail, decoded, NFC, with its quoted history split off."""

    message_id: str | None  # msg-ids keep their angle brackets: "<id@host>"
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_address: str | None
    from_name: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    date: datetime | None
    text: str  # what the sender wrote in this mail
    quoted: str  # the history it quotes, kept for the archive
    attachments: tuple[MailAttachment, ...]
    case_tag: str | None
    kind: MailKind
    kind_reason: str  # the header or part that decided ``kind``
    bounce: Bounce | None  # set when a delivery-status report could be read


def check_size(raw_len: int, limit: int = MAX_MAIL_BYTES) -> None:
    """Refuse a message of ``raw_len`` bytes over ``limit`` (SMTP answers 552 5.3.4)."""
    if raw_len > limit:
        raise PayloadTooLarge(
            f"message is {raw_len} bytes; the limit is {limit} bytes", field="message"
        )


def find_case_tag(subject: str) -> str | None:
    """Return the case number a subject carries, e.g. ``VOC-2026-000123``."""
    match = _CASE_TAG.search(subject)
    return f"VOC-{match.group(1)}-{match.group(2)}" if match else None


def _raw_headers(raw: bytes) -> Message:
    # Raw header values, so RFC 2047 words are decoded by decode_header_value
    # rather than by policy.default, which inserts stray spaces (gh-128110).
    end = _HEADER_END.search(raw)
    return BytesHeaderParser(policy=compat32).parsebytes(raw[: end.end()] if end else raw)


def _shield_encoded_words(value: str) -> tuple[str, list[str]]:
    """Return ``value`` with each RFC 2047 encoded word replaced by a token, and the words.

    Mailers put ``,`` ``:`` ``;`` ``<`` ``@`` raw inside Q-encoded words
    (``=?utf-8?q?Doe,_John?=``), which the address parser would take for
    list, group or address syntax. A token of private-use characters cannot
    come from the wire (raw 8-bit bytes arrive as surrogate escapes) and is an
    atom to the parser.
    """
    words: list[str] = []

    def token(match: re.Match[str]) -> str:
        words.append(match.group(0))
        return f"\ue000{len(words) - 1}\ue001"

    return _ENCODED_WORD.sub(token, value), words


def _unshield(value: str, words: list[str]) -> str:
    def word(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return words[index] if index < len(words) else match.group(0)

    return _SHIELD_TOKEN.sub(word, value)


def _addresses(values: Sequence[str | Header] | None) -> list[tuple[str, str]]:
    # Split addresses before decoding names: a decoded name may hold a comma,
    # and so may an encoded word itself.
    found: list[tuple[str, str]] = []
    for value in values or []:
        unfolded = " ".join(
            (value if isinstance(value, str) else decode_header_value(value)).split()
        )
        shielded, words = _shield_encoded_words(unfolded)
        for name, address in getaddresses([shielded]):
            # An encoded word is never part of an address (RFC 2047 section 5).
            if "@" in address and not _SHIELD_TOKEN.search(address):
                found.append((decode_header_value(_unshield(name, words)), nfc(address.strip())))
    return found


def _date(value: str | Header | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    # "-0000" is UTC with the sender's own zone unknown (RFC 5322 section 3.3).
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        return plausible(parsed)
    except ValueError:  # a sender's clock at year 1 or 9999 dates nothing
        return None


def _text_of(part: MIMEPart) -> str:
    content = part.get_content()
    return content.replace("\r\n", "\n").replace("\r", "\n") if isinstance(content, str) else ""


def _body(msg: MIMEPart) -> tuple[MIMEPart | None, str]:
    """Return the body part and its text: text/plain if it says anything, else HTML."""
    plain = msg.get_body(preferencelist=("plain",))
    plain_text = _text_of(plain) if plain is not None else ""
    if plain_text.strip():
        return plain, plain_text
    html = msg.get_body(preferencelist=("html",))
    if html is not None:
        return html, html_to_text(_text_of(html))
    return plain, ""


def _read_unsplit_multiparts_as_text(part: Message) -> None:
    # A multipart whose boundary never appears keeps its body as one string,
    # and CPython's get_body() then walks that string's characters and raises.
    # Mail clients show such a body as text; so does intake.
    if part.is_multipart():  # split parts, or the mail a message/rfc822 part holds
        for sub in part.get_payload():
            if isinstance(sub, Message):
                _read_unsplit_multiparts_as_text(sub)
    elif part.get_content_maintype() == "multipart":
        del part["Content-Type"]
        part["Content-Type"] = "text/plain"


def _leaves(part: MIMEPart) -> Iterator[MIMEPart]:
    if part.get_content_maintype() == "multipart":
        for sub in part.iter_parts():
            yield from _leaves(sub)
    else:
        yield part


def _is_attachment(part: MIMEPart) -> bool:
    if part.get_content_type() in _NOT_ATTACHMENTS:
        return False
    if part.get_filename() or part.get_content_disposition() == "attachment":
        return True
    # Unnamed inline text is an alternative of the body; anything else is a file.
    return part.get_content_maintype() != "text"


def _part_bytes(part: MIMEPart) -> bytes:
    if part.is_multipart():  # message/rfc822 and kin: keep the enclosed mail as a file
        inner = part.get_payload(0)
        return inner.as_bytes(policy=_VERBATIM) if isinstance(inner, Message) else b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _attachment_name(part: MIMEPart, index: int) -> str:
    name = part.get_filename() or ""
    if "=?" in name:  # RFC 2047 inside a parameter is wrong but common
        name = decode_header_value(name)
    name = nfc(repair_8bit(name)).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) != "Cc").strip()
    if name in ("", ".", ".."):
        extension = mimetypes.guess_extension(part.get_content_type()) or ".bin"
        name = f"attachment-{index}{extension}"
    return name


def _attachments(msg: MIMEPart, body: MIMEPart | None) -> tuple[MailAttachment, ...]:
    found: list[MailAttachment] = []
    for part in _leaves(msg):
        if part is body or not _is_attachment(part):
            continue
        data = _part_bytes(part)
        found.append(
            MailAttachment(
                name=_attachment_name(part, len(found) + 1),
                content_type=part.get_content_type(),
                data=data,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
            )
        )
    return tuple(found)


def parse_mail(raw: bytes, *, limit: int = MAX_MAIL_BYTES) -> ParsedMail:
    """Parse raw RFC 5322 bytes, refusing them first if they are over ``limit``."""
    check_size(len(raw), limit)
    msg = BytesParser(policy=MAIL_POLICY).parsebytes(raw)
    _read_unsplit_multiparts_as_text(msg)
    headers = _raw_headers(raw)
    kind, kind_reason = classify(msg)
    body, body_text = _body(msg)
    text, quoted = split_reply(body_text)
    senders = _addresses(headers.get_all("From"))
    subject = decode_header_value(headers.get("Subject"))
    in_reply_to = message_ids(headers.get("In-Reply-To"))
    own_id = message_ids(headers.get("Message-ID"))
    return ParsedMail(
        message_id=own_id[0] if own_id else None,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=message_ids(headers.get("References")),
        subject=subject,
        from_address=senders[0][1] if senders else None,
        from_name=(senders[0][0] or None) if senders else None,
        to=tuple(address for _, address in _addresses(headers.get_all("To"))),
        cc=tuple(address for _, address in _addresses(headers.get_all("Cc"))),
        reply_to=tuple(address for _, address in _addresses(headers.get_all("Reply-To"))),
        date=_date(headers.get("Date")),
        text=nfc(text),
        quoted=nfc(quoted),
        attachments=_attachments(msg, body),
        case_tag=find_case_tag(subject),
        kind=kind,
        kind_reason=kind_reason,
        bounce=parse_bounce(msg) if kind == "bounce" else None,
    )


def fax_gateway_attachment(
    parsed: ParsedMail, gateway_addresses: Iterable[str]
) -> MailAttachment | None:
    """Return the faxed TIFF or PDF if the mail comes from a fax-to-email gateway.

    Check this before ``kind``: gateways are machines and often mark their
    mail ``Auto-Submitted``. The From address is only a claim; the SMTP layer
    should accept gateway mail only from the gateway's hosts.
    """
    gateways = {address.strip().casefold() for address in gateway_addresses}
    if parsed.from_address is None or parsed.from_address.casefold() not in gateways:
        return None
    return next(
        (
            attachment
            for attachment in parsed.attachments
            if attachment.content_type in FAX_TYPES
            or attachment.name.lower().endswith(_FAX_SUFFIXES)
        ),
        None,
    )
