"""Find nicknames by the frame they stand in.

Thai people go by a nickname of one or two syllables (ต้น, แบม, มายด์), many
of them ordinary words or English words in Thai script, so a nickname is
told by where it stands: after a kin word (พี่ตูน, น้อง แบม), between a
pronoun and เอง or a particle (ฉัน มายด์ เอง, ผม ต้น ลูกชาย), before พูด in a
voicemail (บุษบา พูดนะคะ), between two particles (ค่ะ อรุณี นะคะ), or as a chat
line's sender (ต่าย: …). In those frames a word is taken when it is a common
nickname, a listed given name, or no dictionary word at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from services.privacy.detect_lexicon import (
    CLAUSE_WORDS,
    PARTICLES,
    dictionary,
    given_names,
    tokens,
)
from services.privacy.detect_span import BLANK, THAI_CHAR, Span

_TH, _SP = THAI_CHAR, BLANK

# Common Thai nicknames, many of them words (ต้น "tree", ปลา "fish") or
# English words in Thai script (เบียร์, กอล์ฟ); only ever taken inside a frame.
_NICKNAMES = frozenset(
    [
        "กบ",
        "กร",
        "กล้วย",
        "กวาง",
        "ก้อง",
        "ก้อย",
        "กอล์ฟ",
        "กาย",
        "กิ๊ฟ",
        "กิ๊ก",
        "กุ้ง",
        "เก่ง",
        "เก๋",
        "แก้ม",
        "แก้ว",
        "ไก่",
        "ขวัญ",
        "ขิม",
        "ไข่มุก",
        "คิม",
        "เค้ก",
        "แคท",
        "จอย",
        "จ๋า",
        "จิ๋ว",
        "จูน",
        "เจ",
        "เจน",
        "เจมส์",
        "แจ็ค",
        "แจน",
        "ชมพู่",
        "ช้าง",
        "ชิน",
        "ชิ",
        "ดาว",
        "ดิว",
        "ตั้ม",
        "ตาล",
        "ติ๊ก",
        "ตุ๊ก",
        "ตุ๊กตา",
        "ตูน",
        "ต้น",
        "ต่อ",
        "ต่าย",
        "ต้อม",
        "ต๊ะ",
        "เต้ย",
        "เติ้ล",
        "แตง",
        "แต๋ว",
        "โต้ง",
        "ไตเติ้ล",
        "ทราย",
        "เต๋า",
        "ท็อป",
        "น้ำ",
        "น้ำฝน",
        "น้ำหวาน",
        "นก",
        "นัท",
        "นิด",
        "นุ่น",
        "นิ่ม",
        "นุช",
        "เนม",
        "แนน",
        "โน้ต",
        "บอย",
        "บอส",
        "บอม",
        "บี",
        "บีม",
        "เบนซ์",
        "เบล",
        "เบียร์",
        "แบงค์",
        "แบม",
        "ใบเตย",
        "ปลา",
        "ปอ",
        "ปอนด์",
        "ปาล์ม",
        "ปิ่น",
        "เปิ้ล",
        "เปี๊ยก",
        "แป้ง",
        "แป้ม",
        "โป้ง",
        "ปุ๊ก",
        "ปุ้ย",
        "ฝน",
        "ฝ้าย",
        "พลอย",
        "พิม",
        "พีช",
        "พั้นช์",
        "เพชร",
        "แพรว",
        "แพร",
        "ฟ้า",
        "ฟิล์ม",
        "เฟิร์น",
        "เฟียส",
        "มด",
        "มายด์",
        "มิ้น",
        "มิ้นท์",
        "มิว",
        "มุก",
        "เมย์",
        "แมน",
        "แม็ก",
        "โม",
        "โม่",
        "ไม้",
        "ยุ้ย",
        "เอ้",
        "ริน",
        "ลูกตาล",
        "ลูกหว้า",
        "วุ้น",
        "ส้ม",
        "ส้มโอ",
        "หญิง",
        "หนิง",
        "หน่อย",
        "หมวย",
        "หมิว",
        "หมู",
        "หมี",
        "หลิน",
        "อ้อ",
        "อ้อม",
        "อ๋อม",
        "อาร์ม",
        "อิง",
        "เอ",
        "เอก",
        "เอิร์ธ",
        "เอิร์น",
        "แอน",
        "แอ้ม",
        "โอ",
        "โอ๋",
        "โอ๊ต",
        "โอม",
        "ไอซ์",
        "ไอซ์ซี่",
        "เฟรม",
        "เฟิส",
        "ออย",
        "อุ้ม",
        "เอ็ม",
        "บิว",
        "บิ๊ก",
        "แบงก์",
        "ปั๊ม",
        "จุ๋ม",
        "ติ๋ม",
        "ติ๋ว",
        "ตุ่ม",
        "นิว",
        "ป๊อป",
        "เปา",
        "เจ้ย",
        "แจ๋ว",
        "แหม่ม",
    ]
)
_KIN = "พี่|น้อง|เจ๊|เฮีย|ป้า|ลุง|น้า|อา|ยาย"
_WORD = rf"(?P<nick>{_TH}{{2,8}})"
_FRAMES = (
    # A kin word glued or one blank before, the nickname ending its run.
    re.compile(rf"(?<![\u0e01-\u0e4e])(?P<kin>{_KIN})(?P<gap>{_SP}?){_WORD}(?![\u0e01-\u0e4e])"),
    # A pronoun, the nickname, then เอง, a particle or a relation.
    re.compile(
        rf"(?<![\u0e01-\u0e4e])(?:ผม|ฉัน|หนู|เรา|ดิฉัน|ชั้น|เค้า|ผมเอง|หนูเอง){_SP}+{_WORD}"
        rf"{_SP}*(?=เอง|ครับ|ค่ะ|คะ|คับ|จ้า|นะ|ลูกชาย|ลูกสาว|หลาน)"
    ),
    # A voicemail: "บุษบา พูดนะคะ".
    re.compile(rf"(?<![\u0e01-\u0e4e]){_WORD}{_SP}+(?=พูด(?:นะ)?(?:คะ|ค่ะ|ครับ|คับ|จ้า))"),
    # Between two particles: "ค่ะ อรุณี นะคะ".
    re.compile(rf"(?:ค่ะ|ครับ|คับ){_SP}+{_WORD}{_SP}+(?=นะ(?:คะ|ครับ|คับ|จ๊ะ))"),
    # A chat line's sender, after a bracket or an emoji at the line's start.
    re.compile(
        rf"(?m:^)[ \t]*[^\s\u0e01-\u0e4e:][^\n\u0e01-\u0e4e:]{{0,20}}?[ \t]{_WORD}(?=[ \t]?:)"
    ),
)
_KIN_FRAME, _SENDER_FRAME = 0, 4
_HINT = re.compile(rf"{_KIN}|ผม|ฉัน|หนู|เรา|ดิฉัน|ชั้น|เค้า|พูด|นะ|:")
_NOT_NICKNAMES = frozenset(
    {"สาว", "ชาย", "ๆ", "เขา", "เรา", "ทุกคน", "น้อง", "พี่", "ชื่อ", "เอง", "ลูก", "ช่าง"}
)


def nicknames(text: str) -> Iterator[Span]:
    """Find a nickname in one of its frames."""
    if not _HINT.search(text):
        return
    for i, frame in enumerate(_FRAMES):
        for match in frame.finditer(text):
            nick = match.group("nick")
            if i == _KIN_FRAME and not _kin_opens(text, match):
                continue
            # Inside a word frame (a kin word) a plain word is a relation, not a name.
            if _is_nickname(nick, strict=i in (_KIN_FRAME, _SENDER_FRAME)):
                yield Span(match.start("nick"), match.end("nick"), "name")


# Shops, estates and places named after someone (ร้าน ป้าแดง, ซอย ลุงชาญ).
_PLACE_BEFORE = re.compile(
    rf"(?:ร้าน|หมู่บ้าน|ตลาด|บริษัท|ซอย|ซ\.|ชุมชน|วัด|โรงเรียน|ห้าง|หอพัก|สวน|ครัว){_SP}*\Z"
)


def _kin_opens(text: str, match: re.Match[str]) -> bool:
    """Tell whether the kin word stands as a word, not the start of a longer one (ป้าย, อากาศ)."""
    if _PLACE_BEFORE.search(text, max(0, match.start() - 12), match.start()):
        return False
    return bool(match.group("gap")) or _first_token(match.group("kin") + match.group("nick")) == (
        match.group("kin")
    )


@cache
def _first_token(run: str) -> str:
    return tokens(run)[0]


def is_nickname(word: str) -> bool:
    """Tell whether a Thai word is a nickname when a frame or a label calls it one."""
    return _is_nickname(word, strict=False)


@cache
def _is_nickname(word: str, *, strict: bool) -> bool:
    if word in _NOT_NICKNAMES or word in PARTICLES or word in CLAUSE_WORDS:
        return False
    if word in _NICKNAMES:
        return True
    if word in given_names() and (not strict or word not in dictionary()):
        return True
    # No word at all, nor a run of words: a name spelt as it sounds (แบม, มายด์).
    return len(word) >= 3 and not all(t in dictionary() for t in tokens(word))
