"""What screening hides in one contact: its text, file names and channel metadata.

Built on the detector (``detect``, ``masking``), adding what only screening
knows: the names the customer gave, their own identifiers (found in
metadata even where detection would not see them), and which
metadata keys address the customer (``reply_*``, vaulted instead).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from services.privacy.detect import Kind, Span, detect
from services.privacy.identifiers import normalise_phone
from services.privacy.masking import mask_text
from shared.messages.contacts import Identity, MetaValue
from shared.thai_ids import normalise_national_id

# Channel metadata that addresses the customer travels in the vault, not on the bus.
REPLY_META_PREFIX = "reply_"
# A LINE user id pasted into text needs no cue word to be recognised as one.
_LINE_USER_ID = re.compile(r"(?<![A-Za-z0-9])U[0-9a-f]{32}(?![A-Za-z0-9])", re.IGNORECASE)
_FILE_NAME_GLUE = re.compile(r"[_.]")
# Digits of one identifier may be grouped by a space, dot or dash.
_DIGIT_GAP = r"[ .-]?"


def nfc(text: str) -> str:
    """Return ``text`` in NFC, the one form the detector and the vault see."""
    # NFKC would split the Thai vowel sara am (ำ) into two code points.
    return unicodedata.normalize("NFC", text)


def scan(text: str, names: Sequence[str]) -> list[Span]:
    """Return the personal-data spans of NFC ``text``, raw LINE user ids included."""
    spans = detect(text, known_names=names)
    spans += [Span(m.start(), m.end(), "line_id") for m in _LINE_USER_ID.finditer(text)]
    return spans


def redact(value: str | None, names: Sequence[str]) -> str | None:
    """Return ``value`` with its personal data masked (None and empty stay as they are)."""
    if not value:
        return value
    text = nfc(value)
    return mask_text(text, scan(text, names))


def redact_file_name(name: str, names: Sequence[str]) -> str:
    """Return a file name with its personal data masked."""
    # "idcard_3301500123457.jpg": detection reads "_" and "." glued to a number
    # as part of a code; seen as spaces (same offsets) the number stands alone.
    text = nfc(name)
    return mask_text(text, scan(_FILE_NAME_GLUE.sub(" ", text), names))


def own_identifiers(identity: Identity) -> list[tuple[re.Pattern[str], Kind]]:
    """Return patterns of the customer's own identifiers, matched even glued to other text."""
    # Systems write the caller into file names and URLs glued by dashes (a PBX
    # recording "in-0812345678-1129-….wav"), where free-text detection rightly
    # reads a number as an order or meter number and leaves it visible.
    patterns: list[tuple[re.Pattern[str], Kind]] = []
    phone = normalise_phone(identity.phone)
    if phone:
        digits = phone.removeprefix("+")
        if digits.startswith("66"):
            pattern = rf"(?:\+?66|0)?{_DIGIT_GAP.join(digits[2:])}"
        else:
            pattern = rf"\+?{_DIGIT_GAP.join(digits)}"
        patterns.append((re.compile(pattern), "phone"))
    national_id = normalise_national_id(identity.national_id)
    if national_id:
        patterns.append((re.compile(_DIGIT_GAP.join(national_id)), "national_id"))
    given: tuple[tuple[str | None, Kind], ...] = (
        (identity.email, "email"),
        (identity.line_user_id, "line_id"),
    )
    for value, kind in given:
        if value:
            patterns.append((re.compile(re.escape(value.strip()), re.IGNORECASE), kind))
    return patterns


def redact_meta(
    meta: Mapping[str, MetaValue], names: Sequence[str], *, identity: Identity
) -> dict[str, MetaValue]:
    """Return channel metadata without ``reply_*`` keys and with every string masked."""
    own = own_identifiers(identity)
    redacted: dict[str, MetaValue] = {}
    for key, value in meta.items():
        if key.startswith(REPLY_META_PREFIX):
            continue
        if isinstance(value, str):
            text = nfc(value)
            spans = detect(text, known_names=names)
            # Only the customer's own ids: the bot's id (line_destination) is not personal.
            spans += [
                Span(m.start(), m.end(), kind)
                for pattern, kind in own
                for m in pattern.finditer(text)
            ]
            value = mask_text(text, spans)
        redacted[key] = value
    return redacted
