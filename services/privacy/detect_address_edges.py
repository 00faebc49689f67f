"""The edges of an address another rule found: what it stops short of.

A dictated address often ends with its province or Bangkok and the postcode
written in a way the address's parts do not take (จังหวัดอุดร, the short
name; กรุงเทพ 10140 with no ฯ), and opens with where in a building or a
street it is (หอพักบ้านสวน ห้อง 214, กทม. เขตบางเขน, ซอย 5 บ้าน 19): those
words right before or after an address's span belong to it. Only a part
touching the span (a blank or a comma apart) counts; alone they are no
address.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from pythainlp.corpus import provinces

from services.privacy.detect_span import Span

_TH = r"[\u0e01-\u0e4e]"
_D = "[0-9๐-๙]"
_GAP = r"[ \t]*,?[ \t]*"
_BANGKOK = r"กรุงเทพ(?:ฯ|มหานคร)?|กทม\.?"


@cache
def _after() -> re.Pattern[str]:
    names = "|".join(re.escape(str(p)) for p in sorted(provinces(), key=len, reverse=True))
    province = rf"(?:จังหวัด|จ\.)[ \t]?{_TH}+|{names}|{_BANGKOK}"
    return re.compile(
        rf"(?:{_GAP}(?:{province}))?(?:{_GAP}{_D}{{5}}(?![0-9๐-๙]))?|{_GAP}{_D}{{5}}(?![0-9๐-๙])"
    )


# A dormitory's, an apartment's or a mansion's name, Bangkok, or a numbered
# soi, right before the span.
_BEFORE = re.compile(
    rf"(?<!{_TH})(?:(?:หอพัก|อพาร์ทเม้นท์|อพาร์ตเมนต์|แมนชั่น){_TH}+|{_BANGKOK}"
    rf"|(?:ซอย|ซ\.)[ \t]?{_D}{{1,3}}){_GAP}\Z"
)
_WIDTH = 40


def with_address_edges(text: str, spans: Sequence[Span]) -> list[Span]:
    """Widen each address span over the edge parts touching it."""
    out: list[Span] = []
    for i, span in enumerate(spans):
        if span.kind == "address":
            floor = out[-1].end if out else 0
            ceiling = spans[i + 1].start if i + 1 < len(spans) else len(text)
            start, end = span.start, span.end
            before = _BEFORE.search(text, max(floor, start - _WIDTH), start)
            if before:
                start = before.start()
            after = _after().match(text, end, ceiling)
            if after and after.end() > end:
                end = after.end()
            span = Span(start, end, span.kind)
        out.append(span)
    return out
