"""The surname's shape and how far a Thai name runs.

A surname is listed, or built as surnames are from ordinary words joined
into no word of their own (แก้วดี, ศรีประเสริฐ); a name runs on over its
surname, spaced-apart parts (แก้ว ประเสริฐ), a surname's initial and a
nickname in brackets (``name_end``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.privacy.detect_lexicon import (
    BREAKERS,
    CLAUSE_WORDS,
    CUT_PREFIXES,
    dictionary,
    family_names,
    given_names,
    starts_clause,
    tokens,
)
from services.privacy.detect_span import BLANK, THAI_CHAR
from services.privacy.detect_titles import TITLE

_TH, _SP = THAI_CHAR, BLANK


# A surname may begin with a word that opens a clause when an auspicious
# word follows it, as Thai surnames do (มีทรัพย์, มีสุข).
_SURNAME_OPENERS = frozenset({"มี", "ได้", "ให้"})
_SURNAME_MORPHEMES = frozenset(
    {"ทรัพย์", "สุข", "ชัย", "โชค", "บุญ", "ลาภ", "ศรี", "เงิน", "ทอง", "ผล", "สิน", "มั่ง", "แก้ว", "ธรรม"}
)
# More words Thai surnames are built from: two or three of them joined into no
# word of their own make a surname (แก้วดี, ศรีประเสริฐ, ทองอินทร์).
_SURNAME_PARTS = _SURNAME_MORPHEMES | frozenset(
    {
        "ดี",
        "งาม",
        "มณี",
        "รัตน์",
        "รัตน",
        "วงศ์",
        "วงษ์",
        "สกุล",
        "กุล",
        "เจริญ",
        "ประเสริฐ",
        "สวัสดิ์",
        "พันธ์",
        "พันธุ์",
        "ศักดิ์",
        "มั่น",
        "คง",
        "ยืน",
        "อินทร์",
        "จันทร์",
        "พร",
        "เพชร",
        "สมบูรณ์",
        "ไพบูลย์",
        "วัฒน์",
        "วัฒนา",
        "เรือง",
        "รุ่ง",
        "แสง",
        "ใจ",
        "พงษ์",
        "พงศ์",
        "สมบัติ",
        "มงคล",
        "บุญมา",
        "ประสิทธิ์",
        "นาค",
        "เกษม",
        "สันต์",
        "ปัญญา",
    }
)
# What a bracket after a name holds when it is not a nickname: a relation or a role.
NOT_NICKNAMES = frozenset(
    {
        "ภรรยา",
        "สามี",
        "ลูก",
        "ลูกสาว",
        "ลูกชาย",
        "ลูกเขย",
        "ลูกสะใภ้",
        "หลาน",
        "เพื่อน",
        "แฟน",
        "บุตร",
        "บุตรสาว",
        "บุตรชาย",
        "ผู้เช่า",
        "ช่าง",
        "แทน",
        "ตาย",
        *CLAUSE_WORDS,
    }
)
NICKNAME = re.compile(
    rf"{_SP}*\((?:ป้า|ลุง|น้า|พี่|น้อง|ยาย|ตา)?(?P<nick>{_TH}+|[A-Z][A-Za-zÀ-ÿ'-]+(?:{_SP}[A-Z][A-Za-zÀ-ÿ'-]+){{0,2}})\)"
)
_RUN = re.compile(rf"{_TH}+")
# Not the abbreviated markers of an address (อ. จ. ต. ม. ซ. ถ. บ. 12).
_INITIAL = re.compile(r"[ \t](?![อจตมซถบ])[ก-ฮ]\.(?![\u0e01-\u0e4e]|[ \t]*[0-9๐-๙])")
SURNAME_RUN = re.compile(rf"{_SP}({_TH}+)")


def surname_shaped(word: str) -> bool:
    """Tell whether a Thai word is built as surnames are: ordinary words joined, no word itself."""
    if len(word) < 4 or word in dictionary() or not _RUN.fullmatch(word) or TITLE.match(word):
        return False
    return _compound(word, 3) and not starts_clause(word)


@lru_cache(maxsize=4096)
def _compound(word: str, parts: int) -> bool:
    """Tell whether ``word`` splits into at most ``parts`` words, one of them a surname part."""
    # Split by hand: the tokeniser reads แก้วดี as แก้ + วดี.
    words = dictionary()
    for cut in range(2, len(word) - 1):
        head, tail = word[:cut], word[cut:]
        if head not in words:
            continue
        if tail in words and (head in _SURNAME_PARTS or tail in _SURNAME_PARTS):
            return True
        if parts > 2 and head in _SURNAME_PARTS and _compound(tail, parts - 1):
            return True
    return False


def leading_name(run: str) -> str:
    """Cut a run of Thai letters where glued context words begin."""
    kept = ""
    for token in tokens(run):
        if kept and token.startswith(CUT_PREFIXES):
            break
        kept += token
    return kept


def spaced_end(text: str, word: str, end: int, names: frozenset[str]) -> tuple[str, int]:
    """Join a name spaced apart ("บุญ เรือง", "แก้ว ประเสริฐ") while the joined word is listed."""
    for _ in range(2):
        run = SURNAME_RUN.match(text, end)
        if not run or word + run.group(1) not in names:
            break
        word, end = word + run.group(1), run.end(1)
    return word, end


def surname_end(text: str, pos: int) -> int:
    """Extend a name over a following surname, if one is there."""
    run = SURNAME_RUN.match(text, pos)
    if not run or TITLE.fullmatch(run.group(1)):
        return pos
    surname = leading_name(run.group(1))
    if len(surname) < 2 or surname.startswith(CUT_PREFIXES):
        return pos
    # A surname is listed, or at least neither opens a clause nor holds a
    # word that only a sentence has (ไม่, จะ, แล้ว, particles).
    words = tokens(surname)
    auspicious = len(words) == 2 and words[0] in _SURNAME_OPENERS and words[1] in _SURNAME_MORPHEMES
    if (
        surname not in family_names()
        and not auspicious
        and (words[0] in CLAUSE_WORDS or BREAKERS.intersection(words))
    ):
        return pos
    # An elderly hand or a fax spaces a surname's parts apart: แก้ว ประเสริฐ.
    return spaced_end(text, surname, run.start(1) + len(surname), family_names())[1]


def name_end(text: str, pos: int, end: int | None = None) -> int:
    """Extend a given name over its surname and a nickname in brackets, either order.

    ``end``, if given, is where the surname already found ends.
    """
    end = surname_end(text, pos) if end is None else end
    if end == pos and (initial := _INITIAL.match(text, end)):
        end = initial.end()  # a slip's surname cut to its initial: วีรยุทธ ส.
    nick = NICKNAME.match(text, end)
    if not nick or not _is_nickname(nick.group("nick")):
        return end
    return surname_end(text, nick.end()) if end == pos else nick.end()


def _is_nickname(word: str) -> bool:
    if word[0].isascii():
        return True  # the name again in Latin letters: (Anna Müller)
    if word in given_names():
        return True
    return word not in NOT_NICKNAMES and len(tokens(word)) == 1 and len(word) <= 6
