"""Who sent a mail, and when, through the real SMTP listener and the real store.

Encoded display names (RFC 2047) with list, group and address characters
inside the encoded word, address groups (RFC 5322 section 3.4), and Date
headers no clock could have written.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from shared.bus.inproc import InProcessBus
from shared.clock import SystemClock
from shared.messages import Contact
from shared.store import Store
from tests.support.mail import Smtp, deliver, listening

pytestmark = pytest.mark.integration


@pytest.fixture
async def smtp(store: Store) -> AsyncIterator[Smtp]:
    async with listening(store, InProcessBus()) as channel:
        yield channel


def b_word(text: str) -> str:
    """Return ``text`` as one base64 encoded word."""
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def q_word(text: str) -> str:
    """Return ``text`` Q-encoded with ``,`` ``:`` ``;`` ``@`` left raw, as some mailers do."""

    def encode(c: str) -> str:
        if c == " ":
            return "_"
        if c.isascii() and (c.isalnum() or c in ",:;@."):
            return c
        return "".join(f"={b:02X}" for b in c.encode())

    raw = "".join(map(encode, text))
    return f"=?utf-8?q?{raw}?="


def mail(sender: str, *, date: str = "Wed, 18 Nov 2026 09:00:00 +0700", tag: str) -> bytes:
    return (
        f"From: {sender}\r\n"
        "To: contact1129@pea-demo.example\r\n"
        f"Subject: ไฟดับ {tag}\r\n"
        f"Date: {date}\r\n"
        f"Message-ID: <{tag}@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "ไฟดับทั้งซอยตั้งแต่เช้า\r\n"
    ).encode()


async def received(smtp: Smtp, raw: bytes) -> Contact:
    code, text = await deliver(smtp.port, raw)
    assert code == 250, text
    (contact,) = smtp.contacts()
    return contact


async def test_an_address_inside_an_encoded_display_name_is_not_taken_for_the_sender(
    smtp: Smtp,
) -> None:
    sender = f"{q_word('care@pea-demo.example')} <somchai@example.com>"
    contact = await received(smtp, mail(sender, tag="name-with-at"))
    assert contact.customer.email == "somchai@example.com"
    assert contact.customer.name == "care@pea-demo.example"


async def test_a_group_member_with_an_encoded_name_holding_a_comma_is_the_sender(
    smtp: Smtp,
) -> None:
    members = f"{q_word('สมชาย, ใจดี')} <somchai@example.com>, {b_word('วนิดา')} <w@example.com>"
    sender = f"{b_word('ทีมร้องเรียน')}: {members};"
    contact = await received(smtp, mail(sender, tag="group"))
    assert contact.customer.email == "somchai@example.com"
    assert contact.customer.name == "สมชาย, ใจดี"


async def test_a_group_of_one_with_a_colon_and_semicolon_in_the_encoded_name(smtp: Smtp) -> None:
    sender = f"Team: {q_word('ฝ่ายขาย: สาขา 3; ชั้น 2')} <sales@example.com>;"
    contact = await received(smtp, mail(sender, tag="group-specials"))
    assert contact.customer.email == "sales@example.com"
    assert contact.customer.name == "ฝ่ายขาย: สาขา 3; ชั้น 2"


@pytest.mark.parametrize(
    "date",
    [
        "Fri, 31 Dec 9999 23:59:59 -1400",
        "Sat, 1 Jan 1000 00:00:00 +0000",
        "Thu, 1 Jan 1970 00:00:00 +0000",
    ],
)
async def test_a_date_no_clock_wrote_is_dropped_and_the_mail_kept(smtp: Smtp, date: str) -> None:
    contact = await received(smtp, mail("somchai@example.com", date=date, tag="odd-date"))
    assert "sent_at" not in contact.meta
    assert contact.text


async def test_a_date_days_ahead_of_our_clock_is_dropped(smtp: Smtp) -> None:
    ahead = SystemClock().now() + timedelta(days=3)
    date = ahead.strftime("%a, %d %b %Y %H:%M:%S +0000")
    contact = await received(smtp, mail("somchai@example.com", date=date, tag="ahead"))
    assert "sent_at" not in contact.meta
