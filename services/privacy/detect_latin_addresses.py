"""Find Thai addresses written in Latin letters, in any case and any order.

Customers typing without a Thai keyboard romanise their address ("baan lek
tee 19 moo 4 soi 2 tambon khlong nueng"), forms print it in capitals ("55/2
MOO 3, T. SAMET, A. MUEANG, CHONBURI 20000"), and expatriates end it with a
town ("…, Nong Prue, Pattaya"). A run of such parts is an address when a
house number is among them, or when a village (moo) comes with two other
parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import cast

from pythainlp.corpus import provinces

from services.privacy.detect_span import Span

# Words of a romanised or English sentence that end a place's name.
_NOT_PLACE_WORDS = frozenset(
    [
        "na",
        "krub",
        "krab",
        "kub",
        "ka",
        "kha",
        "kah",
        "ja",
        "jaa",
        "ha",
        "laew",
        "leaw",
        "faifa",
        "fai",
        "dap",
        "dub",
        "mai",
        "yu",
        "tee",
        "thi",
        "ti",
        "ban",
        "baan",
        "and",
        "or",
        "no",
        "not",
        "near",
        "the",
        "a",
        "an",
        "at",
        "in",
        "on",
        "of",
        "to",
        "from",
        "for",
        "since",
        "please",
        "pls",
        "send",
        "power",
        "outage",
        "is",
        "are",
        "was",
        "my",
        "our",
        "your",
        "house",
        "home",
        "call",
        "tel",
        "phone",
        "mobile",
        "line",
        "email",
        "moo",
        "soi",
        "tambon",
        "amphoe",
        "amphur",
        "road",
        "rd",
        "khet",
        "khwaeng",
        "kwaeng",
        "thanon",
        "village",
    ]
)
_WORD = r"[A-Za-z][A-Za-z'-]*"
_PLACE = rf"{_WORD}(?:[ \t]+{_WORD}){{0,3}}"
_NUMBER = r"\d{1,4}(?:/\d{1,4})?"
_PARTS = (
    (
        "house",
        rf"(?:baan[ \t]+|ban[ \t]+)?(?:lek[ \t]*(?:thi|tee|ti)|house[ \t]*no\.?|no\.)"
        rf"[ \t]*{_NUMBER}",
    ),
    ("number", rf"{_NUMBER}(?![\d/])"),
    ("moo", r"(?:moo|mu|mhu|m\.)[ \t]*\.?[ \t]*\d{1,2}(?!\d)"),
    ("soi", rf"soi\.?[ \t]*(?:\d{{1,3}}(?!\d)|{_PLACE})"),
    ("road", rf"(?:thanon|th\.)[ \t]*{_PLACE}|{_PLACE}[ \t]+(?:road|rd\.?)"),
    ("area", rf"(?:tambon|tumbon|t\.|khwaeng|kwaeng|amphoe|amphur|amphor|a\.|khet)[ \t]*{_PLACE}"),
    ("village", rf"(?:baan|ban)[ \t]+(?!lek|yu|tee|thi){_PLACE}"),
    ("postcode", r"\d{5}(?!\d)"),
    # A capitalised name closed by a comma, inside an address: "Nong Prue,".
    ("place", r"(?-i:[A-Z][a-z]+(?:[ \t][A-Z][a-z]+){0,2})(?=[ \t]*,)"),
)
_PART = re.compile(
    "|".join(f"(?P<{kind}{i}>{pattern})" for i, (kind, pattern) in enumerate(_PARTS)), re.I
)
_SEP = re.compile(r"[ \t]*,?[ \t]*")
_HINT = re.compile(r"(?i:moo|soi|tambon|amphoe|amphur|khwaeng|khet|lek[ \t]*t|\bt\.|\ba\.)")


@cache
def _towns() -> re.Pattern[str]:
    details = cast(list[dict[str, str]], provinces(details=True))
    names = {p["name_en"] for p in details} | {"Pattaya", "Hua Hin"}
    names |= {name.replace(" ", "") for name in names}
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})(?![A-Za-z])", re.I)


def latin_addresses(text: str) -> Iterator[Span]:
    """Find an address of Latin-written parts with a house number, or a village and two parts."""
    if not _HINT.search(text):
        return
    pos = 0
    while match := _PART.search(text, pos):
        pos = match.end()
        if match.lastgroup and match.lastgroup.startswith("place"):
            continue  # a capitalised name opens no address
        start, end, kinds = _run(text, match)
        pos = max(end, pos)
        places = [k for k in kinds if k not in ("house", "number", "postcode", "place")]
        if ("house" in kinds and places) or ("moo" in kinds and len(places) >= 3):
            yield Span(start, end, "address")


def _run(text: str, first: re.Match[str]) -> tuple[int, int, list[str]]:
    """Consume parts and town names from ``first``; return the span and the parts' kinds."""
    start, end = first.start(), first.start()
    kinds: list[str] = []
    match: re.Match[str] | None = first
    while match:
        kind = str(match.lastgroup).rstrip("0123456789")
        if kind == "number":
            # A bare number is the house's when it opens the address (55/2 MOO 3).
            kind = "house" if not kinds else "number"
        value = _trim(kind, match.group())
        if not value:
            break
        kinds.append(kind)
        end = match.start() + len(value)
        sep = _SEP.match(text, end)
        pos = sep.end() if sep else end
        town = _towns().match(text, pos)
        if town and town.end() > pos:
            kinds.append("town")
            end = town.end()
            sep = _SEP.match(text, end)
            pos = sep.end() if sep else end
        match = _PART.match(text, pos)
        if match and match.start() == match.end():
            break
    return start, end, kinds


def _trim(kind: str, value: str) -> str:
    """Cut a part's place name at the first word that is no place's."""
    if kind in ("house", "moo", "postcode"):
        return value
    words = list(re.finditer(r"\S+", value))
    for i, word in enumerate(words[1:], start=1):
        if word.group().lower().strip(",.") in _NOT_PLACE_WORDS:
            return value[: words[i - 1].end()]
    return value
