"""Cut text only where a reader sees a character boundary.

Thai writes vowels above and below the consonant and tone marks above those as
separate code points; cutting between them leaves a dangling mark. This covers
what our messages contain (Thai, Latin, emoji with modifiers and ZWJ), not the
whole of UAX #29: regional-indicator flags may be split.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

_SARA_AM = "\u0e33"  # spacing, yet UAX #29 keeps it with the consonant before it
_ZWJ = "\u200d"


def _joins_previous(char: str, previous: str) -> bool:
    if previous == _ZWJ or (previous == "\r" and char == "\n"):
        return True
    if char in (_SARA_AM, _ZWJ, "\u200c"):
        return True
    if "\U0001f3fb" <= char <= "\U0001f3ff":  # emoji skin-tone modifiers
        return True
    return unicodedata.category(char) in ("Mn", "Mc", "Me")


def cluster_starts(text: str) -> list[int]:
    """Return every index where ``text`` may be cut, including 0 and ``len(text)``."""
    starts = [0] if text else []
    starts += [i for i in range(1, len(text)) if not _joins_previous(text[i], text[i - 1])]
    starts.append(len(text))
    return starts


def longest_prefix(text: str, fits: Callable[[str], bool]) -> str:
    """Return the longest prefix of ``text`` ending on a cluster boundary that fits."""
    starts = cluster_starts(text)
    low, high = 0, len(starts) - 1
    # ``fits`` is monotone for our measures (longer text never costs less), so
    # a binary search over boundaries finds the cut.
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[: starts[middle]]):
            low = middle
        else:
            high = middle - 1
    return text[: starts[low]]


def utf16_length(text: str) -> int:
    """Return the length in UTF-16 code units, as LINE and UCS-2 SMS count it."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, max_parts: int) -> list[str]:
    """Split ``text`` into at most ``max_parts`` chunks of ``limit`` UTF-16 units."""
    parts: list[str] = []
    rest = text
    while rest and len(parts) < max_parts:
        chunk = longest_prefix(rest, lambda candidate: utf16_length(candidate) <= limit)
        if chunk != rest and "\n" in chunk:
            # Prefer ending a chunk at a line break so no sentence is split mid-way.
            chunk = chunk[: chunk.rindex("\n") + 1]
        parts.append(chunk.strip("\n"))
        rest = rest[len(chunk) :]
    return [part for part in parts if part.strip()]
