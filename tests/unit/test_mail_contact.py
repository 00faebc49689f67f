"""Mail intake's pure parts: contact rules, settings, IMAP answers."""

from __future__ import annotations

import random
import unicodedata
from datetime import UTC, datetime

import aioimaplib
import pytest

from services.intake.channels.mail.contact import (
    build_contact,
    clip,
    dedupe_key,
    malformed_reason,
    org_of,
)
from services.intake.channels.mail.imap import parse_body, parse_search, parse_sizes
from services.intake.channels.mail.parse import parse_mail
from services.intake.settings import IntakeSettings
from shared.errors import ConfigError
from tests.support.mail import EMAIL_DIR

ROUTES = IntakeSettings(mail_orgs=["contact1365@or-demo.example=or", "pea-demo.example=pea"])


def test_clipped_thai_text_never_ends_inside_a_cluster() -> None:
    text = "น้ำ" * 10
    for limit in range(1, len(text)):
        cut, clipped = clip(text, limit)
        assert clipped
        assert len(cut) <= limit
        assert not unicodedata.category(text[len(cut)]).startswith("M")
        assert text[len(cut)] != "\u0e33"
    assert clip("ไฟดับ", 100) == ("ไฟดับ", False)


@pytest.mark.parametrize(
    ("addresses", "org"),
    [
        (["contact1365@or-demo.example"], "or"),
        (["CONTACT1365@OR-DEMO.EXAMPLE"], "or"),
        (["anyone@pea-demo.example"], "pea"),
        (["x@elsewhere.example", "contact1365@or-demo.example"], "or"),
        (["x@elsewhere.example"], "pea"),
    ],
)
def test_recipient_decides_the_organisation(addresses: list[str], org: str) -> None:
    assert org_of(addresses, ROUTES.org_routes(), "pea") == org


def test_mail_orgs_entry_without_an_organisation_is_refused() -> None:
    with pytest.raises(ConfigError):
        IntakeSettings(mail_orgs=["contact@example.com=pwa"])


def test_imap_host_without_credentials_is_refused() -> None:
    with pytest.raises(ConfigError):
        IntakeSettings(imap_host="imap.example.com", imap_user="u")


def test_comma_lists_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOCDESK_FAX_GATEWAY_ADDRESSES", "fax@a.example, fax@b.example")
    assert IntakeSettings().fax_gateway_addresses == ["fax@a.example", "fax@b.example"]


def test_mail_without_message_id_is_keyed_by_its_digest() -> None:
    parsed = parse_mail(b"From: a@example.com\r\nSubject: x\r\n\r\nhello\r\n")
    assert dedupe_key(parsed, "ab12") == "email:sha256:ab12"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"Subject: x\r\n\r\nhello\r\n", "From"),
        (b"From: a@example.com\r\n\r\n", "no subject, text or attachment"),
        ("From: a@example.com\r\nSubject: ไฟดับ\r\n\r\n".encode(), None),
    ],
)
def test_malformed_mail_is_named(raw: bytes, reason: str | None) -> None:
    found = malformed_reason(parse_mail(raw))
    assert found is None if reason is None else reason in (found or "")


def test_imap_answers_are_read() -> None:
    assert parse_search(aioimaplib.Response("OK", [b"4 7", b"SEARCH completed"])) == ["4", "7"]
    assert parse_search(aioimaplib.Response("OK", [b"", b"SEARCH completed (0.001 s)"])) == []
    sizes = aioimaplib.Response(
        "OK", [b"1 FETCH (UID 4 RFC822.SIZE 120)", b"2 FETCH (RFC822.SIZE 9 UID 7)", b"done"]
    )
    assert parse_sizes(sizes) == {"4": 120, "7": 9}
    body = aioimaplib.Response("OK", [b"1 FETCH (UID 4 BODY[] {2}", bytearray(b"hi"), b")", b"ok"])
    assert parse_body(body) == b"hi"


def mutations(count: int, seed: int = 7) -> list[bytes]:
    """Return sample mails with bytes changed, cut out and inserted at random."""
    samples = [p.read_bytes() for p in sorted(EMAIL_DIR.glob("*.eml"))]
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        raw = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 20)):
            at = rng.randrange(len(raw))
            roll = rng.random()
            if roll < 0.4:
                raw[at] = rng.randrange(256)
            elif roll < 0.7:
                del raw[at : at + rng.randint(1, 50)]
            else:
                raw[at:at] = bytes(rng.choice(b"<>@;:=\"\\\r\n ?*'\x00") for _ in range(3))
        out.append(bytes(raw))
    return out


def test_mangled_mail_is_refused_or_becomes_a_valid_contact() -> None:
    for raw in mutations(400):
        try:
            parsed = parse_mail(raw)
        except Exception:  # noqa: S112 - CPython's header parser; the SMTP answer is 554
            continue
        if malformed_reason(parsed) is None:
            contact = build_contact(
                parsed,
                contact_id="01TEST",
                org="pea",
                received_at=datetime.now(UTC),
                key=dedupe_key(parsed, "0" * 64),
                source="smtp",
                attachments=(),
            )
            assert unicodedata.is_normalized("NFC", contact.text)
