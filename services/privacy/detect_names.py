"""Find Thai personal names, titled, introduced by a cue, or from the name lists.

A title (นาย, นางสาว, คุณ, ranks, kin words) or a cue (ชื่อ, ผู้แจ้ง, โทรหา,
ติดต่อ, ฝากถึง ...) marks the word after it; after a weak cue the word must be
in PyThaiNLP's bundled given-name or family-name lists. A given name and a
surname both from those lists are a name with no cue at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import cache

from pythainlp.corpus import thai_family_names, thai_female_names, thai_male_names, thai_words
from pythainlp.tokenize import word_tokenize

from services.privacy.detect_span import Span

_TH = "[\u0e01-\u0e4e]"
_SP = "[ \t]"

# Police and military ranks (ร.ต.อ., พ.ต.ท., พล.ต.ต., จ.ส.ต., ด.ต. ...) are titles too.
_RANK = r"(?:พล\.?)?[รพจสด]\.(?:[ตอทสพ]\.){1,2}"
_TITLE = re.compile(
    rf"{_RANK}|นางสาว|น\.ส\.|นาง|นาย|ด\.ช\.|ด\.ญ\.|เด็กชาย|เด็กหญิง|คุณ(?:ยาย|ตา|ย่า|ปู่|ป้า|ลุง|น้า|แม่|พ่อ)|คุณ|ดร\.|ลุง|ป้า|ยาย|น้า"
    r"|พี่|แม่|พ่อ"
)
_KIN_TITLES = frozenset(
    {"ลุง", "ป้า", "ยาย", "น้า", "พี่", "แม่", "พ่อ"}
    | {f"คุณ{kin}" for kin in ("ยาย", "ตา", "ย่า", "ปู่", "ป้า", "ลุง", "น้า", "แม่", "พ่อ")}
)
_WORD_TITLES = frozenset({"นางสาว", "นาง", "นาย", "คุณ"})
# Words a title may be glued to in running Thai ("ข้าพเจ้านายทองดี").
_GLUE_BEFORE = (
    "ชื่อ",
    "ข้าพเจ้า",
    "ติดต่อ",
    "ลค.",
    "ลูกค้า",
    "ผู้แจ้ง",
    "ผู้ขอ",
    "ผู้ร้อง",
    "ผู้ติดต่อ",
    "ผู้รับ",
    "ผู้ยื่น",
    "จาก",
    "คือ",
    "และ",
    "กับ",
    "ของ",
    "ถึง",
    "เรียน",
    "แทน",
    "ให้",
)
# Cues that introduce a name with no title: "ชื่อ", "ชื่อบัญชี", "ผู้ใช้ไฟ:",
# "แจ้งแทน", "ลงชื่อ", "ผู้แจ้ง" ...; the name must then be a known given name
# or carry a surname.
# Verbs and note shorthand that name the person next (โทรหา, ติดต่อ, ฝากถึง,
# ลค. for ลูกค้า, ปลายสาย, a letter's ข้าพเจ้า) are weak cues too.
_INTRODUCED = re.compile(
    rf"(?:(?P<self>(?:ผม|ดิฉัน|ฉัน|หนู|ข้าพเจ้า)ชื่อ)"
    rf"|(?:ชื่อ(?:-?นามสกุล|-?สกุล|บัญชี|ผู้ร้อง|ผู้แจ้ง|ผู้ติดต่อ|ลูกค้า)?|นามสกุล|ผู้แจ้ง|ผู้ติดต่อ)"
    rf"{_SP}*:|(?P<weak>ชื่อ(?:-?นามสกุล|บัญชี|ผู้ติดต่อ|ลูกค้า)?|ลงชื่อ|ผู้ใช้ไฟ(?:ฟ้า)?{_SP}*:?"
    rf"|ผู้แจ้ง|ผู้ร้อง{_SP}*:?|ผู้ติดต่อ|แจ้งแทน|ตามที่|ลูกค้าชื่อ"
    rf"|โทรหา|ติดต่อ(?:กับ)?|ฝากถึง|ช่วยบอก|มอบให้|ส่ง(?:ของ|เอกสาร)?ถึง|ลค\.|ปลายสาย"
    rf"|ข้าพเจ้า|ดิฉัน))"
    rf"{_SP}*"
)
# Words that may follow "ผมชื่อ" and are not the name.
_NOT_SELF_NAMES = ("เล่น", "จริง", "ว่า", "อะไร", "ไม่")
_PARTICLES = frozenset({"ค่ะ", "คะ", "ครับ", "นะ", "จ้ะ", "จ้า", "ฮะ"})
# Tokens that start a new clause: after a title they mean "you"/"Mr" was not
# followed by a name, after a given name they are not a surname.
_CLAUSE_WORDS = frozenset(
    {
        "ภาพ",
        "ค่า",
        "พี่",
        "น้อง",
        "พ่อ",
        "แม่",
        "ตา",
        "ยาย",
        "ลุง",
        "ป้า",
        "พนักงาน",
        "ลูกค้า",
        "เจ้าหน้าที่",
        "ช่าง",
        "หมอ",
        "ครู",
        "ของ",
        "แจ้ง",
        "โทร",
        "ขอ",
        "ไม่",
        "ได้",
        "มา",
        "ไป",
        "ให้",
        "ว่า",
        "ที่",
        "จะ",
        "ยัง",
        "เป็น",
        "มี",
        "ก็",
        "ต้อง",
        "ช่วย",
        "ทำ",
        "บอก",
        "และ",
        "หรือ",
        "กับ",
        "ซึ่ง",
        "โดย",
        "อายุ",
        "ฝ่าย",
        "ใช้",
        "อยู่",
        "เคย",
        "ติดต่อ",
        "ผู้",
        "คน",
        "ด้วย",
        "แล้ว",
        "เลย",
        "อีก",
        "ตอน",
        "เมื่อ",
        "เพื่อ",
        "เพราะ",
        "ถ้า",
        "เรื่อง",
        "รับ",
        "ส่ง",
        "สาขา",
        "ฝาก",
        "ด้วยว่า",
        "เปลี่ยน",
        "ยืนยัน",
        "ขอให้",
        "นี้",
        "นั้น",
        *_PARTICLES,
    }
)
_BREAKERS = frozenset(
    {
        "ไม่",
        "จะ",
        "แล้ว",
        "ว่า",
        "ด้วยว่า",
        "ยัง",
        "ก็",
        "ต้อง",
        "เลย",
        "อีก",
        "และ",
        "หรือ",
        "เพราะ",
        "เมื่อ",
        "ถ้า",
        "เพื่อ",
        "ซึ่ง",
        *_PARTICLES,
    }
)
_CUT_PREFIXES = ("เลข", "บัตร", "โทร", "เบอร์", *_PARTICLES)
_RUN = re.compile(rf"{_TH}+")
_GIVEN_RUN = re.compile(rf"{_SP}?({_TH}+)")
_SURNAME_RUN = re.compile(rf"{_SP}({_TH}+)")


@cache
def given_names() -> frozenset[str]:
    """Return the bundled Thai given names, female and male."""
    return frozenset(thai_female_names()) | frozenset(thai_male_names())


@cache
def family_names() -> frozenset[str]:
    """Return the bundled Thai family names."""
    return frozenset(thai_family_names())


@cache
def dictionary() -> frozenset[str]:
    """Return the bundled Thai word list."""
    return frozenset(thai_words())


def tokens(text: str) -> list[str]:
    """Split Thai text into words."""
    return [str(t) for t in word_tokenize(text, engine="newmm", keep_whitespace=False)]


def starts_clause(word: str) -> bool:
    """Tell whether a Thai word opens a new clause rather than continuing a name."""
    return word.startswith(_CUT_PREFIXES) or tokens(word)[0] in _CLAUSE_WORDS


def _leading_name(run: str) -> str:
    """Cut a run of Thai letters where glued context words begin."""
    kept = ""
    for token in tokens(run):
        if kept and token.startswith(_CUT_PREFIXES):
            break
        kept += token
    return kept


def titled_names(text: str) -> Iterator[Span]:
    """Find names after a title: นาย, นางสาว, คุณ, ranks, kin words."""
    for match in _TITLE.finditer(text):
        title, start = match.group(), match.start()
        head = text[max(0, start - 10) : start]
        if head and not (head[-1] in " \t\n(:\"'/,[" or head.endswith(_GLUE_BEFORE)):
            continue
        run = _GIVEN_RUN.match(text, match.end())
        if not run:
            continue
        given = _leading_name(run.group(1))
        if not _plausible_given(title, given):
            continue
        end = run.start(1) + len(given)
        yield Span(start, surname_end(text, end), "name")


def _plausible_given(title: str, given: str) -> bool:
    if len(given) < 2:
        return False
    if given in given_names():
        return True
    if title in _KIN_TITLES:
        return False
    # A title fused into an ordinary word: นางฟ้า, คุณภาพ, นายอำเภอ.
    if title in _WORD_TITLES and len(tokens(title + given)[0]) > len(title):
        return False
    words = tokens(given)
    return words[0] not in _CLAUSE_WORDS and not _PARTICLES.intersection(words)


def surname_end(text: str, pos: int) -> int:
    """Extend a name over a following surname, if one is there."""
    run = _SURNAME_RUN.match(text, pos)
    if not run or _TITLE.fullmatch(run.group(1)):
        return pos
    surname = _leading_name(run.group(1))
    if len(surname) < 2 or surname.startswith(_CUT_PREFIXES):
        return pos
    # A surname is listed, or at least neither opens a clause nor holds a
    # word that only a sentence has (ไม่, จะ, แล้ว, particles).
    words = tokens(surname)
    if surname not in family_names() and (
        words[0] in _CLAUSE_WORDS or _BREAKERS.intersection(words)
    ):
        return pos
    return run.start(1) + len(surname)


def introduced_names(text: str) -> Iterator[Span]:
    """Find untitled names introduced by a cue: "ผมชื่อ ...", "ชื่อ: ...", "โทรหา ..."."""
    for match in _INTRODUCED.finditer(text):
        run = _RUN.match(text, match.end())
        if not run or _TITLE.match(run.group()):
            continue
        given = _leading_name(run.group())
        if match.group("self"):
            # Someone giving their own name: even a word (ต้นกล้า, น้ำฝน) is one.
            if len(given) >= 2 and not given.startswith(_NOT_SELF_NAMES):
                yield Span(run.start(), surname_end(text, run.start() + len(given)), "name")
            continue
        weak = match.group("weak")
        if weak and given in dictionary() and given not in given_names():
            continue
        if weak and tokens(given)[0] in _CLAUSE_WORDS:
            continue
        end = surname_end(text, run.start() + len(given))
        surname = text[run.start() + len(given) : end].strip()
        known = given in given_names() or surname in family_names()
        # After a weak cue (a bare ชื่อ, ผู้แจ้ง ...) only a name from the name
        # lists counts; after "ชื่อ:" any untitled word with a surname does.
        if known or (not weak and end > run.start() + len(given)):
            yield Span(run.start(), end, "name")


_PAIR = re.compile(rf"(?<![\u0e01-\u0e4e.])({_TH}+){_SP}(?={_TH})")


def paired_names(text: str) -> Iterator[Span]:
    """Find a given name and a surname side by side, with no cue at all.

    Both must come from the bundled name lists, and not both be ordinary
    words, so that two words of a sentence are not taken for a name.
    """
    for match in _PAIR.finditer(text):
        given = match.group(1)
        if given not in given_names():
            continue
        end = surname_end(text, match.end(1))
        surname = text[match.end(1) : end].strip()
        if surname not in family_names():
            continue
        if given in dictionary() and surname in dictionary():
            continue
        yield Span(match.start(1), end, "name")


def known_names(text: str, names: Sequence[str]) -> Iterator[Span]:
    """Find the customer's own names, whole or by parts that are not words."""
    for full in names:
        parts = full.split()
        if not parts:
            continue
        patterns = [r"\s+".join(map(re.escape, parts))]
        patterns += [re.escape(p) for p in parts if len(p) >= 3 and p not in dictionary()]
        for pattern in patterns:
            if pattern.isascii():
                pattern = rf"\b{pattern}\b"
            for match in re.finditer(pattern, text, re.I):
                yield Span(match.start(), match.end(), "name")
