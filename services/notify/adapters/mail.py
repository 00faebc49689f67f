"""Email through SMTP: threaded under the customer's mail, tagged with the case number.

The subject carries ``[VOC-…]`` so a reply that lost its headers still finds
its case, and In-Reply-To/References put our answer in the customer's thread.
The Message-ID is derived from the notification id: a retried send repeats it,
so the receiving side can drop a duplicate and a bounce or auto-reply naming it
leads back to the notification.
"""

from __future__ import annotations

import html
import re
import uuid
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr

import aiosmtplib

from services.notify.adapters.base import (
    DeliveryResult,
    EmailAddress,
    OutboundMessage,
    short_answer,
    wrong_address,
)
from shared.clock import BANGKOK, Clock, SystemClock
from shared.errors import ConfigError

# A link ends before trailing punctuation, as readers expect in running text.
_URL = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)]")
_MESSAGE_ID_NAMESPACE = uuid.UUID("0b7d4c1e-2f3a-5b6c-8d9e-a1b2c3d4e5f6")
# Bodies go base64 and headers as encoded words: Thai survives every relay.
_UTF8 = "utf-8"


def tagged_subject(subject: str | None, case_number: str) -> str:
    """Return ``subject`` with the ``[case number]`` tag in front, once."""
    tag = f"[{case_number}]"
    if not subject:
        return tag
    return subject if tag in subject else f"{tag} {subject}"


def _mailbox(address: Address) -> str:
    return formataddr((address.display_name, address.addr_spec), charset=_UTF8)


def _msg_id(value: str) -> str:
    value = value.strip()
    return value if value.startswith("<") else f"<{value}>"


class EmailAdapter:
    """Send notifications as email through an SMTP relay."""

    def __init__(
        self,
        smtp_host: str,
        smtp_port: int,
        mail_from: str,
        *,
        timeout: float = 30.0,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool | None = None,
        clock: Clock | None = None,
    ) -> None:
        name, addr = parseaddr(mail_from)
        if "@" not in addr:
            raise ConfigError(f"mail_from has no usable address: {mail_from!r}")
        self._host = smtp_host
        self._port = smtp_port
        self._from = Address(display_name=name, addr_spec=addr)
        self._domain = addr.rpartition("@")[2]
        self._timeout = timeout
        self._username = username
        self._password = password
        self._start_tls = start_tls
        self._clock = clock or SystemClock()

    def message_id(self, notification_id: str) -> str:
        """Return the Message-ID every attempt of this notification carries."""
        return f"<{uuid.uuid5(_MESSAGE_ID_NAMESPACE, notification_id)}@{self._domain}>"

    def build(self, notification: OutboundMessage) -> Message:
        """Build the MIME message: UTF-8 plain text with an HTML alternative."""
        address = notification.address
        if not isinstance(address, EmailAddress):
            raise TypeError("EmailAdapter.build needs an email address")
        # Parsed for validation only: a malformed address (or one smuggling a
        # line break) raises here instead of reaching the relay.
        to = Address(display_name=address.display_name or "", addr_spec=address.address)
        # The classic MIME classes with headers encoded up front: folding Thai
        # headers under the modern email policy costs several milliseconds
        # per message, which is most of notify's time per mail.
        message = MIMEMultipart("alternative")
        message["From"] = _mailbox(self._from)
        message["To"] = _mailbox(to)
        subject = tagged_subject(notification.subject, notification.case_number)
        message["Subject"] = Header(subject, "us-ascii" if subject.isascii() else _UTF8).encode()
        message["Date"] = format_datetime(self._clock.now().astimezone(BANGKOK))
        message["Message-ID"] = self.message_id(notification.notification_id)
        if address.in_reply_to:
            parent = _msg_id(address.in_reply_to)
            message["In-Reply-To"] = parent
            ancestors = dict.fromkeys(map(_msg_id, address.references))
            ancestors.pop(parent, None)  # the parent goes last, once
            message["References"] = " ".join([*ancestors, parent])
        # RFC 3834: "auto-replied" answers the customer's own mail; status
        # updates sent later are "auto-generated". Both keep out-of-office
        # responders from answering and so from opening a loop.
        message["Auto-Submitted"] = "auto-replied" if address.in_reply_to else "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        message["Content-Language"] = notification.language
        message.attach(MIMEText(notification.text, "plain", _UTF8))
        page = notification.html or _html_page(notification.text)
        message.attach(MIMEText(page, "html", _UTF8))
        return message

    async def send(self, notification: OutboundMessage) -> DeliveryResult:
        """Hand the mail to the SMTP relay and report its answer."""
        address = notification.address
        if not isinstance(address, EmailAddress):
            return wrong_address(notification, "email")
        try:
            message = self.build(notification)
        except (HeaderParseError, ValueError) as exc:
            answer = short_answer(str(exc))
            return DeliveryResult(status="failed", provider_answer=answer, via="smtp")
        try:
            _, answer = await aiosmtplib.send(
                message,
                sender=self._from.addr_spec,
                recipients=[address.address],
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._start_tls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            code = exc.recipients[0].code if exc.recipients else 550
            return _refused(code, str(exc))
        except aiosmtplib.SMTPResponseException as exc:
            return _refused(exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            # A refused, dropped or timed-out connection (OSError) may pass; an
            # SMTP feature the relay lacks will not.
            return DeliveryResult(
                status="failed",
                retryable=isinstance(exc, OSError),
                provider_answer=short_answer(f"{type(exc).__name__}: {exc}"),
                via="smtp",
            )
        return DeliveryResult(
            status="sent",
            provider_status=250,
            provider_answer=short_answer(answer),
            provider_message_id=str(message["Message-ID"]),
            via="smtp",
        )


def _refused(code: int, text: str) -> DeliveryResult:
    # SMTP says it itself: 4xx is a temporary refusal, 5xx a permanent one.
    return DeliveryResult(
        status="failed",
        retryable=400 <= code < 500,
        provider_status=code,
        provider_answer=short_answer(text),
        via="smtp",
    )


def html_paragraphs(text: str) -> str:
    """Return ``text`` as escaped HTML paragraphs with its web links clickable."""
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        pieces, last = [], 0
        for link in _URL.finditer(block):
            url = html.escape(link.group())
            pieces += [html.escape(block[last : link.start()]), f'<a href="{url}">{url}</a>']
            last = link.end()
        pieces.append(html.escape(block[last:]))
        blocks.append("<p>" + "".join(pieces).replace("\n", "<br>\n") + "</p>")
    return "\n".join(blocks)


def _html_page(text: str) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        f"<body>\n{html_paragraphs(text)}\n</body></html>"
    )
