"""Thai digits and national ID numbers: normalised the same way by every service."""

from __future__ import annotations

import re
import unicodedata

_NATIONAL_ID_SEPARATORS = re.compile(r"[\s\-.]")

__all__ = ["ascii_digits", "national_id_checksum_ok", "normalise_national_id"]


def ascii_digits(text: str) -> str:
    """Return ``text`` with every decimal digit (Thai ๐-๙ included) written as 0-9."""
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and ch.isdecimal() else ch for ch in text
    )


def normalise_national_id(raw: str | None) -> str | None:
    """Return the 13 digits of a Thai national ID whose checksum holds, else None."""
    if raw is None:
        return None
    digits = _NATIONAL_ID_SEPARATORS.sub("", ascii_digits(raw))
    if len(digits) != 13 or not digits.isascii() or not digits.isdigit():
        return None
    return digits if national_id_checksum_ok(digits) else None


def national_id_checksum_ok(digits: str) -> bool:
    """Return True if the 13th digit is the checksum of the first twelve."""
    total = sum(int(digits[i - 1]) * (14 - i) for i in range(1, 13))
    return (11 - total % 11) % 10 == int(digits[12])
