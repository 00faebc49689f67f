"""Find personal data in Thai free text.

Pure functions, no I/O. Offsets are into the text as given; callers pass NFC
text (``masking.mask`` does). The finders search a copy repaired of OCR and
fax damage (``detect_normalise``) and their spans are mapped back. Each
finder yields candidate spans and ``detect`` keeps the longest where
candidates overlap. Look-alikes (meter, contract-account and order numbers,
amounts, dates, hotlines, 13-digit numbers failing the ID checksum, company
tax ids) are rejected by the validity rules of each kind rather than by a
list of exceptions. Numbers (also a loyalty card's, which names one person),
passports, emails and LINE ids are found here; addresses in
``detect_addresses``, names in ``detect_names``, ``detect_fields``,
``detect_cued`` (turns of a conversation, romanised names) and
``detect_tables`` (pasted CSV, TSV and sheet rows).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from services.privacy.detect_addresses import addresses
from services.privacy.detect_cued import (
    answered_names,
    chat_senders,
    romanised_cued_names,
    romanised_names,
    transfer_names,
)
from services.privacy.detect_fields import (
    device_signers,
    english_names,
    field_names,
    signed_names,
)
from services.privacy.detect_names import (
    bracketed_names,
    foreign_names,
    introduced_names,
    kin_glued_names,
    paired_names,
    spaced_names,
    standalone_names,
    titled_names,
)
from services.privacy.detect_names import (
    known_names as _known_names,
)
from services.privacy.detect_normalise import repair
from services.privacy.detect_span import Kind, Span
from services.privacy.detect_tables import table_names

__all__ = ["Kind", "Span", "detect", "is_national_id"]


def detect(text: str, *, known_names: Sequence[str] = ()) -> list[Span]:
    """Return the non-overlapping personal-data spans of ``text``, in order."""
    repaired = repair(text)
    searched = repaired.text
    numbers = list(_numbers(searched))
    candidates = [
        *numbers,
        *_passports(searched),
        *_masked_numbers(searched),
        *_emails(searched),
        *_line_ids(searched),
        *addresses(searched),
        *titled_names(searched),
        *introduced_names(searched),
        *paired_names(searched),
        *spaced_names(searched),
        *kin_glued_names(searched),
        *foreign_names(searched),
        *standalone_names(searched, [n for n in numbers if n.kind == "phone"]),
        *english_names(searched),
        *field_names(searched),
        *signed_names(searched),
        *device_signers(searched),
        *bracketed_names(searched, numbers),
        *transfer_names(searched),
        *answered_names(searched),
        *chat_senders(searched),
        *romanised_names(searched),
        *romanised_cued_names(searched),
        *table_names(searched),
        *_known_names(searched, known_names),
    ]
    spans = []
    for span in _resolve(_with_initials(searched, candidates)):
        start, end = repaired.span(span.start, span.end)
        spans.append(Span(start, end, span.kind))
    return spans


# A name in Latin letters whose surname is cut to its initial, as slips and
# forms print it: "MISS WARAPORN T", "Kanya S.".
_LATIN_INITIAL = re.compile(r"[ \t]+[A-Z]\.?(?![A-Za-z0-9])")


def _with_initials(text: str, candidates: list[Span]) -> list[Span]:
    out = []
    for span in candidates:
        if span.kind == "name" and text[span.end - 1 : span.end].isascii():
            initial = _LATIN_INITIAL.match(text, span.end)
            if initial and text[span.end - 1].isalpha():
                span = Span(span.start, initial.end(), "name")
        out.append(span)
    return out


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
# A dash with spaces around it ("086 - 123 - 4567") still joins two groups.
_SEP = r"-\n|[ \t]+-[ \t]*|-[ \t]+|\)[ \t]?|[ .\n-]"
_NUMBER = re.compile(
    rf"(?:(?P<cc>\(\+66\)[ \t]?|(?:\+|00)66[ \t.-]?(?:\(0\)[ \t]?)?)"
    rf"|(?P<foreign>\+(?!66)[1-9][0-9]{{0,2}}[ \t.-]?))?"
    rf"(?P<body>(?:\((?=[0๐]{_D}{{0,2}}\)))?{_D}+(?:(?:{_SEP}){_D}+)*)"
)
_GROUP_SEP = re.compile(rf"({_SEP})")
# A number glued to letters, a slash or a comma belongs to an order number,
# a date, a pole number or an amount; a comma between a CSV row's cells
# (a letter or quote before it, no group of three digits after it) does not.
_GLUED_BEFORE = re.compile(r"[A-Za-z/_@-]|(?<=[0-9๐-๙]),")
# ... unless the cell before ends a handle or a word in digits (preecha1988,08…).
_HANDLE_CELL = re.compile(r"[A-Za-z_.][0-9]+,\Z")
_GLUED_AFTER = re.compile(r"[A-Za-z/_@]|,[0-9]{3}(?![0-9])")
_PHONE = re.compile(r"0[689]\d{8}|0[2-57]\d{7}")
_CARD = re.compile(
    r"4\d{12}(?:\d{3}){0,2}|5[1-5]\d{14}|2[2-7]\d{14}|3[47]\d{13}|35\d{14,17}"
    r"|3(?:0[0-5]|[68]\d)\d{11,13}|6(?:011|5\d\d|4[4-9]\d|2\d\d)\d{12,15}"
)
_CARD_CUE = re.compile(r"บัตรเครดิต|บัตรเดบิต|credit|debit|card|visa", re.I)
_BANK_NAMES = (
    "กสิกร",
    "กรุงไทย",
    "ไทยพาณิชย์",
    "กรุงศรี",
    "ออมสิน",
    "ธกส",
    "ธ.ก.ส.",
    "ทหารไทย",
    "ธนชาต",
    "ทีทีบี",
    "ยูโอบี",
    "ซีไอเอ็มบี",
    "เกียรตินาคิน",
    "แลนด์ แอนด์ เฮ้าส์",
    "อาคารสงเคราะห์",
    "ธอส",
    "อิสลาม",
    "ทิสโก้",
    "kbank",
    "kasikorn",
    "krungthai",
    "ktb",
    "scb",
    "bbl",
    "krungsri",
    "gsb",
    "baac",
    "ttb",
    "uob",
    "cimb",
    "แลนด์แอนด์เฮ้าส์",
    "แลนด์ แอนด์ เฮาส์",
    "แลนด์แอนด์เฮาส์",
    "ไอซีบีซี",
    "ไทยเครดิต",
    "ซิตี้แบงก์",
    "lh bank",
    "lhbank",
    "lhb",
    "kkp",
    "kiatnakin",
    "tisco",
    "icbc",
    "ghb",
    "citibank",
    "tmb",
    "thanachart",
    "ibank",
)
_BANK_CUE = re.compile(
    r"บัญชี(?!แสดงสัญญา)|ธนาคาร|ธ\.|bank|account|a/c|"
    # Abbreviations and misspellings: บช., บ/ช, บันชี, acc no., savings, Krungsri's BAY.
    r"บ/ช|บ\.?ช\.|บ(?<![\u0e01-\u0e4e]บ)ช(?![\u0e01-\u0e4e])|บันชี|ออมทรัพย์|กระแสรายวัน|เผื่อเรียก"
    # Each branch opens with a letter, which keeps the search fast.
    r"|acct?\.?(?:[ \t]*no\.?)?(?![A-Za-z])|bay(?![A-Za-z])|"
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
# A loyalty or member card names the one person it was issued to.
_MEMBER_CUE = re.compile(
    r"blue[ \t]?card|บลูการ์ด|บัตรสมาชิก|(?:เลข|รหัส|หมายเลข)สมาชิก|member(?:ship)?|loyalty"
    r"|the[ \t]?1(?![0-9])|เดอะวัน|m[ \t]?card|บัตรสะสม(?:แต้ม|คะแนน)",
    re.I,
)
_CONTEXT_WIDTH = 40
_MAX_DIGITS = 19


# --- numbers an app masked in part ----------------------------------------------

# A transfer slip or an app shows an account or a phone with some digits
# replaced by x (xxx-x-x4512-x, 081-xxx-5521): the digits left still point to
# one person, so the whole number is masked.
_X = "[xX*]"
_XD = "[0-9xX*]"
_MASKED_NUMBER = re.compile(
    rf"(?<![0-9A-Za-z*-])(?:(?P<bank>{_XD}{{3}}-{_XD}-{_XD}{{5}}-{_XD})"
    rf"|(?P<phone>0[0-9]{_XD}-?{_X}{{3}}-?[0-9]{{4}}|0[0-9]{{2}}-?[0-9]{{3}}-?{_X}{{4}}))"
    r"(?![0-9A-Za-z*])"
)


def _masked_numbers(text: str) -> Iterator[Span]:
    if "x" not in text and "X" not in text and "*" not in text:
        return
    for match in _MASKED_NUMBER.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        if match.group("bank") and 2 <= digits < 10:
            yield Span(match.start(), match.end(), "bank_account")
        elif match.group("phone"):
            yield Span(match.start(), match.end(), "phone")


# --- passports ------------------------------------------------------------------

_PASSPORT_CUE = re.compile(r"passport|พาสปอร์ต|พาสสปอร์ต|หนังสือเดินทาง", re.I)
# Thai passports are two letters and seven digits; others one or two letters
# and six to eight digits, or digits alone.
# Some mix letters into the digits (C01X00T47): eight or nine of both.
_PASSPORT = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Z]{1,2}[0-9]{6,8}|[0-9]{7,9}"
    r"|(?=[A-Z0-9]{8,9}(?![A-Za-z0-9]))(?=[A-Z]*[0-9])[A-Z][A-Z0-9]*[0-9][A-Z0-9]*)(?![A-Za-z0-9])"
)


def _passports(text: str) -> Iterator[Span]:
    for cue in _PASSPORT_CUE.finditer(text):
        match = _PASSPORT.search(text, cue.end())
        if match and match.start() - cue.end() <= _CONTEXT_WIDTH:
            yield Span(match.start(), match.end(), "passport")


def _numbers(text: str) -> Iterator[Span]:
    for match in _NUMBER.finditer(text):
        start, end = match.span()
        if (
            start
            and _GLUED_BEFORE.match(text, start - 1)
            and not _HANDLE_CELL.search(text, max(0, start - _CONTEXT_WIDTH), start)
        ):
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
        kind: Kind | None
        if first == 0 and match.group("foreign"):
            # Abroad, only the length of the number is known.
            has_cc, kind = True, ("phone" if 7 <= sum(lengths) <= 12 else None)
        else:
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
    if 8 <= len(digits) <= _MAX_DIGITS and _member_cue_is_nearest(before):
        return "member_card"
    if _is_card(digits, before):
        return "card"
    # Savings-bank and agricultural-bank accounts run to 12 digits; a
    # contract-account number has as many, so only a bank word decides.
    if len(digits) in (10, 11, 12) and (
        (len(digits) == 10 and lengths == [3, 1, 5, 1])
        or _bank_cue_is_nearest(before)
        or _bank_follows(text, end)
    ):
        return "bank_account"
    if len(digits) == 11 and digits.startswith("66") and digits[2] in "689":
        digits = "0" + digits[2:]  # the country code typed without its +: 66812345678
    if not _PHONE.fullmatch(digits):
        return None
    return None if _look_alike_cue_is_nearest(before, landline=digits[1] not in "689") else "phone"


# A number shaped like a phone is one unless a cue right before it (a few
# letters apart, no digit, line break or phone word between) names a
# document number (invoice, receipt, slip reference, order, tracking, tax
# id, contract account, meter) or a fax; an office's or company's word makes
# a landline theirs, never a mobile. A home's fax (แฟกซ์บ้าน) is a person's.
_DOCUMENT_CUE = re.compile(
    r"ใบแจ้งหนี้|invoice|(?<![A-Za-z])inv(?![a-z])|ใบเสร็จ|receipt|เลขที่รายการ|อ้างอิง"
    r"|(?<![A-Za-z])ref(?![a-z])|order|คำสั่งซื้อ|tracking|เลขพัสดุ|ภาษี|(?<![A-Za-z])tax"
    r"|แฟกซ์|แฟ็กซ์|โทรสาร|(?<![A-Za-z])fax|(?<![A-Za-z])CA(?![A-Za-z])|บัญชีแสดงสัญญา"
    r"|มิเตอร์|meter",
    re.I,
)
_OFFICE_CUE = re.compile(
    r"สำนักงาน|บริษัท|บจก|office|สาขา|call[ \t]?cent(?:er|re)|คอลเซ็นเตอร์|hotline"
    r"|ที่ทำการ|switchboard|ที่ทำงาน|head[ \t]?quarter",
    re.I,
)
_CUE_GAP = re.compile(r"[^0-9๐-๙\n]{0,12}\Z")
_PERSONAL_GAP = re.compile(r"โทร(?!สาร)|เบอร์|มือถือ|tel|phone|mobile|ติดต่อ|บ้าน|ส่วนตัว", re.I)
_LOOK_ALIKE_WIDTH = 30


def _look_alike_cue_is_nearest(before: str, *, landline: bool) -> bool:
    before = before[-_LOOK_ALIKE_WIDTH:]
    cues = [m.end() for m in _DOCUMENT_CUE.finditer(before)]
    if landline:
        cues += [m.end() for m in _OFFICE_CUE.finditer(before)]
    if not cues:
        return False
    gap = before[max(cues) :]
    return bool(_CUE_GAP.match(gap)) and not _PERSONAL_GAP.search(gap)


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


def _member_cue_is_nearest(before: str) -> bool:
    member = [m.end() for m in _MEMBER_CUE.finditer(before)]
    other = [m.end() for m in (*_PHONE_CUE.finditer(before), *_BANK_CUE.finditer(before))]
    return bool(member) and max(member) > max(other, default=-1)


# A bank written right after the number, as in a table row or a slip:
# "1572233445 bbl", "123-4-56789-0<TAB>KBANK".
_BANK_AFTER = re.compile(
    r"[ \t,;|\"']{0,3}(?:" + "|".join(re.escape(name) for name in _BANK_NAMES) + r"|ธ\.|ธนาคาร)",
    re.I,
)


def _bank_follows(text: str, end: int) -> bool:
    return bool(_BANK_AFTER.match(text, end))


def _bank_cue_is_nearest(before: str) -> bool:
    bank = [m.end() for m in _BANK_CUE.finditer(before)]
    phone = [m.end() for m in _PHONE_CUE.finditer(before)]
    return bool(bank) and max(bank) > max(phone, default=-1)


# --- emails and LINE ids -----------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_LINE_WORD = r"(?:ไลน์|ไลนื|ไลน(?![\u0e01-\u0e4e])|(?<![A-Za-z])line(?:id)?(?![A-Za-z]))"
_ID_WORD = r"(?:ไอดี|(?<![A-Za-z])id(?![A-Za-z]))"
# Thai digits may end a handle as well as Latin ones (sombat๒๕๐๘).
_HANDLE = r"@?[A-Za-z0-9][A-Za-z0-9๐-๙._-]*"
_LINE_ID = re.compile(
    rf"(?P<cue>(?:{_ID_WORD}[ \t]*)?{_LINE_WORD}(?:[ \t_]*\(?{_ID_WORD}\)?)?"
    # A JSON key ("line_id": "…") or a form's key and value, quoted or not.
    r"(?:[\"']?[ \t]*(?:is|คือ|:|=)[ \t]*[\"'`]?)?)"
    rf"(?P<filler>[ \t:*`\u0e01-\u0e4e]{{0,24}}?)(?P<id>{_HANDLE})",
    re.I,
)
_ID_CUE = re.compile(rf"{_ID_WORD}|:|=|คือ", re.I)
_AT_HANDLE = re.compile(r"(?<![A-Za-z0-9._%+-])@[A-Za-z0-9][A-Za-z0-9._-]*")
# An @handle after LINE or a social network's name is someone's account, and
# so is one opening a reply (a mention) when it is shaped like a handle.
_LINE_CUE = re.compile(
    rf"{_LINE_WORD}|(?<![A-Za-z])(?:ig|instagram|tiktok|twitter|facebook|fb|threads)(?![A-Za-z])"
    r"|ไอจี|อินสตาแกรม|ติ๊กต็อก|ติ๊กต๊อก|ทวิตเตอร์|เฟส(?:บุ๊ก|บุ๊ค)?",
    re.I,
)
_MENTION_START = re.compile(r"(?:\A|\n)[ \t]*\Z")
# A token with letters and a digit, dot or underscore is a handle, not a word.
_HANDLE_SHAPE = re.compile(r"[A-Za-z].*[0-9๐-๙._]|[0-9๐-๙._].*[A-Za-z]")
_NOT_HANDLES = frozenset({"is", "official", "account", "app", "chat", "group", "oa", "pay"})


def _emails(text: str) -> Iterator[Span]:
    for match in _EMAIL.finditer(text):
        yield Span(match.start(), match.end(), "email")


def _line_ids(text: str) -> Iterator[Span]:
    for match in _LINE_ID.finditer(text):
        # Past a few Thai words, only an explicit "id" or colon still ties the
        # token to LINE ("ผ่าน LINE หรือ SMS" names no account).
        loose = match.group("filler").strip() and not match.group("id").startswith("@")
        cued = _ID_CUE.search(match.group("cue") + match.group("filler"))
        if loose and not cued and not _HANDLE_SHAPE.search(match.group("id")):
            continue
        span = _handle_span(text, match.start("id"), match.end("id"))
        if span:
            yield span
    for match in _AT_HANDLE.finditer(text):
        mention = _MENTION_START.search(text, max(0, match.start() - 4), match.start()) and (
            _HANDLE_SHAPE.search(match.group())
        )
        if mention or _LINE_CUE.search(text, max(0, match.start() - _CONTEXT_WIDTH), match.start()):
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
