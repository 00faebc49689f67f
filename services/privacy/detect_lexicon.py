"""The word lists and name lists the Thai name finders share.

PyThaiNLP's bundled given-name, family-name and word lists, the cached
tokeniser, the particles of each region, and the words that open a clause
rather than continue a name (``starts_clause``).
"""

from __future__ import annotations

from functools import cache, lru_cache

from pythainlp.corpus import thai_family_names, thai_female_names, thai_male_names, thai_words
from pythainlp.tokenize import word_tokenize

# With the particles of the north (เจ้า, เน้อ), Isan (เด้อ) and the south (หนา).
PARTICLES = frozenset(
    {"ค่ะ", "คะ", "ครับ", "คับ", "นะ", "จ้ะ", "จ้า", "ฮะ", "เด้อ", "เด้", "เน้อ", "เนาะ", "เจ้า", "หนา"}
)
# Tokens that start a new clause: after a title they mean "you"/"Mr" was not
# followed by a name, after a given name they are not a surname.
CLAUSE_WORDS = frozenset(
    {
        "ภาพ",
        "ค่า",
        "พี่",
        "น้อง",
        "พ่อ",
        "แม่",
        "ตา",
        "ยาย",
        "ลุง",
        "ป้า",
        "พนักงาน",
        "ลูกค้า",
        "เจ้าหน้าที่",
        "ช่าง",
        "หมอ",
        "ครู",
        "ของ",
        "แจ้ง",
        "โทร",
        "ขอ",
        "ไม่",
        "ได้",
        "มา",
        "ไป",
        "ให้",
        "ว่า",
        "ที่",
        "จะ",
        "ยัง",
        "เป็น",
        "มี",
        "ก็",
        "ต้อง",
        "ช่วย",
        "ทำ",
        "บอก",
        "และ",
        "หรือ",
        "กับ",
        "ซึ่ง",
        "โดย",
        "อายุ",
        "ฝ่าย",
        "ใช้",
        "อยู่",
        "เคย",
        "ติดต่อ",
        "ผู้",
        "คน",
        "ด้วย",
        "แล้ว",
        "เลย",
        "อีก",
        "ตอน",
        "เมื่อ",
        "เพื่อ",
        "เพราะ",
        "ถ้า",
        "เรื่อง",
        "รับ",
        "ส่ง",
        "สาขา",
        "ฝาก",
        "ด้วยว่า",
        "เปลี่ยน",
        "ยืนยัน",
        "ขอให้",
        "นี้",
        "นั้น",
        "คือ",
        "เจ้าของ",
        # Roles and places written after a titled name: พระครู... เจ้าอาวาส.
        "เจ้าอาวาส",
        "ทหาร",
        "ตำรวจ",
        "ประธาน",
        "หัวหน้า",
        "ผู้จัดการ",
        "ที่ปรึกษา",
        "เลขา",
        "คลินิก",
        "วัด",
        "กำนัน",
        "ผู้ใหญ่บ้าน",
        *PARTICLES,
    }
)
BREAKERS = frozenset(
    {
        "ไม่",
        "จะ",
        "แล้ว",
        "ว่า",
        "ด้วยว่า",
        "ยัง",
        "ก็",
        "ต้อง",
        "เลย",
        "อีก",
        "และ",
        "หรือ",
        "เพราะ",
        "เมื่อ",
        "ถ้า",
        "เพื่อ",
        "ซึ่ง",
        *PARTICLES,
    }
)
CUT_PREFIXES = ("เลข", "บัตร", "โทร", "เบอร์", "ชื่อ", "นามสกุล", "เจ้าของ", *PARTICLES)


@cache
def given_names() -> frozenset[str]:
    """Return the bundled Thai given names, female and male."""
    return frozenset(thai_female_names()) | frozenset(thai_male_names())


@cache
def family_names() -> frozenset[str]:
    """Return the bundled Thai family names."""
    return frozenset(thai_family_names())


@cache
def dictionary() -> frozenset[str]:
    """Return the bundled Thai word list."""
    return frozenset(thai_words())


@lru_cache(maxsize=8192)
def tokens(text: str) -> tuple[str, ...]:
    """Split Thai text into words (the same few words recur: cached)."""
    return tuple(str(t) for t in word_tokenize(text, engine="newmm", keep_whitespace=False))


def starts_clause(word: str) -> bool:
    """Tell whether a Thai word opens a new clause rather than continuing a name."""
    return word.startswith(CUT_PREFIXES) or tokens(word)[0] in CLAUSE_WORDS
