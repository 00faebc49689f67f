"""Normalised customer identifiers and the blind indexes that recognise them.

A blind index is a keyed HMAC of one normalised identifier: equal identifiers
written differently on different channels give the same index, and without the
key the index reveals nothing about the identifier.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from typing import Literal, get_args

import phonenumbers

from shared.errors import Invalid
from shared.messages.contacts import Identity
from shared.thai_ids import ascii_digits, normalise_national_id

IdentifierKind = Literal["phone", "email", "national_id", "line_user_id", "app_user_id"]

# Caller-id values telephony systems send when the number is withheld.
_WITHHELD_CALLER_IDS = frozenset(
    {"anonymous", "private", "restricted", "unavailable", "unknown", "withheld"}
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LINE_USER_ID = re.compile(r"U[0-9a-f]{32}", re.IGNORECASE)
# A LINE ID people type: lower-case letters, digits and . _ -, optionally an official "@".
_LINE_HANDLE = re.compile(r"@?[a-z0-9._-]{1,20}")
MIN_INDEX_KEY_BYTES = 16


def normalise_phone(raw: str | None) -> str | None:
    """Return the number in E.164 (Thai numbers as +66…), or None if absent or invalid."""
    if raw is None:
        return None
    text = ascii_digits(unicodedata.normalize("NFC", raw)).strip()
    if not text or text.lower() in _WITHHELD_CALLER_IDS:
        return None
    try:
        number = phonenumbers.parse(text, "TH")
    except phonenumbers.NumberParseException:
        return None
    # Valid, not merely possible: hotlines and filler such as 0000000000 are not a
    # customer's number, and indexing them would join unrelated customers together.
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str | None) -> str | None:
    """Return the address stripped and lower-cased, or None if it is not an address."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFC", raw).strip().removeprefix("mailto:").strip("<> ")
    text = text.lower()
    return text if _EMAIL.fullmatch(text) else None


def normalise_line_id(raw: str | None) -> str | None:
    """Return a LINE user id (``U`` + 32 hex) or LINE ID handle in canonical form, else None."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFC", raw).strip()
    if _LINE_USER_ID.fullmatch(text):
        return "U" + text[1:].lower()
    handle = text.lower()
    return handle if _LINE_HANDLE.fullmatch(handle) else None


def normalise_app_user(raw: str | None) -> str | None:
    """Return the app's user id stripped (it is opaque, so case is kept), or None if blank."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFC", raw).strip()
    return text or None


# Titles a customer's name may carry, dropped before a name is indexed.
_TITLES = re.compile(
    r"^(?:คุณ|นางสาว|นาง|นาย|น\.ส\.|ด\.ช\.|ด\.ญ\.|mr\.?|mrs\.?|ms\.?|miss|khun)\s*",
    re.IGNORECASE,
)


def normalise_name(raw: str | None) -> str | None:
    """Return a name without its title, spaces collapsed, case folded; None if empty."""
    if not raw:
        return None
    name = " ".join(raw.split())
    name = _TITLES.sub("", name, count=1).strip()
    return name.casefold() if len(name) >= 2 else None


NORMALISERS: dict[IdentifierKind, Callable[[str | None], str | None]] = {
    "phone": normalise_phone,
    "email": normalise_email,
    "national_id": normalise_national_id,
    "line_user_id": normalise_line_id,
    "app_user_id": normalise_app_user,
}
KINDS: tuple[IdentifierKind, ...] = get_args(IdentifierKind)


class BlindIndexer:
    """Compute keyed, deterministic indexes of normalised identifiers."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_INDEX_KEY_BYTES:
            raise ValueError(f"a blind index key needs at least {MIN_INDEX_KEY_BYTES} bytes")
        self._key = key

    def index(self, kind: IdentifierKind, value: str) -> str:
        """Return the hex HMAC-SHA256 of ``kind:normalised``; raise Invalid if unusable."""
        normaliser = NORMALISERS.get(kind)
        if normaliser is None:
            raise Invalid(f"unknown identifier kind {kind!r}", field=kind)
        normalised = normaliser(value)
        if normalised is None:
            raise Invalid(f"not a usable {kind}", field=kind)
        return self._mac(kind, normalised)

    def indexes(self, identity: Identity) -> dict[IdentifierKind, str]:
        """Return the index of every identifier in ``identity`` that normalises."""
        found: dict[IdentifierKind, str] = {}
        for kind in KINDS:
            normalised = NORMALISERS[kind](getattr(identity, kind))
            if normalised is not None:
                found[kind] = self._mac(kind, normalised)
        return found

    def name_index(self, raw: str | None) -> str | None:
        """Return the index of a customer's name, or None if nothing of it is left.

        Names are not identifiers (two customers share one), so their index
        never links contacts to a customer: it only finds customers by name.
        """
        normalised = normalise_name(raw)
        if normalised is None:
            return None
        message = f"name:{normalised}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _mac(self, kind: IdentifierKind, normalised: str) -> str:
        message = f"{kind}:{normalised}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
