"""Find Latin-written names by the label in front of them.

Thai-English forms print their labels in English, often in capitals and with
a Thai gloss: ``NAME (ชื่อ): SIRIPORN``, ``SURNAME (นามสกุล): THONGKHAM``,
``FIRST NAME: Sirinya``, ``CONTACT PERSON WICHAI S.``; a bank slip prints
``From THANAKORN P.``. One capitalised word after such a label is a name, up
to the next label. Agents write Khun as a small k (``k.somsri``), and a
title printed in capitals before a name (``MR.``, ``MRS.``) is part of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from services.privacy.detect_span import Span

_LABEL_WORD = (
    r"(?:(?:FIRST|LAST|FULL|GIVEN|FAMILY|MIDDLE|CUSTOMER|CONTACT)[ \t_]?NAME|SURNAME|NAME"
    r"|CONTACT[ \t]PERSON|CONTACT|APPLICANT|INSURED|CUSTOMER|CUST|FROM"
    r"|(?:First|Last|Full|Given|Family|Middle)[ \t_]?[Nn]ame|Surname|Name|Applicant|Insured"
    r"|Advisor|Supervisor|Subcontractor|Contractor|Driver|Contact|Cust|cust|From"
    r"|(?i:father|mother|wife|husband|son|daughter|owner|tenant)(?:'s)?[ \t](?i:name))"
)
_TITLE = r"(?:MR|MRS|MS|MISS|DR|Mr|Mrs|Ms|Miss|Dr)\.?[ \t]+"
_WORD = r"[A-Z](?:[a-z'-]+|[A-Z'-]+)"
_INITIAL = r"[A-Z]\.?(?![A-Za-z])"
_NAME = rf"{_WORD}(?:[ \t]+(?:{_WORD}|{_INITIAL}))*"
_LABELLED = re.compile(
    rf"(?<![A-Za-z])(?P<label>{_LABEL_WORD})(?:[ \t]*\((?:[\u0e01-\u0e4e -]{{1,24}})\))?"
    rf"[ \t]*[:.]?[ \t]*(?P<title>{_TITLE})?(?P<name>{_NAME})"
    rf"(?:[ \t]*/[ \t]*(?P<title2>{_TITLE})?(?P<name2>{_NAME}))?"
)
# Words that stop a name: the next label, a kind of number, a company's word.
_STOP = frozenset(
    {
        "NAME",
        "Name",
        "SURNAME",
        "Surname",
        "LAST",
        "Last",
        "FIRST",
        "First",
        "TEL",
        "Tel",
        "MOBILE",
        "Mobile",
        "PHONE",
        "Phone",
        "EMAIL",
        "Email",
        "OFFICE",
        "Office",
        "ADDRESS",
        "Address",
        "ACCOUNT",
        "Account",
        "METER",
        "Meter",
        "CA",
        "ID",
        "TAX",
        "Tax",
        "TO",
        "To",
        "LINE",
        "Line",
        "Faculty",
        "FACULTY",
        "Student",
        "STUDENT",
        "Period",
        "Policy",
        "POLICY",
        "Bank",
        "BANK",
        "Total",
        "Amount",
        "AMOUNT",
        "Ref",
        "REF",
        "Memo",
        "Date",
        "DATE",
    }
)
# What stands after a label without being anyone: companies, banks, services.
_NOT_NAMES = frozenset(
    {
        "PEA",
        "MEA",
        "PTT",
        "SCB",
        "KBANK",
        "KTB",
        "BBL",
        "GSB",
        "BAAC",
        "Bank",
        "BANK",
        "Company",
        "COMPANY",
        "Co",
        "Ltd",
        "Team",
        "TEAM",
        "The",
        "THE",
        "Customer",
        "CUSTOMER",
        "Service",
        "Support",
        "Center",
        "Centre",
        "Call",
        "Office",
        "Branch",
        "Station",
        "Hotline",
        "Me",
        "My",
        "Our",
        "You",
        "Your",
        "Thai",
        "English",
        "Engineering",
        "Home",
        "Work",
        "Not",
        "No",
        "None",
        "N",
        "Bangkok",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    }
)
_LABEL_HINT = re.compile(
    r"(?i:name|contact|applicant|insured|cust|from|advisor|supervisor|contractor|driver)"
)


def labelled_names(text: str) -> Iterator[Span]:
    """Find a Latin name after an English label, with the title printed before it."""
    if not _LABEL_HINT.search(text):
        return
    pos = 0
    while match := _LABELLED.search(text, pos):
        pos = match.end()
        for title, group in (("title", "name"), ("title2", "name2")):
            if match.group(group) is None:
                continue
            span = _name_words(text, match.start(group), match.group(group))
            if span is None:
                break
            start = match.start(title) if match.group(title) else span[0]
            yield Span(start, span[1], "name")
            if span[1] < match.end(group):
                pos = span[1]  # a label stopped the name: search again from it
                break


def _name_words(text: str, start: int, value: str) -> tuple[int, int] | None:
    words = list(re.finditer(r"\S+", value))
    kept = []
    for word in words:
        if word.group() in _STOP or word.group().rstrip(".") in _NOT_NAMES:
            break
        kept.append(word)
    if not kept or (len(kept) == 1 and len(kept[0].group()) < 3):
        return None
    if all(len(w.group().rstrip(".")) == 1 for w in kept):
        return None
    return start + kept[0].start(), start + kept[-1].end()


# "k.somsri", "k.Noi": Khun as agents type it.
_SMALL_K = re.compile(r"(?<![A-Za-z0-9.@])k\.[ \t]?(?P<name>[A-Za-z][a-z]{2,})(?![A-Za-z0-9@.])")


def small_k_names(text: str) -> Iterator[Span]:
    """Find a name after a small k., the Khun of agents' notes."""
    if "k." not in text:
        return
    for match in _SMALL_K.finditer(text):
        yield Span(match.start("name"), match.end("name"), "name")


# A title in capitals printed just before a Latin name found by another rule.
_TITLE_BEFORE = re.compile(r"(?<![A-Za-z])(?:MR|MRS|MS|MISS)\.?[ \t]+\Z")


def with_latin_title(text: str, span: Span) -> Span:
    """Return the name span widened to a capitals title right before it."""
    if span.kind != "name" or not text[span.start : span.start + 1].isupper():
        return span
    title = _TITLE_BEFORE.search(text, max(0, span.start - 8), span.start)
    return Span(title.start(), span.end, "name") if title else span


# A name asked to be called back in an assistant's note: "call Pim back".
_CALL_BACK = re.compile(
    r"(?<![A-Za-z])(?:call|ring|text)[ \t]+(?P<name>[A-Z][a-z]{2,})[ \t]+back\b"
)
# A profile's display name, quoted after ชื่อในไลน์ or display name: "🌸Ploy🌸".
_DISPLAY_NAME = re.compile(
    r"(?:ชื่อ(?:ใน)?(?:ไลน์|LINE|เฟส(?:บุ๊[กค])?|เฟซบุ๊[กค]|FB|โปรไฟล์|ไอจี|IG)|display[ _]name)"
    r"[\"']?[ \t]*[:=]?[ \t]*[\"“'](?P<name>[^\"”'\n:]{1,30})[\"”']",
    re.I,
)


def called_names(text: str) -> Iterator[Span]:
    """Find a name to call back, and a profile's display name quoted after its cue."""
    for pattern in (_CALL_BACK, _DISPLAY_NAME):
        for match in pattern.finditer(text):
            yield Span(match.start("name"), match.end("name"), "name")
