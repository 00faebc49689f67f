"""Undo the damage faxes and OCR do to Thai text before it is searched.

The finders see a repaired copy of the text and the spans they return are
mapped back onto the text as given, so masking still covers every original
character. Three repairs, none of which can join two unrelated tokens:

- a space before a Thai vowel or tone mark that cannot start a word
  (``บ ้านเลขที ่``, ``หมู ่``) is dropped: OCR splits a syllable there;
- a run of spaces or tabs becomes one space (``วิไลวรรณ  แซ่ตั้ง``);
- inside a run of digits, the letters ``O`` and ``l`` read for 0 and 1
  become those digits (``O81-234-5567``, ``2O150``, ``98l-0-4432l-7``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Above and below vowels, tone marks and the vowels that never begin a word.
_SPLIT_MARK = re.compile("(?<=[\u0e01-\u0e4e])[ \t]+(?=[\u0e30-\u0e3a\u0e45\u0e47-\u0e4e])")
_SPACE_RUN = re.compile(r"(?<=[ \t])[ \t]+")
# A run of digits with look-alike letters, not touching any other letter.
_DIGIT_LIKE = re.compile(r"(?<![A-Za-z])[0-9Ol]+(?![A-Za-z])")
_DIGIT_NEAR = re.compile(r"[ .-]?[0-9]")
_OCR_DIGITS = str.maketrans("Ol", "01")


@dataclass(frozen=True)
class Repaired:
    """Hold the repaired text and, for each of its characters, the original offset."""

    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the repaired text back onto the original text."""
        return self.origin[start], self.origin[end - 1] + 1


def repair(text: str) -> Repaired:
    """Return ``text`` with OCR splits and look-alike digits repaired."""
    dropped = {i for m in _SPLIT_MARK.finditer(text) for i in range(*m.span())}
    dropped |= {i for m in _SPACE_RUN.finditer(text) for i in range(*m.span())}
    chars = list(text)
    for match in _DIGIT_LIKE.finditer(text):
        if _is_number(text, match):
            start, end = match.span()
            chars[start:end] = match.group().translate(_OCR_DIGITS)
    kept = [i for i in range(len(text)) if i not in dropped]
    return Repaired("".join(chars[i] for i in kept), tuple(kept))


def _is_number(text: str, match: re.Match[str]) -> bool:
    run = match.group()
    if run.isdigit() or (not any(c.isdigit() for c in run) and len(run) > 1):
        return False
    if any(c.isdigit() for c in run):
        return True
    # A lone O or l is a digit only beside another digit ("O 8 6 1 ...").
    return bool(_DIGIT_NEAR.match(text, match.end()))
