"""The span type every personal-data finder yields, and the character classes they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "national_id",
    "phone",
    "email",
    "line_id",
    "bank_account",
    "card",
    "member_card",
    "passport",
    "name",
    "address",
]

# Pattern pieces the finders build their expressions from: one Thai letter or
# mark, and a blank within a line.
THAI_CHAR = "[\u0e01-\u0e4e]"
BLANK = "[ \t]"


@dataclass(frozen=True, order=True)
class Span:
    """Mark a run of personal data by character offsets and kind."""

    start: int
    end: int
    kind: Kind
