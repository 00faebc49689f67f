"""A bank's name written right before its account belongs to the account.

"โอนเข้า กสิกรไทย 123-4-56789-0", "KBANK 046-8-77120-3", "ธ.กรุงเทพ 1234567890":
the bank says where the money of one person sits, so the account's span
opens at the bank's name. Only a name one blank or none before the number
counts; a branch or a word between ("ธ.กรุงไทย สาขาสีลม 981…") leaves the
bank outside, as does a bank word alone (บัญชี, ธนาคาร, bank).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from services.privacy.detect_number_cues import BANK_NAMES
from services.privacy.detect_span import Span

_NAME = (
    "|".join(re.escape(name) for name in sorted(BANK_NAMES, key=len, reverse=True))
    + r"|กรุงเทพ|bangkok[ \t]bank|bay"
)
# The name, maybe after ธนาคาร or ธ., maybe twice (ทหารไทยธนชาต, BAY กรุงศรี),
# with the ไทย of กสิกรไทย and a closing dot (ธกส.), then the blank before the
# number, at the end of the text before it.
_BANK_BEFORE = re.compile(
    rf"(?:(?:ธนาคาร|ธ\.)[ \t]?|(?<![A-Za-z\u0e01-\u0e4e.]))(?:(?:{_NAME})(?:ไทย)?\.?[ \t]?)+\Z",
    re.I,
)
_WIDTH = 40


def with_bank_names(text: str, spans: Sequence[Span]) -> list[Span]:
    """Open each bank account's span at the bank's name written right before it."""
    out: list[Span] = []
    for span in spans:
        if span.kind == "bank_account":
            floor = out[-1].end if out else 0
            lo = max(floor, span.start - _WIDTH)
            match = _BANK_BEFORE.search(text, lo, span.start)
            if match and match.start() >= floor:
                span = Span(match.start(), span.end, span.kind)
        out.append(span)
    return out
