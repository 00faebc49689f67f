"""Find names by where they stand: English cues, form fields, letter signatures.

A form dump (``ชื่อ: ...``, ``first_name: ...``, ``"name": "..."``) says
outright which value is a name; so does the line under a letter's closing
(ขอแสดงความนับถือ, Best regards). English names follow a title (Mr, Khun),
a cue (my name is, wife) or stand just before their phone or email.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from services.privacy.detect_lexicon import given_names, starts_clause
from services.privacy.detect_span import Span
from services.privacy.detect_surnames import name_end

_EN_WORD = r"[A-Z][a-zß-öø-ÿ'-]+"
_EN_NAME = rf"{_EN_WORD}(?:[ \t]{_EN_WORD}){{1,2}}"
_EN_NAME_PATTERNS = (
    # Written in capitals after a title, as on a passport: MR. LI WEI.
    re.compile(r"\b(?:MR|MRS|MS|MISS)\.?[ \t]+(?P<name>[A-Z]{2,}(?:[ \t][A-Z]{2,}){0,2})\b"),
    # Someone giving their name, one word enough: "my name Wipa", "I am
    # Kanokwan,", "the officer name Somsak", "name of account Arunee Thongdee".
    re.compile(
        r"(?:\bI'm|\bI am|\b[Mm]y name(?: is)?|\b(?:officer|staff|account) name(?: is)?"
        r"|\bname of (?:the )?account(?: is)?)"
        rf"[ \t]+(?P<name>{_EN_WORD}(?:[ \t]{_EN_WORD}){{0,2}})"
    ),
    re.compile(
        rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Khun|Prof|Ajarn|Capt|Col|Lt|Maj|Gen|Pol|Phra)\.?[ \t]+"
        rf"{_EN_WORD}(?:[ \t]{_EN_WORD}){{0,2}}(?:[ \t][A-Z]\.)?"
    ),
    # "K." is Khun in Thai English: K. Nattapong, K.Somchai.
    re.compile(rf"(?<![A-Za-z.])K\.[ \t]?(?P<name>{_EN_WORD}(?:[ \t]{_EN_WORD}){{0,2}})"),
    # Who someone is in an agent's English note, then the name, maybe in capitals.
    re.compile(
        r"\b(?:[Cc]aller|[Pp]ayee|[Cc]omplainant|[Rr]eporter|(?:[Aa]ccount )?[Hh]older|[Aa]ttn"
        r"|[Cc]ontact person|[Rr]eported by|[Ss]poke (?:to|with)|[Oo]pened for|[Ss]igned by"
        r"|[Bb]eneficiary|[Rr]ecipient|[Tt]enant|[Oo]wner)\.?:?,?[ \t]+"
        r"(?:(?:Khun|Mr|Mrs|Ms|Miss|K)\.?[ \t]+)?"
        rf"(?P<name>{_EN_WORD}(?:[ \t]{_EN_WORD}){{0,2}}|[A-Z]{{2,}}(?:[ \t][A-Z]{{2,}}){{0,2}})"
    ),
    re.compile(
        rf"(?:\bI'm|\bI am|\b[Mm]y name is|\b[Tt]his is|\b[Nn]ame:?|\b[Cc]ustomer|\b[Cc]ontact"
        rf"|\bCheers,|\b[Rr]egards,?|\b[Tt]hanks,|\bFrom:|(?<!\S)-)"
        rf"[ \t]+(?P<name>{_EN_NAME})"
    ),
    # One name word after a relation or a Thai cue: "my wife Nok", "ผมชื่อ Michael".
    re.compile(
        r"(?:\b(?:wife|husband|son|daughter|mother|father|mom|dad|sister|brother|friend"
        r"|nickname|nick name|a\.k\.a\.?|aka)"
        rf"|ชื่อ|คุณ|ติดต่อ|โทรหา|ฝากถึง)[ \t]*(?P<name>{_EN_WORD}(?:[ \t]{_EN_WORD})?)"
    ),
    # A name written just before its phone number, email address or ID.
    re.compile(
        rf"(?P<name>{_EN_NAME})(?=,?[ \t]*[(/<]?[ \t]*(?:\+66|\(\+66|0\d|[\w.+-]+@"
        r"|ID card|ID no|passport|tel\b|phone|mobile))"
    ),
    # A single word just before a mobile number.
    re.compile(rf"(?<![\w.-])(?P<name>{_EN_WORD})(?=[ \t]+0[689][0-9])"),
)
# Capitalised words that label a service or a greeting, not a person.
_NOT_EN_NAMES = frozenset(
    {
        "Call",
        "Center",
        "Centre",
        "Contact",
        "Customer",
        "Service",
        "Services",
        "Team",
        "Office",
        "Branch",
        "Support",
        "Hotline",
        "Phone",
        "Mobile",
        "Tel",
        "Email",
        "Line",
        "Fax",
        "Dear",
        "Sir",
        "Madam",
        "Hello",
        "Thanks",
        "Thank",
        "Please",
        "Order",
        "Tax",
        "Invoice",
        "Subject",
        "Company",
        "Station",
        "Manager",
        "Department",
        "Bank",
        "Meter",
        "Room",
        "Tower",
        "Road",
        "Soi",
        "Moo",
        "Bangkok",
        "Sent",
        "From",
        "To",
        "Re",
        "Fwd",
        "I'm",
        "Thai",
        "English",
        "Sorry",
        "Not",
        "The",
    }
)


# Every English name starts with a capital; most Thai texts have none.
_LATIN_CAPITAL = re.compile(r"[A-Z][a-zA-Z]")


def english_names(text: str) -> Iterator[Span]:
    """Find English-written names after a title or cue, or before contact details."""
    if not _LATIN_CAPITAL.search(text):
        return
    for pattern in _EN_NAME_PATTERNS:
        for match in pattern.finditer(text):
            group = "name" if "name" in pattern.groupindex else 0
            if not _NOT_EN_NAMES.intersection(match.group(group).split()):
                yield Span(match.start(group), match.end(group), "name")


# A form key that names a person's name, then ":" or "=", then the value.
_FIELD = re.compile(
    r"(?:(?<![A-Za-z_])(?:(?:first|last|full|middle|given|family|sur|acc|account|customer"
    r"|contact|owner|payee|display|th|en|nick|applicant|reporter|sender|user|buyer|recipient"
    r"|receiver|ship(?:ping)?|consignee)[_ ]?)?name|recipient|consignee|ชื่อผู้รับ"
    r"|(?<![A-Za-z_])submitted[_ ]by|ชื่อผู้ยื่น(?:คำขอ)?|ผู้ยื่นคำขอ"
    r"|ชื่อ(?:-?(?:นาม)?สกุล)?|นามสกุล|(?<![\u0e01-\u0e4e])สกุล|ชื่อบัญชี|ผู้แจ้ง|ผู้ติดต่อ"
    r"|ผู้ร้อง|ผู้รับเงิน|ชื่อ(?:ลูกค้า|ผู้ติดต่อ|ผู้แจ้ง|ผู้ร้อง|ผู้ใช้ไฟ(?:ฟ้า)?)|ผู้ใช้ไฟ(?:ฟ้า)?"
    # Any other key naming whose name it holds: ชื่อผู้ขอใช้ไฟ, ชื่อผู้ปกครอง, ชื่อเจ้าของบ้าน;
    # not a shop's, a company's or a place's.
    r"|ชื่อ(?=ผู้|เจ้าของ|ผู้ปกครอง|บิดา|มารดา|คู่สมรส|ผู้เช่า|ผู้โอน|ผู้ขอ)[\u0e01-\u0e4e]{2,14})"
    r"\"?[ \t]*[:=][ \t]*\"?(?P<value>[^\n|;,\"<>(){}\[\]:=&]+)",
    re.I,
)
# A JSON value under a key that names a person (quoted, so a note's
# "customer: wants a refund" is not one).
_JSON_PERSON = re.compile(
    r"\"(?:customer|holder|account_holder|contact_person|caller|payee|requester|complainant"
    r"|tenant|owner|applicant|reporter|sender|first|last|th|en|ผู้ติดต่อ|ผู้แจ้ง|ลูกค้า"
    r"|recipient|receiver|buyer|consignee|fullname|full_name|name)\""
    r"[ \t]*:[ \t]*\"(?P<value>[^\"\n]{2,60})\"",
    re.I,
)
_QUERY_SPACE = re.compile(r"\+|%20")
_NON_SPACE = re.compile(r"[^ \t]+")
_THAI_WORD = re.compile(r"[\u0e01-\u0e4e]+")
_VALUE_WORDS = re.compile(r"[\u0e01-\u0e4e.]+|[A-Za-z][A-Za-z.'-]*")


def field_names(text: str) -> Iterator[Span]:
    """Find the value of a name field in a form dump."""
    for match in (*_FIELD.finditer(text), *_JSON_PERSON.finditer(text)):
        # A query string writes a space as + or %20 (name=Somchai+Jaidee).
        spaced = _QUERY_SPACE.sub(lambda m: " " * len(m.group()), match.group("value"))
        words = list(_NON_SPACE.finditer(spaced.rstrip(" \t.")))
        if text[match.end("value") : match.end("value") + 1] in (":", "="):
            words = words[:-1]  # the next field's key: "name=… phone=…"
        # A name's words, up to one that opens a new clause ("แจ้งแทนแม่").
        for i, word in enumerate(words[1:], start=1):
            if _THAI_WORD.fullmatch(word.group()) and starts_clause(word.group()):
                words = words[:i]
                break
        if not words or len(words) > 4 or any(not _VALUE_WORDS.fullmatch(w.group()) for w in words):
            continue
        if spaced[: words[-1].end()] in ("-", "ไม่ระบุ", "n/a", "N/A"):
            continue
        start = match.start("value")
        yield Span(start + words[0].start(), start + words[-1].end(), "name")


# The closing of a letter or an email, then the signer's name on its own line,
# maybe in brackets and with a title.
_CLOSING = re.compile(
    r"(?m:ขอแสดงความนับถือ|ด้วยความนับถือ|ด้วยความเคารพ|ขอบคุณ(?:มาก)?(?:ค่ะ|ครับ|คะ)"
    r"|(?:Best|Kind|Warm) regards|Regards"
    r"|Sincerely(?: yours)?|Yours sincerely|Yours faithfully|Thanks|Thank you|Cheers|Best"
    r"|^--)"
    r"[ \t]*,?[ \t]*\n[ \t]*\(?(?P<title>นางสาว|นาง|นาย|คุณ|Mr\.?|Mrs\.?|Ms\.?|Khun)?[ \t]*"
    # The name may carry its title after it: "Thanyarat P. (Ms.)".
    r"(?P<name>[^\n()]+?)[ \t]*\)?[ \t]*(?:\((?:Mr|Mrs|Ms|Miss|Khun)\.?\))?[ \t]*(?=\n|\Z)"
)
_ORG_WORDS = re.compile(
    r"แผนก|ฝ่าย|ศูนย์|บริษัท|หจก|ร้าน|การไฟฟ้า|กฟ|สำนักงาน|ทีม|งาน|ผู้จัดการ|PEA|\bOR\b"
    r"|ประธาน|ชุมชน|กรรมการ|ผู้ใหญ่บ้าน|กำนัน|เจ้าหน้าที่|นายก|ผู้อำนวยการ|หัวหน้า|สมาคม|มูลนิธิ"
    r"|โรงเรียน|วัด|องค์การ|อบต|เทศบาล|สหกรณ์|วิสาหกิจ"
    r"|Team|Center|Centre|Company|Co\.|Ltd|Service|Support|Department|Office"
)
_SIGNER_WORD = r"(?:[\u0e01-\u0e4e]+|[A-Z][a-z'-]+|[A-Z]\.)"
_SIGNER = re.compile(rf"{_SIGNER_WORD}(?:[ \t]+{_SIGNER_WORD}){{0,2}}")


def signed_names(text: str) -> Iterator[Span]:
    """Find the signer's name under a letter's or an email's closing."""
    for match in _CLOSING.finditer(text):
        name = match.group("name")
        if not _SIGNER.fullmatch(name) or _ORG_WORDS.search(name):
            continue
        first = name.split()[0]
        # A Thai line with no title: a listed given name, or a name and surname.
        thai = "\u0e01" <= first[0] <= "\u0e4e" and not match.group("title")
        listed = first in given_names()
        if (thai and not listed and len(name.split()) < 2) or first in _NOT_EN_NAMES:
            continue
        yield Span(match.start("name"), match.end("name"), "name")


