"""The span type every personal-data finder yields."""

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


@dataclass(frozen=True, order=True)
class Span:
    """Mark a run of personal data by character offsets and kind."""

    start: int
    end: int
    kind: Kind
