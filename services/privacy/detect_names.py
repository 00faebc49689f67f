"""Find Thai personal names, titled, introduced by a cue, or paired from the name lists.

A title (นาย, นางสาว, คุณ, ranks, kin words, มิสเตอร์; ``detect_titles``) or a
cue (ชื่อ, ผู้แจ้ง, โทรหา, ติดต่อ, ฝากถึง ...) marks the word after it; after a
weak cue the word must be in PyThaiNLP's bundled given-name or family-name
lists (``detect_lexicon``). A given name and a surname both from those lists
are a name with no cue at all. How far a name runs (surname, nickname in
brackets) is told by ``detect_surnames``; names found by what stands around
them are in ``detect_uncued``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from services.privacy.detect_lexicon import (
    CLAUSE_WORDS,
    CUT_PREFIXES,
    PARTICLES,
    dictionary,
    family_names,
    given_names,
    starts_clause,
    tokens,
)
from services.privacy.detect_span import BLANK, THAI_CHAR, Span
from services.privacy.detect_surnames import (
    NICKNAME,
    SURNAME_RUN,
    leading_name,
    name_end,
    spaced_end,
    surname_end,
    surname_shaped,
)
from services.privacy.detect_titles import (
    GLUE_BEFORE,
    KIN_TITLES,
    LOOSE_TITLES,
    SHORT_KIN,
    TITLE,
    WORD_TITLES,
)

_TH, _SP = THAI_CHAR, BLANK
_RUN = re.compile(rf"{_TH}+")
_GIVEN_RUN = re.compile(rf"{_SP}?({_TH}+)")
# Cues that introduce a name with no title: "ชื่อ", "ชื่อบัญชี", "ผู้ใช้ไฟ:",
# "แจ้งแทน", "ลงชื่อ", "ผู้แจ้ง" ...; the name must then be a known given name
# or carry a surname.
# Verbs and note shorthand that name the person next (โทรหา, ติดต่อ, ฝากถึง,
# ลค. for ลูกค้า, ปลายสาย, a letter's ข้าพเจ้า) are weak cues too.
_INTRODUCED = re.compile(
    # "I" also as the regions say it: ข้อย (Isan), ฉาน (the south), กระผม.
    rf"(?:(?P<self>(?:ผม|กระผม|ดิฉัน|ฉัน|หนู|ข้าพเจ้า|ข้อย|ข่อย|ฉาน){_SP}*ชื่อ|ชื่อเล่น|ชื่อจริง)"
    # A call's transcript: "ผม ธนากร ครับ" (someone naming themself).
    rf"|(?P<me>(?<![\u0e01-\u0e4e])(?:ผม|หนู|ข้อย|ข่อย|ฉาน))"
    # After นามสกุล the word is a surname: listed, or at least not a word.
    rf"|(?P<surname>นามสกุล)"
    rf"|(?:ชื่อ(?:-?นามสกุล|-?สกุล|บัญชี|ผู้ร้อง|ผู้แจ้ง|ผู้ติดต่อ|ลูกค้า)?|นามสกุล|ผู้แจ้ง|ผู้ติดต่อ)"
    rf"{_SP}*:|(?P<weak>ชื่อ(?:-?นามสกุล|บัญชี|ผู้ติดต่อ|ลูกค้า)?|ลงชื่อ|ผู้ใช้ไฟ(?:ฟ้า)?{_SP}*:?"
    rf"|ผู้แจ้ง|ผู้ร้อง{_SP}*:?|ผู้ติดต่อ|แจ้งแทน|ตามที่|ลูกค้าชื่อ|ลูกค้า{_SP}*:"
    rf"|โทรหา|ติดต่อ(?:กับ)?|ฝากถึง|ช่วยบอก|มอบให้|ส่ง(?:ของ|เอกสาร)?ถึง|ลค\.|ปลายสาย"
    rf"|ข้าพเจ้า|ดิฉัน"
    # Who someone is on a form or in a call, apart from the name (not เจ้าของห้องแถว).
    rf"|(?:ผู้โทร|(?:ชื่อ)?ผู้เช่า|เจ้าของ(?:บ้าน|รถ|ร้าน|ห้อง)?|คนขับ(?:ชื่อ)?|ผู้ประสานงาน"
    rf"|ผู้แทน(?:นิติบุคคล)?|ผู้มาติดต่อ|ผู้ยื่น(?:คำร้อง)?|ผู้ขอ|ชำระโดย|ผู้โอน|ผู้รับ)(?={_SP}|:)))"
    # A markdown note may set the name in bold or code: ชื่อ **สมศรี ใจดี**.
    rf"{_SP}*(?:\*\*?|`)?"
)
# Words that may follow "ผมชื่อ" and are not the name.
_NOT_SELF_NAMES = ("เล่น", "จริง", "ว่า", "อะไร", "ไม่")


def titled_names(text: str) -> Iterator[Span]:
    """Find names after a title: นาย, นางสาว, คุณ, ranks, kin words."""
    for match in TITLE.finditer(text):
        title, start = match.group(), match.start()
        head = text[max(0, start - 10) : start]
        glued = bool(head) and not (head[-1] in " \t\n(:\"'/,[*`" or head.endswith(GLUE_BEFORE))
        if glued and not _glued_title(text, match):
            continue
        run = _GIVEN_RUN.match(text, match.end())
        if not run:
            continue
        given = leading_name(run.group(1))
        end = run.start(1) + len(given)
        given, end = spaced_end(text, given, end, given_names())
        if glued and given not in given_names():
            continue
        if title in SHORT_KIN and run.start(1) == match.end() and given in dictionary():
            continue
        if not _plausible_given(title, given):
            # "พี่ต่าย (วันเพ็ญ)": a kin word's unlisted name, vouched for by
            # the listed name in brackets after it.
            nick = NICKNAME.match(text, end)
            if not (len(given) >= 2 and nick and nick.group("nick") in given_names()):
                continue
        yield Span(start, name_end(text, end), "name")


_THAI_BEFORE = re.compile(rf"{_TH}+\Z")


def _glued_title(text: str, match: re.Match[str]) -> bool:
    """Tell whether คุณ/นาย/นาง glued to the word before it still stands apart.

    "ใครรู้จักคุณเพ็ญศรี" splits as ใคร/รู้จัก/คุณ; ขอบคุณ and บุญคุณ are one word.
    """
    if match.group() not in WORD_TITLES:
        return False
    before = _THAI_BEFORE.search(text, max(0, match.start() - 20), match.start())
    return before is not None and tokens(before.group() + match.group())[-1] == match.group()


# An address's label after a title names an office: ผู้ใหญ่บ้านหมู่ที่ 7, กำนันตำบล….
_PLACE_LABELS = ("หมู่", "ตำบล", "อำเภอ", "จังหวัด", "ต.", "อ.", "ม.")


def _plausible_given(title: str, given: str) -> bool:
    if len(given) < 2 or given.startswith(_PLACE_LABELS):
        return False
    if title in LOOSE_TITLES and len(tokens(title + given)[0]) > len(title):
        return False  # fused into one word: ครูใหญ่, พระราม
    if given in given_names():
        return True
    if title in KIN_TITLES:
        return False
    if title in LOOSE_TITLES:
        fused = len(tokens(title + given)[0]) > len(title)
        return not fused and given not in dictionary() and not starts_clause(given)
    # A title fused into an ordinary word: นางฟ้า, คุณภาพ, นายอำเภอ.
    if title in WORD_TITLES and len(tokens(title + given)[0]) > len(title):
        return False
    words = tokens(given)
    return words[0] not in CLAUSE_WORDS and not PARTICLES.intersection(words)


def introduced_names(text: str) -> Iterator[Span]:
    """Find untitled names introduced by a cue: "ผมชื่อ ...", "ชื่อ: ...", "โทรหา ..."."""
    for match in _INTRODUCED.finditer(text):
        run = _RUN.match(text, match.end())
        # Another cue or a title next ("เจ้าของชื่อนาง...") speaks for itself.
        if not run or TITLE.match(run.group()) or run.group().startswith(CUT_PREFIXES):
            continue
        leading = leading_name(run.group())
        # Speech-to-text and faxes space a name apart: บุญ เรือง, ศรี สุข.
        lists = family_names() if match.group("surname") else given_names()
        given, given_end = spaced_end(text, leading, run.start() + len(leading), lists)
        if match.group("self"):
            # Someone giving their own name: even a word (ต้นกล้า, น้ำฝน) is one.
            if len(given) >= 2 and not given.startswith(_NOT_SELF_NAMES):
                yield Span(run.start(), name_end(text, given_end), "name")
            continue
        if match.group("me"):
            # "ผม ธนากร ครับ": a listed name that is not a word, or one the
            # speaker closes with a particle.
            after = text[given_end:].lstrip(" \t")
            if given in given_names() and (
                given not in dictionary() or after.startswith(tuple(PARTICLES))
            ):
                yield Span(run.start(), name_end(text, given_end), "name")
            continue
        if match.group("surname"):
            if given in family_names() or not (given in dictionary() or starts_clause(given)):
                yield Span(run.start(), given_end, "name")
            continue
        weak = match.group("weak")
        if weak and (tokens(given)[0] in CLAUSE_WORDS or given.startswith("ผู้")):
            continue
        end = name_end(text, given_end)
        surname = text[given_end:end].strip()
        # A surname built as surnames are (แก้วดี) vouches for a given name
        # that is also a word (สายสมร).
        shaped = surname_shaped(surname)
        if weak and given in dictionary() and given not in given_names() and not shaped:
            continue
        known = given in given_names() or surname in family_names() or shaped
        # Someone answering with a name and closing it with a particle ("ชื่อ
        # ปริญญ์ ค่ะ") names themself even outside the lists, if it is no word.
        closed = text[end:].lstrip(" \t").startswith(tuple(PARTICLES))
        known = known or (closed and _not_words(given) and not starts_clause(given))
        # After a weak cue (a bare ชื่อ, ผู้แจ้ง ...) only a name from the name
        # lists counts; after "ชื่อ:" any untitled word with a surname does.
        if known or (not weak and end > given_end):
            yield Span(run.start(), end, "name")


def _not_words(given: str) -> bool:
    """Tell whether a word is one or two pieces, not all of them ordinary words."""
    pieces = tokens(given)
    return len(pieces) <= 2 and not all(piece in dictionary() for piece in pieces)


_PAIR = re.compile(rf"(?<![\u0e01-\u0e4e.])({_TH}+){_SP}(?={_TH})")


def paired_names(text: str) -> Iterator[Span]:
    """Find a given name and a surname side by side, with no cue at all.

    Both must come from the bundled name lists, and not both be ordinary
    words, so that two words of a sentence are not taken for a name.
    """
    for match in _PAIR.finditer(text):
        given = _glued_given(match.group(1))
        if not given:
            # Only a listed surname of five letters or more next can vouch
            # for a given name spelt from English: look before tokenising.
            after = SURNAME_RUN.match(text, match.end(1))
            if not after or len(after.group(1)) < 5 or after.group(1) not in family_names():
                continue
        end = surname_end(text, match.end(1))
        surname = text[match.end(1) : end].strip()
        if not given and _transliterated(match.group(1), surname):
            given = match.group(1)
        if not given:
            continue
        if surname not in family_names() and not surname_shaped(surname):
            continue
        if given in dictionary() and surname in dictionary():
            continue
        yield Span(match.end(1) - len(given), name_end(text, match.end(1), end), "name")


_TRANSLITERATED_NOT = frozenset({"ลูกค้า", "คุณ", "บ้าน", "ร้าน", "บริษัท", "ตระกูล", "ครอบครัว"})


def _transliterated(given: str, surname: str) -> bool:
    """Tell whether an unlisted word before a listed surname is a given name spelt from English.

    Thai people with English given names write them in Thai script (แอนนา,
    ไมเคิล, เจสสิก้า): no Thai word and no pieces of words, before a surname
    from the lists that is no word itself.
    """
    if len(given) < 3 or len(surname) < 5 or surname not in family_names():
        return False
    pieces = tokens(given)
    if len(pieces) != 1 or starts_clause(given) or given in _TRANSLITERATED_NOT:
        return False
    return given in dictionary() or surname not in dictionary()


@lru_cache(maxsize=8192)
def _glued_given(run: str) -> str:
    """Return the listed given name ending ``run``, the whole run or glued after ordinary words.

    Thai writes no space between words, so a name may follow a verb or a
    preposition in one run (โทรหาสมชาย ใจดี); the words before it must all
    be ordinary words, and the name itself none.
    """
    if run in given_names():
        return run
    # Look for a listed name at the run's end before tokenising it.
    names, words_list = given_names(), dictionary()
    if not any(
        run[-n:] in names and run[-n:] not in words_list for n in range(3, min(len(run), 16))
    ):
        return ""
    words = tokens(run)
    for cut in range(len(words) - 1, max(0, len(words) - 3), -1):
        given = "".join(words[cut:])
        head = words[:cut]
        if (
            given in given_names()
            and given not in dictionary()
            and all(w in dictionary() and not TITLE.fullmatch(w) for w in head)
        ):
            return given
    return ""