# A phone's signature under a message names its owner: "ส่งจาก iPhone ของ สุดา",
# "Sent from my Galaxy" and the sender's name on the line below.
_DEVICE = re.compile(
    r"(?:ส่งจาก|Sent from)[ \t]+(?:my[ \t]+)?(?:[A-Za-z0-9+-]+[ \t]*){1,3}?"
    r"(?:ของ[ \t]*|\n\s*)"
    rf"(?P<name>{_EN_WORD}(?:[ \t]{_EN_WORD}){{0,2}}(?:[ \t][A-Z]\.)?|[\u0e01-\u0e4e]+)"
)


def device_signers(text: str) -> Iterator[Span]:
    """Find the owner a phone's "sent from" signature names."""
    for match in _DEVICE.finditer(text):
        name = match.group("name")
        if name.split()[0] in _NOT_EN_NAMES or _ORG_WORDS.search(name):
            continue
        end = match.end("name")
        if "\u0e01" <= name[0] <= "\u0e4e":
            if starts_clause(name):
                continue
            end = name_end(text, end)
            # An initial after a Thai name: "กัญญารัตน์ ศ."
            initial = re.match(r"[ \t][\u0e01-\u0e2e]\.", text[end:])
            end += initial.end() if initial else 0
        yield Span(match.start("name"), end, "name")
