"""Find names by the turn of a conversation or the shape of the name itself.

A transfer of the meter names two people (ขอโอนมิเตอร์จาก X เป็น Y); a
customer answers an agent who asked for their name on the line before; a
Thai surname is often a compound of ordinary words that is no word itself
(แก้วดี, ทองอินทร์); and a Thai name written in Latin letters ends its surname
with the romanised parts Thai surnames are built from (-wong, -sri, -chai,
-porn ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from services.privacy.detect_names import (
    dictionary,
    given_names,
    name_end,
    spaced_end,
    starts_clause,
    surname_shaped,
    tokens,
)
from services.privacy.detect_span import Span

_TH = "[\u0e01-\u0e4e]"
_SP = "[ \t]"
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


# A Thai name in Latin letters: a surname ending in a romanised surname part.
_ROMAN_PARTS = (
    "wong|wongse|wongsa|sri|chai|chaiya|porn|pong|phong|sak|sakdi|kul|kun|sook|suk|sukh"
    "|rat|rattana|ratana|thong|tong|prasert|prasit|wat|wattana|phan|phant|sombat|suwan"
    "|kaew|kaeo|chan|chanta|sawat|sawasdi|niyom|charoen|wanich|wanit|siri|mongkol|manee"
    "|mani|phon|rueang|ruang|nont|thorn|thon|yot|yos|det|dee|ngam|in|lert|phrom|saeng"
    "|sang|khong|man|mak|boon|bun|sap|sub|chit|jit|sin|thai|dej|dech|pat|phat|phut"
)
_ROMAN_NAME = re.compile(
    rf"(?<![\w.@-])(?P<name>[A-Z][a-z]{{2,}}[ \t]+[A-Z][a-z]{{2,}}(?:{_ROMAN_PARTS})"
    rf"|[A-Z]{{3,}}[ \t]+[A-Z]{{3,}}(?:{_ROMAN_PARTS.upper()}))(?![\w@-])"
    # Not a building, a road or a firm named the same way (Noble Ploenchit Tower).
    r"(?![ \t,]*(?:Road|Rd|Soi|Condo|Tower|Place|Park|Residence|Hospital|School|Co\b|Company"
    r"|Ltd|Bank|Station|Office|Branch|Mall|Plaza|Hotel|Building|Group|Village|District))"
)
# Capitalised words that begin a place, a company or a sentence, not a Thai given name.
_NOT_GIVEN = frozenset(
    {
        "The",
        "Thai",
        "Siam",
        "Krung",
        "Bangkok",
        "Wat",
        "Ban",
        "Soi",
        "Moo",
        "Tambon",
        "Amphoe",
        "Mueang",
        "Nong",
        "Nakhon",
        "Chiang",
        "Phra",
        "Sukhumvit",
        "Lumpini",
        "Customer",
        "Contact",
        "Dear",
        "Hello",
        "Please",
        "Thank",
        "Thanks",
        "Account",
        "Bank",
        "Kasikorn",
        "Kasikornthai",
        "Central",
        "Power",
        "Electric",
        "Provincial",
        "Metropolitan",
        "Office",
        "Station",
        "Road",
        "North",
        "South",
        "East",
        "West",
        "Noble",
        "Ideo",
        "Supalai",
        "Ashton",
        "Life",
        "Rama",
        "Sathorn",
        "Silom",
        "Lat",
        "Bang",
        "Huai",
        "Khlong",
        "Pak",
        "Hat",
        "Ko",
        "Koh",
        "Don",
        "Sam",
        "Si",
    }
)


def romanised_names(text: str) -> Iterator[Span]:
    """Find a Thai given name and surname written in Latin letters."""
    for match in _ROMAN_NAME.finditer(text):
        first = match.group("name").split()[0]
        if first.capitalize() in _NOT_GIVEN:
            continue
        yield Span(match.start("name"), match.end("name"), "name")


# A chat saved from LINE: "09:12<TAB>Nok Siriwan<TAB>message" or "09:12 Nok: message",
# and its system lines ("Mint unsent a message", "Aof invited Mint to the chat").
# The sender is a person unless the line is the account's or a role's.
_STAMP = r"(?m:^)[ \t]*\[?\d{1,2}[:.]\d{2}(?::\d{2})?\]?"
_SENDER_WORD = r"(?:[A-Za-z][A-Za-z'.-]*|[\u0e01-\u0e4e]+)"
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


# Thai written in Latin letters, as chat and expats type it: a cue (khun,
# chue "name", phi and nong for elder and younger, "me" and "I'm") and one
# or two words, closed by a particle (ja, ka, krub, na), a comma or the line's
# end: "khun somchai ja", "phom chue Anucha krub", "me Tom na krub".
_ROMAN_PARTICLE = (
    r"(?:ja+|jah|ka+|kha|krub|krab|kub|khrap|khrub|na|nakrub|naka|nakha|ha)(?![A-Za-z])"
)
_ROMAN_CUED = re.compile(
    r"(?<![A-Za-z'])(?P<cue>(?i:khun|chue|chuea|cheu|phi|nong)|[Pp]i|[Mm]e|I'?m|I am|[Tt]his is)"
    r"[ \t]+(?P<name>[A-Za-z][a-z'-]+(?:[ \t]+[A-Za-z][a-z'-]+)?)"
    rf"(?=[ \t]*(?:[,.!\n]|\Z|{_ROMAN_PARTICLE}))"
)
# Words a romanised sentence goes on with, which never start a name.
_ROMAN_NOT_NAMES = frozenset(
    {
        "japanese",
        "english",
        "chinese",
        "american",
        "british",
        "german",
        "farang",
        "foreigner",
        "new",
        "ja",
        "ka",
        "kha",
        "krub",
        "krab",
        "na",
        "mak",
        "dai",
        "loey",
        "tho",
        "ma",
        "pai",
        "fai",
        "faifa",
        "bill",
        "ber",
        "baan",
        "ban",
        "dap",
        "mai",
        "chai",
        "khrap",
        "the",
        "a",
        "an",
        "is",
        "my",
        "here",
        "there",
        "back",
        "again",
        "know",
        "please",
        "pls",
        "help",
        "too",
        "also",
        "sorry",
        "ok",
        "okay",
        "yes",
        "no",
        "not",
        "so",
        "very",
        "urgent",
        "home",
        "chan",
        "phom",
        "pom",
        "rao",
        "khao",
        "kao",
        "tee",
        "thi",
        "yu",
        "you",
        "it",
        "up",
        "now",
        "today",
        "later",
        "soon",
        "fine",
        "well",
        "done",
        "out",
        "in",
        "on",
    }
)


_ROMAN_CUE_HINTS = (
    "khun",
    "chue",
    "cheu",
    "phi",
    "nong",
    "pi ",
    "me ",
    "i'm",
    "im ",
    "i am",
    "this is",
)


def romanised_cued_names(text: str) -> Iterator[Span]:
    """Find a name after a cue in Thai written in Latin letters."""
    lowered = text.lower()
    if not any(cue in lowered for cue in _ROMAN_CUE_HINTS):
        return
    for match in _ROMAN_CUED.finditer(text):
        words = match.group("name").split()
        if words[0].lower() in _ROMAN_NOT_NAMES or words[0].capitalize() in _NOT_GIVEN:
            continue  # nor a nationality or a place: "I am Thai"
        cue = match.group("cue").lower()
        if cue in ("me", "i'm", "im", "i am", "this is") and not words[0][0].isupper():
            continue  # English cues name a capitalised word: "call me back" names none
        # A second word that goes on with the sentence is not the surname.
        if len(words) == 2 and words[1].lower() in _ROMAN_NOT_NAMES:
            end = match.start("name") + len(words[0])
        else:
            end = match.end("name")
        yield Span(match.start("name"), end, "name")
