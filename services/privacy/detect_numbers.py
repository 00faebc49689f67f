"""Find national ids, cards, bank accounts, member cards and phones in runs of digits.

A run of digit groups is cut only at whitespace, its longest sub-runs are
classified by the validity rules of each kind (the ID checksum, Luhn, phone
prefixes and lengths) and by the cues before and after it
(``detect_number_cues``); numbers an app masked in part (xxx-x-x4512-x,
081-xxx-5521) are found here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from services.privacy.detect_number_cues import (
    CARD_CUE,
    bank_cue_is_nearest,
    bank_follows,
    card_word_is_near,
    look_alike_cue_is_nearest,
    member_cue_is_nearest,
    only_account_word,
)
from services.privacy.detect_span import Kind, Span

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
CONTEXT_WIDTH = 40
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


def masked_numbers(text: str) -> Iterator[Span]:
    if "x" not in text and "X" not in text and "*" not in text:
        return
    for match in _MASKED_NUMBER.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        if match.group("bank") and 2 <= digits < 10:
            yield Span(match.start(), match.end(), "bank_account")
        elif match.group("phone"):
            yield Span(match.start(), match.end(), "phone")


def numbers(text: str) -> Iterator[Span]:
    for match in _NUMBER.finditer(text):
        start, end = match.span()
        if (
            start
            and _GLUED_BEFORE.match(text, start - 1)
            and not _HANDLE_CELL.search(text, max(0, start - CONTEXT_WIDTH), start)
        ):
            continue
        if _GLUED_AFTER.match(text, end):
            head = _before_amount(text, match)
            if head is None:
                continue
            match = head
        yield from _classify_groups(text, match)


# An amount written right after a number, a blank apart ("… 4-9218-84103-05-1
# 9,800 บาท"), takes its first group into the run; the number before it stands.
def _before_amount(text: str, match: re.Match[str]) -> re.Match[str] | None:
    if text[match.end()] != ",":
        return None
    cut = max(match.group().rfind(" "), match.group().rfind("\t"))
    if cut <= 0:
        return None
    return _NUMBER.match(text, match.start(), match.start() + cut)


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
    start = match.start("body")
    for i in range(0, len(pieces), 2):
        group, sep = pieces[i], pieces[i + 1] if i + 1 < len(pieces) else ""
        listed = i and _after_list_marker(match.string, start, pieces, i)
        if atoms and pieces[i - 1] not in (" ", "\n") and not listed:
            atom_start, _, lengths = atoms[-1]
            atoms[-1] = (atom_start, offset + len(group), [*lengths, len(group)])
        else:
            atoms.append((offset, offset + len(group), [len(group)]))
        offset += len(group) + len(sep)
    return atoms


# A numbered list's marker, "1)" or "2.", opening a line, is no part of the
# number after it (1) 0812345678).
def _after_list_marker(text: str, start: int, pieces: list[str], i: int) -> bool:
    marker, sep = pieces[i - 2], pieces[i - 1]
    if len(marker) > 2 or sep.rstrip(" \t") not in (")", "."):
        return False
    if i > 2:
        return pieces[i - 3] == "\n"
    return start == 0 or text[start - 1] in "\n \t("


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
    before = text[max(0, start - CONTEXT_WIDTH) : start]
    if has_cc:
        national = digits if digits.startswith("0") else "0" + digits
        return "phone" if _PHONE.fullmatch(national) else None
    if len(digits) == 13 and is_national_id(digits):
        return "national_id"
    if 8 <= len(digits) <= _MAX_DIGITS and member_cue_is_nearest(before):
        return "member_card"
    if _is_card(digits, before):
        return "card"
    if lengths == [4, 4, 4, 4] and not _CARD.fullmatch(digits) and card_word_is_near(before):
        return "member_card"
    # Savings-bank and agricultural-bank accounts run to 12 digits; a
    # contract-account number has as many, so only a bank word decides.
    contract = len(digits) == 12 and digits.startswith("020") and only_account_word(before)
    if (
        len(digits) in (10, 11, 12)
        and not contract
        and (
            (len(digits) == 10 and lengths == [3, 1, 5, 1])
            or bank_cue_is_nearest(before)
            or bank_follows(text, end)
        )
    ):
        return "bank_account"
    if len(digits) == 11 and digits.startswith("66") and digits[2] in "689":
        digits = "0" + digits[2:]  # the country code typed without its +: 66812345678
    if not _PHONE.fullmatch(digits):
        return None
    return None if look_alike_cue_is_nearest(before, landline=digits[1] not in "689") else "phone"


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
    return len(digits) > 13 or bool(CARD_CUE.search(before))


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
