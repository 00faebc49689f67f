"""Find Thai names by what stands around them rather than by a title or a cue.

A foreigner's name in Thai script follows their nationality (ชาวญี่ปุ่น
ทานากะ ฮิโรชิ); a listed given name signs a short message or stands before
its phone; an owner's name sits in brackets after a number; a name split
into spaced syllables; a kin word glued to a listed given name (บอกลุงสมชาย);
and the customer's own names, when the caller knows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from services.privacy.detect_lexicon import (
    PARTICLES,
    dictionary,
    family_names,
    given_names,
    starts_clause,
    tokens,
)
from services.privacy.detect_span import BLANK, THAI_CHAR, Span
from services.privacy.detect_surnames import NOT_NICKNAMES

_TH, _SP = THAI_CHAR, BLANK


# A foreigner named after who they are and their nationality: "ลูกค้าชาวญี่ปุ่น
# ทานากะ ฮิโรชิ", "แรงงานเมียนมา หม่อง ซอ วิน" (not "เป็นชาวต่างชาติ เช่าบ้าน").
_NATIONALITY = re.compile(
    r"(?:ลูกค้า|ผู้เช่า|ผู้ร้อง|ผู้แจ้ง|ผู้ใช้ไฟ(?:ฟ้า)?|ผู้ขอ|นักท่องเที่ยว|นักลงทุน|แรงงาน|คนงาน|ลูกจ้าง)"
    r"(?:ชาว)?(?:ต่างชาติ|ต่างประเทศ|ต่างด้าว|ญี่ปุ่น|จีน|เกาหลี|อเมริกัน|อังกฤษ|เยอรมัน|ฝรั่งเศส|อินเดีย|พม่า"
    r"|เมียนมา|กัมพูชา|เขมร|ลาว|เวียดนาม|ไต้หวัน|รัสเซีย|มาเลเซีย|สิงคโปร์|ฟิลิปปินส์)"
    rf"{_SP}+"
)
_NAME_WORD = re.compile(rf"({_TH}+)(?:{_SP}|(?=\W)|\Z)")
_NOT_NAME_PREFIXES = ("พาสปอร์ต", "หนังสือ", "ชื่อ", "ชาว", "ที่", "ซึ่ง")


def foreign_names(text: str) -> Iterator[Span]:
    """Find a foreigner's name written in Thai right after their nationality."""
    for match in _NATIONALITY.finditer(text):
        pos, end = match.end(), match.end()
        for _ in range(3):
            word = _NAME_WORD.match(text, pos)
            if (
                not word
                or starts_clause(word.group(1))
                or word.group(1).startswith(_NOT_NAME_PREFIXES)
            ):
                break
            end, pos = word.end(1), word.end()
        if end - match.end() >= 2:
            yield Span(match.end(), end, "name")


# A listed given name right before a phone number ("ไฟดับค่ะ น้อย 089-...") or
# signing a short message at its end ("ได้รับเงินแล้ว ขอบคุณค่ะ จิราพร").
_BEFORE = re.compile(rf"(?<![\u0e01-\u0e4e])({_TH}+){_SP}+\Z")
_LAST_WORD = re.compile(rf"(?<![\u0e01-\u0e4e])({_TH}+)[\s.!~]*\Z")
# What may stand before such a name: the start, a line break or bracket, or a
# particle closing the sentence before it ("ไฟดับค่ะ น้อย 089...").
_SIGN_BEFORE = re.compile(rf"(?:\A|[\n(:,]|(?:{'|'.join(PARTICLES)}|ขอบคุณ)){_SP}*\Z")
_SHORT_MESSAGE = 160
# Words a phone or a message's end follows that are not names.
_NOT_SIGNERS = frozenset({"ใหม่", "เดิม", "สำรอง", "ด่วน", "บ้าน", "มือถือ", "กลับ", "ได้", "นะ", "ด้วย"})


def standalone_names(text: str, phones: Sequence[Span]) -> Iterator[Span]:
    """Find a listed given name standing before one of ``phones`` or at a short message's end."""
    found = [m for p in phones if (m := _BEFORE.search(text, max(0, p.start - 30), p.start))]
    if len(text) <= _SHORT_MESSAGE:
        found += _LAST_WORD.finditer(text)
    for match in found:
        word = match.group(1)
        if word not in given_names() or word in _NOT_SIGNERS or starts_clause(word):
            continue
        # A listed name that is also a word (น้อย, วัน) must stand apart.
        if word in dictionary() and not _SIGN_BEFORE.search(text, 0, match.start(1)):
            continue
        yield Span(match.start(1), match.end(1), "name")


