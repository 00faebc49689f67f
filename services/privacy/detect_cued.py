"""Find names by the turn of a conversation.

A transfer of the meter names two people (ขอโอนมิเตอร์จาก X เป็น Y); a
customer answers an agent who asked for their name on the line before; a
saved LINE chat names who sent each line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from services.privacy.detect_lexicon import dictionary, given_names, starts_clause, tokens
from services.privacy.detect_span import BLANK, THAI_CHAR, Span
from services.privacy.detect_surnames import name_end, spaced_end, surname_shaped

_TH, _SP = THAI_CHAR, BLANK
_RUN = re.compile(rf"{_TH}+")


def _name_at(text: str, pos: int) -> int | None:
    """Return where a name starting at ``pos`` ends, if a plausible one is there."""
    run = _RUN.match(text, pos)
    if not run:
        return None
    given = tokens(run.group())[0] if run.group() not in given_names() else run.group()
    if len(given) < 2 or starts_clause(given):
        return None
    end = name_end(text, pos + len(given))
    surname = text[pos + len(given) : end].strip()
    if given in given_names() or given not in dictionary() or surname_shaped(surname):
        return end
    return None


# "ขอโอนมิเตอร์จาก เสถียร ดีงาม เป็น สุรีย์ ดีงาม (ภรรยา)": who gives and who takes.
_TRANSFER = re.compile(rf"(?:โอน|เปลี่ยน){_TH}{{0,20}}?จาก{_SP}*")
_TO = re.compile(rf"{_SP}*(?:\([^)\n]{{0,20}}\))?{_SP}*(?:เป็น|ให้|ไปยัง){_SP}*")


def transfer_names(text: str) -> Iterator[Span]:
    """Find the two people a transfer of a meter or of a name runs between."""
    for match in _TRANSFER.finditer(text):
        end = _name_at(text, match.end())
        if end is None:
            continue
        yield Span(match.end(), end, "name")
        to = _TO.match(text, end)
        if to and (second := _name_at(text, to.end())) is not None:
            yield Span(to.end(), second, "name")


# An agent asks for the name; the customer's next turn opens with it.
# A transcript's turn may open with its time ("[00:02:30] ลูกค้า:"), the answer
# with a filler (อ่า, เอ่อ, อ๋อ).
_ASKED = re.compile(
    rf"(?:ขอ(?:ทราบ)?{_SP}*ชื่อ|ชื่อ{_SP}*(?:อะไร|ผู้{_SP}*แจ้ง)|รบกวน{_SP}*ชื่อ"
    rf"|ชื่อ(?:บัญชี|ผู้ใช้ไฟ(?:ฟ้า)?|ลูกค้า)?{_SP}*(?:คะ|ครับ|ค่ะ)?{_SP}*\??{_SP}*$)[^\n]*\n"
    rf"(?:{_SP}*\[?\d{{1,2}}:\d{{2}}(?::\d{{2}})?\]?)?[^\n:]{{0,40}}:"
    rf"{_SP}*(?:(?:อ่า|เอ่อ|อือ|อ๋อ|อ้อ|อืม|ค่ะ|ครับ|คะ){_SP}+)*",
    re.M,
)
_PARTICLE_NEXT = re.compile(rf"{_SP}*(?:ค่ะ|คะ|ครับ|คับ|นะ|จ้ะ|จ้า)")


def answered_names(text: str) -> Iterator[Span]:
    """Find a name given in answer to an agent asking for it on the line before."""
    for match in _ASKED.finditer(text):
        run = _RUN.match(text, match.end())
        if not run:
            continue
        given = run.group() if run.group() in given_names() else tokens(run.group())[0]
        # Speech-to-text spaces a name's syllables apart: บุญ เรือง แก้ว มณี.
        given, after = spaced_end(text, given, match.end() + len(given), given_names())
        closed = bool(_PARTICLE_NEXT.match(text, after))
        if len(given) >= 2 and not starts_clause(given) and (given in given_names() or closed):
            yield Span(match.end(), name_end(text, after), "name")


# A chat saved from LINE: "09:12<TAB>Nok Siriwan<TAB>message" or "09:12 Nok: message",
# and its system lines ("Mint unsent a message", "Aof invited Mint to the chat").
# The sender is a person unless the line is the account's or a role's.
# A line's time opens it, or follows a screenshot's caption ("[ภาพหน้าจอ LINE] 10:42",
# "แคปจอ: 16:40").
_STAMP = r"(?:(?m:^)|(?<=\] )|(?<=: ))[ \t]*\[?\d{1,2}[:.]\d{2}(?::\d{2})?\]?"
_SENDER_WORD = r"(?:[A-Za-z][A-Za-z0-9_'.-]*|[\u0e01-\u0e4e]+)"
_SENDER_WORDS = rf"{_SENDER_WORD}(?:[ \t]{_SENDER_WORD}){{0,3}}"
_CHAT_LINES = (
    re.compile(rf"{_STAMP}\t(?P<name>{_SENDER_WORDS})[^\t\n]{{0,6}}\t"),
    re.compile(rf"{_STAMP}[ \t]+(?P<name>{_SENDER_WORDS})[^:\n]{{0,6}}?[ \t]*:"),
    re.compile(
        rf"{_STAMP}[ \t]+(?P<name>{_SENDER_WORDS})[ \t]+(?:unsent a message|invited|joined|left the"
        r"|ยกเลิกการส่งข้อความ|เชิญ|เข้าร่วม|ออกจาก)"
    ),
    re.compile(rf"[ \t]invited[ \t]+(?P<name>{_SENDER_WORDS})[ \t]+to the"),
)
_STAMPED_LINE = re.compile(_STAMP + r"[ \t]")
# Roles and the account's own name: whole Latin words, or Thai words opening the sender.
_ROLE_WORD = re.compile(
    r"agent|customer|cust|caller|speaker|spk|s\d|operator|admin|system|bot|ivr|staff|officer"
    r"|pea|or|care|contact|center|centre|service|official|team|support|unknown|sticker|photo",
    re.I,
)
_ROLE_OPENING = re.compile(
    r"ลูกค้า|คุณลูกค้า|เจ้าหน้าที่|พนักงาน|แอดมิน|ระบบ|ผู้แจ้ง|ผู้โทร|การไฟฟ้า|กฟ|ศูนย์|ช่าง|ทีม"
    r"|สติกเกอร์|รูปภาพ"
)


def chat_senders(text: str) -> Iterator[Span]:
    """Find who sent each line of a saved LINE chat, when a person did."""
    if len(_STAMPED_LINE.findall(text)) < 2:
        return
    for pattern in _CHAT_LINES:
        for match in pattern.finditer(text):
            name = match.group("name")
            if any(_ROLE_WORD.fullmatch(word) for word in name.split()) or _ROLE_OPENING.match(
                name
            ):
                continue
            if name.isdigit() or len(name) < 2:
                continue
            yield Span(match.start("name"), match.end("name"), "name")
