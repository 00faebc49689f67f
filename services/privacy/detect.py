"""Find personal data in Thai free text.

Pure functions, no I/O. Offsets are into the text as given; callers pass NFC
text (``masking.mask`` does). Each finder yields candidate spans and
``detect`` keeps the longest where candidates overlap. Look-alikes (meter,
contract-account and order numbers, amounts, dates, hotlines, 13-digit
numbers failing the ID checksum, company tax ids) are rejected by the
validity rules of each kind rather than by a list of exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pythainlp.corpus import (
    provinces,
    thai_family_names,
    thai_female_names,
    thai_male_names,
    thai_words,
)
from pythainlp.tokenize import word_tokenize

Kind = Literal[
    "national_id", "phone", "email", "line_id", "bank_account", "card", "name", "address"
]


@dataclass(frozen=True, order=True)
class Span:
    """Mark a run of personal data by character offsets and kind."""

    start: int
    end: int
    kind: Kind


def detect(text: str, *, known_names: Sequence[str] = ()) -> list[Span]:
    """Return the non-overlapping personal-data spans of ``text``, in order."""
    candidates = [
        *_numbers(text),
        *_emails(text),
        *_line_ids(text),
        *_addresses(text),
        *_titled_names(text),
        *_introduced_names(text),
        *_english_names(text),
        *_known_names(text, known_names),
    ]
    return _resolve(candidates)


def _resolve(candidates: list[Span]) -> list[Span]:
    # The longest candidate wins an overlap: a phone inside an address or a
    # name inside a longer name is covered either way.
    kept: list[Span] = []
    for span in sorted(candidates, key=lambda s: (s.start - s.end, s.start)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept)


# --- numbers: national ids, cards, bank accounts, phones --------------------

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_D = "[0-9๐-๙]"
_NUMBER = re.compile(
    rf"(?P<cc>\(\+66\)[ \t]?|(?:\+|00)66[ \t-]?(?:\(0\)[ \t]?)?)?"
    rf"(?P<body>(?:\((?=[0๐]{_D}{{0,2}}\)))?{_D}+(?:(?:-\n|\)[ \t]?|[ .\n-]){_D}+)*)"
)
_GROUP_SEP = re.compile(r"(-\n|\)[ \t]?|[ .\n-])")
# A number glued to letters, a slash or a comma belongs to an order number,
# a date, a pole number or an amount.
_GLUED_BEFORE = re.compile(r"[A-Za-z/,_@-]")
_GLUED_AFTER = re.compile(r"[A-Za-z/_@]|,[0-9]")
_PHONE = re.compile(r"0[689]\d{8}|0[2-57]\d{7}")
_CARD = re.compile(
    r"4\d{12}(?:\d{3}){0,2}|5[1-5]\d{14}|2[2-7]\d{14}|3[47]\d{13}|35\d{14,17}"
    r"|3(?:0[0-5]|[68]\d)\d{11,13}|6(?:011|5\d\d|4[4-9]\d|2\d\d)\d{12,15}"
)
_CARD_CUE = re.compile(r"บัตรเครดิต|บัตรเดบิต|credit|debit|card|visa", re.I)
_BANK_NAMES = (
    "กสิกร", "กรุงไทย", "ไทยพาณิชย์", "กรุงศรี", "ออมสิน", "ธกส", "ธ.ก.ส.",
    "ทหารไทย", "ธนชาต", "ทีทีบี", "ยูโอบี", "ซีไอเอ็มบี", "เกียรตินาคิน", "แลนด์ แอนด์ เฮ้าส์",
    "อาคารสงเคราะห์", "ธอส", "อิสลาม", "ทิสโก้", "kbank", "kasikorn", "krungthai", "ktb",
    "scb", "bbl", "krungsri", "gsb", "baac", "ttb", "uob", "cimb",
)
_BANK_CUE = re.compile(
    r"บัญชี(?!แสดงสัญญา)|ธนาคาร|ธ\.|bank|account|a/c|"
    + "|".join(re.escape(name) for name in _BANK_NAMES)
    # Bangkok Bank, not the city (กรุงเทพฯ, กรุงเทพมหานคร).
    + r"|กรุงเทพ(?!ฯ|มหานคร)",
    re.I,
)
# Cues that a nearby number is something else: a phone, or a contract-account
# or meter number (บัญชีแสดงสัญญา holds the word บัญชี, account).
_PHONE_CUE = re.compile(
    r"โทร|เบอร์|ติดต่อ|มือถือ|tel|phone|mobile|(?<![A-Za-z])CA(?![A-Za-z])|บัญชีแสดงสัญญา"
    r"|มิเตอร์|meter",
    re.I,
)
_CONTEXT_WIDTH = 40
_MAX_DIGITS = 19


def _numbers(text: str) -> Iterator[Span]:
    for match in _NUMBER.finditer(text):
        start, end = match.span()
        if start and _GLUED_BEFORE.match(text[start - 1]):
            continue
        if _GLUED_AFTER.match(text, end):
            continue
        yield from _classify_groups(text, match)


# A number run cut at whitespace: start, end and the lengths of its groups.
_Atom = tuple[int, int, list[int]]


def _classify_groups(text: str, match: re.Match[str]) -> Iterator[Span]:
    """Classify the longest sub-runs of a number run that make a valid number."""
    atoms = _atoms(match)
    taken: list[tuple[int, int]] = []
    for first, stop in _sub_runs(atoms):
        if any(first < hi and lo < stop for lo, hi in taken):
            continue
        start, end = atoms[first][0], atoms[stop - 1][1]
        lengths = [n for atom in atoms[first:stop] for n in atom[2]]
        has_cc = first == 0 and match.group("cc") is not None
        kind = _classify(text, start, end, lengths, has_cc=has_cc)
        if kind:
            taken.append((first, stop))
            yield Span(match.start() if has_cc else start, end, kind)


def _atoms(match: re.Match[str]) -> list[_Atom]:
    # Dashes and dots hold digit groups together; at whitespace two unrelated
    # numbers may sit side by side, so a run may be cut only there.
    pieces = _GROUP_SEP.split(match.group("body"))
    atoms: list[_Atom] = []
    offset = match.start("body")
    for i in range(0, len(pieces), 2):
        group, sep = pieces[i], pieces[i + 1] if i + 1 < len(pieces) else ""
        if atoms and pieces[i - 1] not in (" ", "\n"):
            atom_start, _, lengths = atoms[-1]
            atoms[-1] = (atom_start, offset + len(group), [*lengths, len(group)])
        else:
            atoms.append((offset, offset + len(group), [len(group)]))
        offset += len(group) + len(sep)
    return atoms


def _sub_runs(atoms: list[_Atom]) -> list[tuple[int, int]]:
    """List runs of consecutive atoms short enough to be one number, longest first."""
    runs = []
    for first in range(len(atoms)):
        width = 0
        for stop in range(first + 1, len(atoms) + 1):
            width += sum(atoms[stop - 1][2])
            if width > _MAX_DIGITS:
                break
            runs.append((first, stop))
    return sorted(runs, key=lambda run: (run[0] - run[1], run[0]))


def _classify(text: str, start: int, end: int, lengths: list[int], *, has_cc: bool) -> Kind | None:
    digits = re.sub(r"\D", "", text[start:end].translate(_THAI_DIGITS))
    before = text[max(0, start - _CONTEXT_WIDTH) : start]
    if has_cc:
        national = digits if digits.startswith("0") else "0" + digits
        return "phone" if _PHONE.fullmatch(national) else None
    if len(digits) == 13 and is_national_id(digits):
        return "national_id"
    if _is_card(digits, before):
        return "card"
    if len(digits) == 10 and (lengths == [3, 1, 5, 1] or _bank_cue_is_nearest(before)):
        return "bank_account"
    # Savings-bank and agricultural-bank accounts run to 12 digits; a
    # contract-account number has as many, so only a bank word decides.
    if len(digits) in (11, 12) and _bank_cue_is_nearest(before):
        return "bank_account"
    return "phone" if _PHONE.fullmatch(digits) else None


def is_national_id(digits: str) -> bool:
    """Tell whether 13 ASCII digits form a valid Thai personal ID number."""
    if not re.fullmatch(r"[1-8]\d{12}", digits):
        return False
    total = sum(int(d) * (13 - i) for i, d in enumerate(digits[:12]))
    return (11 - total % 11) % 10 == int(digits[12])


def _is_card(digits: str, before: str) -> bool:
    if not _CARD.fullmatch(digits) or not _luhn_ok(digits):
        return False
    # Thirteen-digit Visa numbers are rare, and 13 digits is also an ID typo.
    return len(digits) > 13 or bool(_CARD_CUE.search(before))


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _bank_cue_is_nearest(before: str) -> bool:
    bank = [m.end() for m in _BANK_CUE.finditer(before)]
    phone = [m.end() for m in _PHONE_CUE.finditer(before)]
    return bool(bank) and max(bank) > max(phone, default=-1)


# --- emails and LINE ids -----------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_LINE_WORD = r"(?:ไลน์|(?<![A-Za-z])line(?![A-Za-z]))"
_ID_WORD = r"(?:ไอดี|(?<![A-Za-z])id(?![A-Za-z]))"
_HANDLE = r"@?[A-Za-z0-9][A-Za-z0-9._-]*"
_LINE_ID = re.compile(
    rf"(?P<cue>(?:{_ID_WORD}[ \t]*)?{_LINE_WORD}(?:[ \t]*{_ID_WORD})?(?:[ \t]*(?:is|คือ|:))?)"
    rf"(?P<filler>[ \t:\u0e01-\u0e4e]{{0,24}}?)(?P<id>{_HANDLE})",
    re.I,
)
_ID_CUE = re.compile(rf"{_ID_WORD}|:|คือ", re.I)
_AT_HANDLE = re.compile(r"(?<![A-Za-z0-9._%+-])@[A-Za-z0-9][A-Za-z0-9._-]*")
_LINE_CUE = re.compile(_LINE_WORD, re.I)
_NOT_HANDLES = frozenset({"is", "official", "account", "app", "chat", "group", "oa", "pay"})


def _emails(text: str) -> Iterator[Span]:
    for match in _EMAIL.finditer(text):
        yield Span(match.start(), match.end(), "email")


def _line_ids(text: str) -> Iterator[Span]:
    for match in _LINE_ID.finditer(text):
        # Past a few Thai words, only an explicit "id" or colon still ties the
        # token to LINE ("ผ่าน LINE หรือ SMS" names no account).
        loose = match.group("filler").strip() and not match.group("id").startswith("@")
        if loose and not _ID_CUE.search(match.group("cue") + match.group("filler")):
            continue
        span = _handle_span(text, match.start("id"), match.end("id"))
        if span:
            yield span
    for match in _AT_HANDLE.finditer(text):
        if _LINE_CUE.search(text, max(0, match.start() - _CONTEXT_WIDTH), match.start()):
            span = _handle_span(text, match.start(), match.end())
            if span:
                yield span


def _handle_span(text: str, start: int, end: int) -> Span | None:
    # A sentence may end right after the id, so trailing dots are punctuation.
    handle = text[start:end].rstrip("._-")
    if text[start + len(handle) : start + len(handle) + 1] == "@":
        return None
    bare = handle.lstrip("@")
    if not re.search("[A-Za-z]", bare) or bare.lower() in _NOT_HANDLES or len(bare) < 3:
        return None
    if bare.isalpha() and bare.isupper():
        return None  # an acronym such as SMS or OTP
    return Span(start, start + len(handle), "line_id")


# --- addresses ---------------------------------------------------------------

_TH = "[\u0e01-\u0e4e]"
_SP = "[ \t]"
_HOUSE = rf"{_D}+(?:/{_D}+)?"
# A place name runs to a space or, in faxed text without spaces, to the next
# abbreviated marker (อ. จ. ต. ...) or the postcode.
_PLACE = rf"{_TH}+?(?=[อจตถซม]\.|{_D}|[\s,()]|\Z)"
_EN_PLACE = r"[A-Z][a-z]+(?: [A-Z][a-z]+)*"
_COMPONENTS = (
    rf"หมู่บ้าน{_SP}*{_PLACE}(?:{_SP}{_D}+)?",
    rf"(?:หมู่(?:ที่)?|ม\.){_SP}*{_D}+",
    rf"(?:ซอย|ซ\.){_SP}*(?:{_PLACE}(?:{_SP}{_HOUSE})?|{_HOUSE})",
    rf"(?:ถนน|ถ\.){_SP}*{_PLACE}(?:{_SP}{_D}{{1,3}}(?!{_D}))?",
    rf"(?:ตำบล|แขวง|ต\.|อำเภอ|เขต|อ\.|จังหวัด|จ\.){_SP}*{_PLACE}",
    r"กรุงเทพฯ|กทม\.",
    rf"{_D}{{5}}(?!{_D})",
    r"Moo\.?[ \t]*\d+",
    rf"(?:[TA]\.|Tambon|Amphoe|Khet|Khwaeng|Soi|soi)[ \t]*{_EN_PLACE}(?:[ \t]+\d+)?",
    # Inside an address, a capitalised place name closed by a comma (district,
    # sub-district in English).
    rf"{_EN_PLACE}(?=,)",
    rf"{_EN_PLACE} Road",
    rf"{_EN_PLACE}[ \t]+\d{{5}}(?!\d)",
)


@cache
def _component() -> re.Pattern[str]:
    """Compile the address components, with province names written bare."""
    names = sorted((str(p) for p in provinces()), key=len, reverse=True)
    return re.compile("|".join([*_COMPONENTS, *map(re.escape, names)]))


_COMPONENT_SEP = re.compile(r"[ \t]*,?[ \t]*")
# A house number is labelled "บ้านเลขที่" or "เลขที่", or bare and followed by
# at least two components; how many components each anchor needs:
_ANCHORS = (
    (re.compile(rf"บ้านเลขที่{_SP}*{_HOUSE}"), 0),
    (re.compile(rf"(?<!บ้าน)เลขที่{_SP}*{_HOUSE}"), 1),
    (re.compile(rf"(?<![0-9๐-๙/.,A-Za-z-]){_HOUSE}"), 2),
)
# A number right after หมู่/ซอย is that component's value, not a house number.
_COMPONENT_VALUE = re.compile(r"(?:หมู่(?:ที่)?|ม\.|ซอย|ซ\.|Moo|เลขที่)[ \t]*\Z")


def _addresses(text: str) -> Iterator[Span]:
    for anchor, needed in _ANCHORS:
        for match in anchor.finditer(text):
            if _COMPONENT_VALUE.search(text, max(0, match.start() - 10), match.start()):
                continue
            end, count = _extend_address(text, match.end())
            if count >= needed:
                yield Span(match.start(), end, "address")


def _extend_address(text: str, pos: int) -> tuple[int, int]:
    """Consume address components after ``pos``; return the end and how many."""
    count = 0
    while True:
        sep = _COMPONENT_SEP.match(text, pos)
        component = _component().match(text, sep.end()) if sep else None
        if not component or component.end() == component.start():
            return pos, count
        pos, count = component.end(), count + 1


# --- names ---------------------------------------------------------------------

# Police and military ranks (ร.ต.อ., พ.ต.ท., พล.ต.ต., จ.ส.ต., ด.ต. ...) are titles too.
_RANK = r"(?:พล\.?)?[รพจสด]\.(?:[ตอทสพ]\.){1,2}"
_TITLE = re.compile(
    rf"{_RANK}|นางสาว|น\.ส\.|นาง|นาย|ด\.ช\.|ด\.ญ\.|เด็กชาย|เด็กหญิง|คุณ|ดร\.|ลุง|ป้า|ยาย|น้า"
    r"|พี่|แม่|พ่อ"
)
_KIN_TITLES = frozenset({"ลุง", "ป้า", "ยาย", "น้า", "พี่", "แม่", "พ่อ"})
_WORD_TITLES = frozenset({"นางสาว", "นาง", "นาย", "คุณ"})
# Words a title may be glued to in running Thai ("ข้าพเจ้านายทองดี").
_GLUE_BEFORE = (
    "ชื่อ", "ข้าพเจ้า", "ติดต่อ", "ลค.", "ลูกค้า", "ผู้แจ้ง", "ผู้ขอ", "ผู้ร้อง", "ผู้ติดต่อ",
    "ผู้รับ", "ผู้ยื่น", "จาก", "คือ", "และ", "กับ", "ของ", "ถึง", "เรียน", "แทน", "ให้",
)
# Cues that introduce a name with no title: "ชื่อ", "ชื่อบัญชี", "ผู้ใช้ไฟ:",
# "แจ้งแทน", "ลงชื่อ", "ผู้แจ้ง" ...; the name must then be a known given name
# or carry a surname.
_INTRODUCED = re.compile(
    rf"(?:(?:ผม|ดิฉัน|ฉัน|หนู|ข้าพเจ้า)ชื่อ|ชื่อ(?:-?นามสกุล|บัญชี|ผู้ร้อง|ผู้แจ้ง|ผู้ติดต่อ|ลูกค้า)?"
    rf"{_SP}*:|(?P<weak>ชื่อ(?:-?นามสกุล|บัญชี|ผู้ติดต่อ|ลูกค้า)?|ลงชื่อ|ผู้ใช้ไฟ(?:ฟ้า)?{_SP}*:?"
    rf"|ผู้แจ้ง|ผู้ร้อง{_SP}*:?|ผู้ติดต่อ|แจ้งแทน|ตามที่|ลูกค้าชื่อ))"
    rf"{_SP}*"
)
_PARTICLES = frozenset({"ค่ะ", "คะ", "ครับ", "นะ", "จ้ะ", "จ้า", "ฮะ"})
# Tokens that start a new clause: after a title they mean "you"/"Mr" was not
# followed by a name, after a given name they are not a surname.
_CLAUSE_WORDS = frozenset(
    {
        "ภาพ", "ค่า", "พี่", "น้อง", "พ่อ", "แม่", "ตา", "ยาย", "ลุง", "ป้า",
        "พนักงาน", "ลูกค้า", "เจ้าหน้าที่", "ช่าง", "หมอ", "ครู", "ของ", "แจ้ง", "โทร", "ขอ",
        "ไม่", "ได้", "มา", "ไป", "ให้", "ว่า", "ที่", "จะ", "ยัง", "เป็น",
        "มี", "ก็", "ต้อง", "ช่วย", "ทำ", "บอก", "และ", "หรือ", "กับ", "ซึ่ง",
        "โดย", "อายุ", "ฝ่าย", "ใช้", "อยู่", "เคย", "ติดต่อ", "ผู้", "คน", "ด้วย",
    }
)
_CUT_PREFIXES = ("เลข", "บัตร", "โทร", "เบอร์", *_PARTICLES)
_RUN = re.compile(rf"{_TH}+")
_GIVEN_RUN = re.compile(rf"{_SP}?({_TH}+)")
_SURNAME_RUN = re.compile(rf"{_SP}({_TH}+)")


@cache
def _given_names() -> frozenset[str]:
    return frozenset(thai_female_names()) | frozenset(thai_male_names())


@cache
def _family_names() -> frozenset[str]:
    return frozenset(thai_family_names())


@cache
def _dictionary() -> frozenset[str]:
    return frozenset(thai_words())


def _tokens(text: str) -> list[str]:
    return [str(t) for t in word_tokenize(text, engine="newmm", keep_whitespace=False)]


def _leading_name(run: str) -> str:
    """Cut a run of Thai letters where glued context words begin."""
    kept = ""
    for token in _tokens(run):
        if kept and token.startswith(_CUT_PREFIXES):
            break
        kept += token
    return kept


def _titled_names(text: str) -> Iterator[Span]:
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
        yield Span(start, _surname_end(text, end), "name")


def _plausible_given(title: str, given: str) -> bool:
    if len(given) < 2:
        return False
    if given in _given_names():
        return True
    if title in _KIN_TITLES:
        return False
    # A title fused into an ordinary word: นางฟ้า, คุณภาพ, นายอำเภอ.
    if title in _WORD_TITLES and len(_tokens(title + given)[0]) > len(title):
        return False
    tokens = _tokens(given)
    return tokens[0] not in _CLAUSE_WORDS and not _PARTICLES.intersection(tokens)


def _surname_end(text: str, pos: int) -> int:
    """Extend a name over a following surname, if one is there."""
    run = _SURNAME_RUN.match(text, pos)
    if not run or _TITLE.fullmatch(run.group(1)):
        return pos
    surname = _leading_name(run.group(1))
    if len(surname) < 2:
        return pos
    if surname not in _family_names() and _tokens(surname)[0] in _CLAUSE_WORDS | _PARTICLES:
        return pos
    return run.start(1) + len(surname)


def _introduced_names(text: str) -> Iterator[Span]:
    """Find untitled names introduced as "ผมชื่อ ..." with a surname."""
    for match in _INTRODUCED.finditer(text):
        run = _RUN.match(text, match.end())
        if not run or _TITLE.match(run.group()):
            continue
        given = _leading_name(run.group())
        if given in _dictionary() and given not in _given_names():
            continue
        end = _surname_end(text, run.start() + len(given))
        surname = text[run.start() + len(given) : end].strip()
        known = given in _given_names() or surname in _family_names()
        # After a weak cue (a bare ชื่อ, ผู้แจ้ง ...) only a name from the name
        # lists counts; after "ชื่อ:" any untitled word with a surname does.
        if known or (not match.group("weak") and end > run.start() + len(given)):
            yield Span(run.start(), end, "name")


_EN_WORD = r"[A-Z][a-z'-]+"
_EN_NAME = rf"{_EN_WORD}(?:[ \t]{_EN_WORD}){{1,2}}"
_EN_NAME_PATTERNS = (
    re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?[ \t]+{_EN_WORD}(?:[ \t]{_EN_WORD}){{0,2}}"),
    re.compile(
        rf"(?:\bI'm|\bI am|\b[Mm]y name is|\b[Tt]his is|\b[Nn]ame:?|\b[Cc]ustomer|\b[Cc]ontact"
        rf"|\bCheers,|\bRegards,|(?<!\S)-)"
        rf"[ \t]+(?P<name>{_EN_NAME})"
    ),
    # A name written just before its phone number or email address.
    re.compile(rf"(?P<name>{_EN_NAME})(?=,?[ \t]*[(/]?[ \t]*(?:\+66|\(\+66|0\d|[\w.+-]+@))"),
)


# Capitalised words that label a service or a greeting, not a person.
_NOT_EN_NAMES = frozenset(
    {
        "Call", "Center", "Centre", "Contact", "Customer", "Service", "Services", "Team",
        "Office", "Branch", "Support", "Hotline", "Phone", "Mobile", "Tel", "Email", "Line",
        "Fax", "Dear", "Sir", "Madam", "Hello", "Thanks", "Thank", "Please", "Order", "Tax",
        "Invoice", "Subject", "Company", "Station", "Manager", "Department",
    }
)


def _english_names(text: str) -> Iterator[Span]:
    for pattern in _EN_NAME_PATTERNS:
        for match in pattern.finditer(text):
            group = "name" if "name" in pattern.groupindex else 0
            if not _NOT_EN_NAMES.intersection(match.group(group).split()):
                yield Span(match.start(group), match.end(group), "name")


def _known_names(text: str, known_names: Sequence[str]) -> Iterator[Span]:
    """Find the customer's own names, whole or by parts that are not words."""
    for full in known_names:
        parts = full.split()
        if not parts:
            continue
        patterns = [r"\s+".join(map(re.escape, parts))]
        patterns += [re.escape(p) for p in parts if len(p) >= 3 and p not in _dictionary()]
        for pattern in patterns:
            if pattern.isascii():
                pattern = rf"\b{pattern}\b"
            for match in re.finditer(pattern, text, re.I):
                yield Span(match.start(), match.end(), "name")