# Whose a number is, in brackets right after it: "พร้อมเพย์ 081… (ธนพล)".
_BRACKETED = re.compile(
    rf"{_SP}*\({_SP}*(?P<title>นางสาว|นาง|นาย|คุณ|น\.ส\.)?{_SP}*(?P<name>{_TH}+(?:{_SP}{_TH}+)?){_SP}*\)"
)


def bracketed_names(text: str, numbers: Sequence[Span]) -> Iterator[Span]:
    """Find the owner's name in brackets right after one of ``numbers``."""
    for number in numbers:
        match = _BRACKETED.match(text, number.end)
        if not match:
            continue
        name = match.group("name")
        first = name.split()[0]
        if starts_clause(first) or first in NOT_NICKNAMES:
            continue
        if match.group("title") or first in given_names() or name.split()[-1] in family_names():
            yield Span(
                match.start("title") if match.group("title") else match.start("name"),
                match.end("name"),
                "name",
            )


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


# A name split into syllables by OCR, speech-to-text or an elderly hand:
# "สม ศักดิ์ ใจ ดี", short pieces one space apart.
_PIECES = re.compile(
    r"(?<![\u0e01-\u0e4e])[\u0e01-\u0e4e]{1,6}(?:[ \t][\u0e01-\u0e4e]{1,6}){2,7}(?![\u0e01-\u0e4e])"
)
_PIECE = re.compile(r"[\u0e01-\u0e4e]+")


def spaced_names(text: str) -> Iterator[Span]:
    """Find a listed given name and a surname both written in spaced-apart pieces."""
    for run in _PIECES.finditer(text):
        pieces = [(m.start(), m.end(), m.group()) for m in _PIECE.finditer(run.group())]
        i = 0
        while i < len(pieces):
            found = _spaced_pair(pieces, i)
            if found:
                yield Span(run.start() + pieces[i][0], run.start() + pieces[found - 1][1], "name")
                i = found
            else:
                i += 1


def _spaced_pair(pieces: list[tuple[int, int, str]], i: int) -> int:
    """Return the index after a spaced given name and surname starting at ``i``, or 0."""
    for g in (3, 2, 1):
        given = "".join(p[2] for p in pieces[i : i + g])
        if len(pieces) < i + g + 1 or given not in given_names():
            continue
        # The shortest listed surname wins: a spaced sentence goes on after it.
        for f in (1, 2, 3):
            if g + f < 3 or len(pieces) < i + g + f:
                continue
            surname = "".join(p[2] for p in pieces[i + g : i + g + f])
            if surname not in family_names():
                continue
            if given in dictionary() and surname in dictionary():
                continue
            return i + g + f
    return 0


_KIN_GLUED = frozenset({"ลุง", "ป้า", "ยาย", "น้า", "ตา", "ปู่", "ย่า", "พี่", "น้อง", "อา"})
_KIN_HINT = re.compile("|".join(sorted(_KIN_GLUED, key=len, reverse=True)))
_THAI_RUN = re.compile(rf"{_TH}+")
# Shops, estates and places named after someone (ร้านป้าสมศรี, หมู่บ้านลุงชาญ).
_PLACE_WORDS = frozenset(
    {"ร้าน", "หมู่บ้าน", "ตลาด", "บริษัท", "ซอย", "ชุมชน", "วัด", "โรงเรียน", "ห้าง", "หอพัก", "สวน"}
)


def kin_glued_names(text: str) -> Iterator[Span]:
    """Find a kin word and a listed given name glued inside a run of Thai (บอกลุงสมชายด้วย)."""
    names, words_list = given_names(), dictionary()
    seen: set[int] = set()
    for kin in _KIN_HINT.finditer(text):
        # Look for a listed name right after the kin word before tokenising.
        rest = text[kin.end() : kin.end() + 16]
        if not any(
            rest[:n] in names and rest[:n] not in words_list for n in range(2, len(rest) + 1)
        ):
            continue
        run = _THAI_RUN.search(text, max(0, kin.start() - 40))
        while run and run.end() < kin.end():
            run = _THAI_RUN.search(text, run.end())
        if not run or run.start() in seen:
            continue
        seen.add(run.start())
        words = tokens(run.group())
        offset = 0
        for j, word in enumerate(words):
            if word in _KIN_GLUED and not _PLACE_WORDS.intersection(words[:j]):
                given = _given_after(words, j + 1)
                if given:
                    start = run.start() + offset
                    yield Span(start, start + len(word) + len(given), "name")
            offset += len(word)


def _given_after(words: tuple[str, ...], k: int) -> str:
    """Return the listed given name made of the words from ``k``, no ordinary word, or ""."""
    for n in (3, 2, 1):
        given = "".join(words[k : k + n])
        if k + n <= len(words) and given in given_names() and given not in dictionary():
            return given
    return ""
