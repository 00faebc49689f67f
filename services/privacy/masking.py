"""Mask personal data in Thai free text, keeping enough of it to stay useful.

An agent reading a masked text can still tell two phones or cards apart by
their last digits, and see that an ID or email was given, without seeing it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

from services.privacy.detect import Kind, Span, detect

_DIGITS = frozenset("0123456789๐๑๒๓๔๕๖๗๘๙")
_THAI_LETTER = re.compile("[\u0e01-\u0e4e]")
# Letters OCR reads for digits (O8l-234-5567): inside a number span they are its digits.
_DIGIT_LOOKALIKES = frozenset("OoIl|")


def mask(text: str, known_names: Sequence[str] = ()) -> str:
    """Detect and mask the personal data in ``text``, normalised to NFC."""
    # NFKC would split the Thai vowel sara am (ำ) into two code points.
    text = unicodedata.normalize("NFC", text)
    return mask_text(text, detect(text, known_names=known_names))


def mask_text(text: str, spans: Iterable[Span]) -> str:
    """Replace each span of ``text`` by the mask of its kind."""
    pieces: list[str] = []
    cursor = 0
    for span in _merged(spans, len(text)):
        pieces += [text[cursor : span.start], _MASKS[span.kind](text[span.start : span.end])]
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _merged(spans: Iterable[Span], length: int) -> list[Span]:
    """Join overlapping spans so none of their characters stays visible."""
    merged: list[Span] = []
    clipped = (Span(max(s.start, 0), min(s.end, length), s.kind) for s in spans)
    for span in sorted(s for s in clipped if s.start < s.end):
        last = merged[-1] if merged else None
        if last and span.start < last.end:
            # The longer of the two names the kind of the joined span.
            kind = last.kind if last.end - last.start >= span.end - span.start else span.kind
            merged[-1] = Span(last.start, max(last.end, span.end), kind)
        else:
            merged.append(span)
    return merged


def _keep_digits(value: str, keep_first: int, keep_last: int) -> str:
    """Replace digits by ``x`` except the first and last few; keep separators."""
    digits = _DIGITS | _DIGIT_LOOKALIKES if any(c in _DIGITS for c in value) else _DIGITS
    count = sum(1 for char in value if char in digits)
    out: list[str] = []
    seen = 0
    for char in value:
        if char in digits:
            keep = seen < keep_first or seen >= count - keep_last
            out.append(char if keep else "x")
            seen += 1
        else:
            out.append(char)
    return "".join(out)


def _spoken(label: str, mask: Callable[[str], str]) -> Callable[[str], str]:
    """Mask a number read out in Thai words (a call's transcript) whole, else by ``mask``."""
    return lambda value: label if _THAI_LETTER.search(value) else mask(value)


def _mask_phone(value: str) -> str:
    # Keep the operator or area prefix: 08x-xxx-5678, +66-8x-xxx-5678.
    international = value.lstrip("(").startswith("+")
    return _keep_digits(value, keep_first=3 if international else 2, keep_last=4)


def _mask_email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at:
        return "[อีเมล]"  # read out: "somying แอท gmail ดอท คอม"
    return f"{local[:1]}***@{domain}"


_MASKS: dict[Kind, Callable[[str], str]] = {
    "national_id": _spoken(
        "[เลขบัตรประชาชน]", lambda value: _keep_digits(value, keep_first=1, keep_last=1)
    ),
    "phone": _spoken("[เบอร์โทร]", _mask_phone),
    "email": _mask_email,
    "card": _spoken("[เลขบัตร]", lambda value: _keep_digits(value, keep_first=0, keep_last=4)),
    "member_card": _spoken(
        "[เลขสมาชิก]", lambda value: _keep_digits(value, keep_first=0, keep_last=4)
    ),
    "passport": lambda value: _keep_digits(value, keep_first=0, keep_last=2),
    "bank_account": _spoken(
        "[เลขบัญชี]", lambda value: _keep_digits(value, keep_first=0, keep_last=4)
    ),
    "line_id": lambda _: "[LINE ID]",
    "name": lambda _: "[ชื่อ]",
    "address": lambda _: "[ที่อยู่]",
}
