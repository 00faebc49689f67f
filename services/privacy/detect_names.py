"""Find Thai personal names, titled, introduced by a cue, or from the name lists.

A title (นาย, นางสาว, คุณ, ranks, kin words, มิสเตอร์) or a cue (ชื่อ, ผู้แจ้ง,
โทรหา, ติดต่อ, ฝากถึง ...) marks the word after it; after a weak cue the word
must be in PyThaiNLP's bundled given-name or family-name lists. A given name
and a surname both from those lists are a name with no cue at all. A
nickname in brackets (สมศรี (แดง) ใจดี) belongs to the name it follows; a
foreigner's name in Thai script follows their nationality (ชาวญี่ปุ่น ทานากะ
ฮิโรชิ); a listed given name signs a short message or stands before its phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import cache, lru_cache

from pythainlp.corpus import thai_family_names, thai_female_names, thai_male_names, thai_words
from pythainlp.tokenize import word_tokenize

from services.privacy.detect_span import Span

_TH = "[\u0e01-\u0e4e]"
_SP = "[ \t]"

# Police and military ranks (ร.ต.อ., พ.ต.ท., พล.ต.ต., จ.ส.ต., ด.ต., navy and air
# force น.อ., พ.จ.อ. ...), abbreviated or in full (จ่าสิบเอก, พันตำรวจโท), are titles too.
_RANK = (
    r"(?:พล\.?)?[รพจสดน]\.(?:[ตอทสพจ]\.){1,2}"
    r"|จ่าสิบ(?:ตำรวจ)?(?:เอก|โท|ตรี)|(?:พล|พัน|ร้อย|นาวา|เรือ|จ่า|สิบ)(?:ตำรวจ|อากาศ)?(?:เอก|โท|ตรี)"
    r"|ดาบตำรวจ|พลตำรวจ|ว่าที่"
)
# Academic and medical titles (ศ.ดร., รศ., ผศ.ดร., นพ., พญ., ทพ.), royal lineage
# (ม.ร.ว., ม.ล., หม่อมหลวง), honours (คุณหญิง), monks (พระครู, พระมหา) and local
# officials (กำนัน, ผู้ใหญ่บ้าน): each stands before a name.
_HONORIFIC = (
    r"[รผ]?ศ\.(?:[ \t]?(?:ดร|นพ|พญ|ทพ)\.)?|(?:นพ|พญ|ทพญ?|ภ[กญ]|สพ\.ญ|น\.สพ)\.|ม\.(?:ร\.ว|ล|จ)\."
    r"|หม่อม(?:ราชวงศ์|หลวง|เจ้า)|คุณหญิง|ท่านผู้หญิง|พระ(?:ครู(?:ใบฎีกา|สมุห์|ปลัด)?|มหา|อธิการ|ปลัด)?"
    r"|กำนัน|ผู้ใหญ่(?:บ้าน)?|ผญบ\.|อาจารย์|ครู"
)
_TITLE = re.compile(
    rf"{_RANK}|{_HONORIFIC}|นางสาว|น\.ส\.|นาง|นาย|ด\.ช\.|ด\.ญ\.|เด็กชาย|เด็กหญิง|คุณ(?:ยาย|ตา|ย่า|ปู่|ป้า|ลุง|น้า|แม่|พ่อ)|คุณ|ดร\.|ลุง|ป้า|ยาย|น้า"
    r"|พี่|(?:แม่|พ่อ)(?:ใหญ่)?"
    # Grandparents and elders, also as the north (อุ้ย, ป้อ, ปี้) says them.
    r"|ตา|ปู่|ย่า|อุ้ย|ป้อ|ปี้"
    # Foreign titles written in Thai: มิสเตอร์จอห์น สมิธ, มาดามแอนนา.
    r"|มิสเตอร์|มิสซิส|มาดาม|มร\."
)
# Short kin words that are ordinary words too (ตา is an eye, ปู่ย่า grandparents):
# the name after them stands apart, or is no word itself.
_SHORT_KIN = frozenset({"ตา", "ปู่", "ย่า", "อุ้ย", "ป้อ", "ปี้"})
_KIN_TITLES = _SHORT_KIN | frozenset(
    {"ลุง", "ป้า", "ยาย", "น้า", "พี่", "แม่", "พ่อ", "แม่ใหญ่", "พ่อใหญ่"}
    | {f"คุณ{kin}" for kin in ("ยาย", "ตา", "ย่า", "ปู่", "ป้า", "ลุง", "น้า", "แม่", "พ่อ")}
)
_WORD_TITLES = frozenset({"นางสาว", "นาง", "นาย", "คุณ"})
# Titles that also open ordinary words or phrases (พระราม, ผู้ใหญ่บ้าน หมู่ 7,
# อาจารย์ที่ปรึกษา): the word after them must be a listed given name, or at
# least not a word, and not fused with the title into one.
_LOOSE_TITLES = frozenset({"พระ", "กำนัน", "ผู้ใหญ่บ้าน", "ผู้ใหญ่", "อาจารย์", "ครู", "ว่าที่"})
# Words a title may be glued to in running Thai ("ข้าพเจ้านายทองดี").
_GLUE_BEFORE = (
    "ชื่อ",
    "ข้าพเจ้า",
    "ติดต่อ",
    "ลค.",
    "ลูกค้า",
    "ผู้แจ้ง",
    "ผู้ขอ",
    "ผู้ร้อง",
    "ผู้ติดต่อ",
    "ผู้รับ",
    "ผู้ยื่น",
    "จาก",
    "คือ",
    "และ",
    "กับ",
    "ของ",
    "ถึง",
    "เรียน",
    "แทน",
    "ให้",
)
# Cues that introduce a name with no title: "ชื่อ", "ชื่อบัญชี", "ผู้ใช้ไฟ:",
# "แจ้งแทน", "ลงชื่อ", "ผู้แจ้ง" ...; the name must then be a known given name
# or carry a surname.
# Verbs and note shorthand that name the person next (โทรหา, ติดต่อ, ฝากถึง,
# ลค. for ลูกค้า, ปลายสาย, a letter's ข้าพเจ้า) are weak cues too.
_INTRODUCED = re.compile(
    # "I" also as the regions say it: ข้อย (Isan), ฉาน (the south), กระผม.
    rf"(?:(?P<self>(?:ผม|กระผม|ดิฉัน|ฉัน|หนู|ข้าพเจ้า|ข้อย|ข่อย|ฉาน){_SP}*ชื่อ|ชื่อเล่น|ชื่อจริง)"
    # A call's transcript: "ผม ธนากร ครับ" (someone naming themself).
    rf"|(?P<me>(?<![\u0e01-\u0e4e])(?:ผม|หนู|ข้อย|ข่อย|ฉาน))"
    # After นามสกุล the word is a surname: listed, or at least not a word.
    rf"|(?P<surname>นามสกุล)"
    rf"|(?:ชื่อ(?:-?นามสกุล|-?สกุล|บัญชี|ผู้ร้อง|ผู้แจ้ง|ผู้ติดต่อ|ลูกค้า)?|นามสกุล|ผู้แจ้ง|ผู้ติดต่อ)"
    rf"{_SP}*:|(?P<weak>ชื่อ(?:-?นามสกุล|บัญชี|ผู้ติดต่อ|ลูกค้า)?|ลงชื่อ|ผู้ใช้ไฟ(?:ฟ้า)?{_SP}*:?"
    rf"|ผู้แจ้ง|ผู้ร้อง{_SP}*:?|ผู้ติดต่อ|แจ้งแทน|ตามที่|ลูกค้าชื่อ|ลูกค้า{_SP}*:"
    rf"|โทรหา|ติดต่อ(?:กับ)?|ฝากถึง|ช่วยบอก|มอบให้|ส่ง(?:ของ|เอกสาร)?ถึง|ลค\.|ปลายสาย"
    rf"|ข้าพเจ้า|ดิฉัน"
    # Who someone is on a form or in a call, apart from the name (not เจ้าของห้องแถว).
    rf"|(?:ผู้โทร|(?:ชื่อ)?ผู้เช่า|เจ้าของ(?:บ้าน|รถ|ร้าน|ห้อง)?|คนขับ(?:ชื่อ)?|ผู้ประสานงาน"
    rf"|ผู้แทน(?:นิติบุคคล)?|ผู้มาติดต่อ|ผู้ยื่น(?:คำร้อง)?|ผู้ขอ|ชำระโดย|ผู้โอน|ผู้รับ)(?={_SP}|:)))"
    # A markdown note may set the name in bold or code: ชื่อ **สมศรี ใจดี**.
    rf"{_SP}*(?:\*\*?|`)?"
)
# Words that may follow "ผมชื่อ" and are not the name.
_NOT_SELF_NAMES = ("เล่น", "จริง", "ว่า", "อะไร", "ไม่")
# With the particles of the north (เจ้า, เน้อ), Isan (เด้อ) and the south (หนา).
_PARTICLES = frozenset(
    {"ค่ะ", "คะ", "ครับ", "คับ", "นะ", "จ้ะ", "จ้า", "ฮะ", "เด้อ", "เด้", "เน้อ", "เนาะ", "เจ้า", "หนา"}
)
# Tokens that start a new clause: after a title they mean "you"/"Mr" was not
# followed by a name, after a given name they are not a surname.
_CLAUSE_WORDS = frozenset(
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
        *_PARTICLES,
    }
)
_BREAKERS = frozenset(
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
        *_PARTICLES,
    }
)
_CUT_PREFIXES = ("เลข", "บัตร", "โทร", "เบอร์", "ชื่อ", "นามสกุล", "เจ้าของ", *_PARTICLES)
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
_NOT_NICKNAMES = frozenset(
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
        *_CLAUSE_WORDS,
    }
)
_NICKNAME = re.compile(
    rf"{_SP}*\((?:ป้า|ลุง|น้า|พี่|น้อง|ยาย|ตา)?(?P<nick>{_TH}+|[A-Z][A-Za-zÀ-ÿ'-]+(?:{_SP}[A-Z][A-Za-zÀ-ÿ'-]+){{0,2}})\)"
)
_RUN = re.compile(rf"{_TH}+")
# Not the abbreviated markers of an address (อ. จ. ต. ม. ซ. ถ. บ. 12).
_INITIAL = re.compile(r"[ \t](?![อจตมซถบ])[ก-ฮ]\.(?![\u0e01-\u0e4e]|[ \t]*[0-9๐-๙])")
_GIVEN_RUN = re.compile(rf"{_SP}?({_TH}+)")
_SURNAME_RUN = re.compile(rf"{_SP}({_TH}+)")


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
    return word.startswith(_CUT_PREFIXES) or tokens(word)[0] in _CLAUSE_WORDS


def surname_shaped(word: str) -> bool:
    """Tell whether a Thai word is built as surnames are: ordinary words joined, no word itself."""
    if len(word) < 4 or word in dictionary() or not _RUN.fullmatch(word) or _TITLE.match(word):
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


def _leading_name(run: str) -> str:
    """Cut a run of Thai letters where glued context words begin."""
    kept = ""
    for token in tokens(run):
        if kept and token.startswith(_CUT_PREFIXES):
            break
        kept += token
    return kept


def titled_names(text: str) -> Iterator[Span]:
    """Find names after a title: นาย, นางสาว, คุณ, ranks, kin words."""
    for match in _TITLE.finditer(text):
        title, start = match.group(), match.start()
        head = text[max(0, start - 10) : start]
        glued = bool(head) and not (head[-1] in " \t\n(:\"'/,[*`" or head.endswith(_GLUE_BEFORE))
        if glued and not _glued_title(text, match):
            continue
        run = _GIVEN_RUN.match(text, match.end())
        if not run:
            continue
        given = _leading_name(run.group(1))
        end = run.start(1) + len(given)
        given, end = spaced_end(text, given, end, given_names())
        if glued and given not in given_names():
            continue
        if title in _SHORT_KIN and run.start(1) == match.end() and given in dictionary():
            continue
        if not _plausible_given(title, given):
            # "พี่ต่าย (วันเพ็ญ)": a kin word's unlisted name, vouched for by
            # the listed name in brackets after it.
            nick = _NICKNAME.match(text, end)
            if not (len(given) >= 2 and nick and nick.group("nick") in given_names()):
                continue
        yield Span(start, name_end(text, end), "name")


_THAI_BEFORE = re.compile(rf"{_TH}+\Z")


def _glued_title(text: str, match: re.Match[str]) -> bool:
    """Tell whether คุณ/นาย/นาง glued to the word before it still stands apart.

    "ใครรู้จักคุณเพ็ญศรี" splits as ใคร/รู้จัก/คุณ; ขอบคุณ and บุญคุณ are one word.
    """
    if match.group() not in _WORD_TITLES:
        return False
    before = _THAI_BEFORE.search(text, max(0, match.start() - 20), match.start())
    return before is not None and tokens(before.group() + match.group())[-1] == match.group()


def spaced_end(text: str, word: str, end: int, names: frozenset[str]) -> tuple[str, int]:
    """Join a name spaced apart ("บุญ เรือง", "แก้ว ประเสริฐ") while the joined word is listed."""
    for _ in range(2):
        run = _SURNAME_RUN.match(text, end)
        if not run or word + run.group(1) not in names:
            break
        word, end = word + run.group(1), run.end(1)
    return word, end


def _plausible_given(title: str, given: str) -> bool:
    if len(given) < 2:
        return False
    if title in _LOOSE_TITLES and len(tokens(title + given)[0]) > len(title):
        return False  # fused into one word: ครูใหญ่, พระราม
    if given in given_names():
        return True
    if title in _KIN_TITLES:
        return False
    if title in _LOOSE_TITLES:
        fused = len(tokens(title + given)[0]) > len(title)
        return not fused and given not in dictionary() and not starts_clause(given)
    # A title fused into an ordinary word: นางฟ้า, คุณภาพ, นายอำเภอ.
    if title in _WORD_TITLES and len(tokens(title + given)[0]) > len(title):
        return False
    words = tokens(given)
    return words[0] not in _CLAUSE_WORDS and not _PARTICLES.intersection(words)


def surname_end(text: str, pos: int) -> int:
    """Extend a name over a following surname, if one is there."""
    run = _SURNAME_RUN.match(text, pos)
    if not run or _TITLE.fullmatch(run.group(1)):
        return pos
    surname = _leading_name(run.group(1))
    if len(surname) < 2 or surname.startswith(_CUT_PREFIXES):
        return pos
    # A surname is listed, or at least neither opens a clause nor holds a
    # word that only a sentence has (ไม่, จะ, แล้ว, particles).
    words = tokens(surname)
    auspicious = len(words) == 2 and words[0] in _SURNAME_OPENERS and words[1] in _SURNAME_MORPHEMES
    if (
        surname not in family_names()
        and not auspicious
        and (words[0] in _CLAUSE_WORDS or _BREAKERS.intersection(words))
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
    nick = _NICKNAME.match(text, end)
    if not nick or not _is_nickname(nick.group("nick")):
        return end
    return surname_end(text, nick.end()) if end == pos else nick.end()


def _is_nickname(word: str) -> bool:
    if word[0].isascii():
        return True  # the name again in Latin letters: (Anna Müller)
    if word in given_names():
        return True
    return word not in _NOT_NICKNAMES and len(tokens(word)) == 1 and len(word) <= 6


def introduced_names(text: str) -> Iterator[Span]:
    """Find untitled names introduced by a cue: "ผมชื่อ ...", "ชื่อ: ...", "โทรหา ..."."""
    for match in _INTRODUCED.finditer(text):
        run = _RUN.match(text, match.end())
        # Another cue or a title next ("เจ้าของชื่อนาง...") speaks for itself.
        if not run or _TITLE.match(run.group()) or run.group().startswith(_CUT_PREFIXES):
            continue
        leading = _leading_name(run.group())
        # Speech-to-text and faxes space a name apart: บุญ เรือง, ศรี สุข.
        lists = family_names() if match.group("surname") else given_names()
        given, given_end = spaced_end(text, leading, run.start() + len(leading), lists)
        if match.group("self"):
            # Someone giving their own name: even a word (ต้นกล้า, น้ำฝน) is one.
            if len(given) >= 2 and not given.startswith(_NOT_SELF_NAMES):
                yield Span(run.start(), name_end(text, given_end), "name")
            continue
        if match.group("me"):
            # "ผม ธนากร ครับ": a listed name that is not a word, or one the
            # speaker closes with a particle.
            after = text[given_end:].lstrip(" \t")
            if given in given_names() and (
                given not in dictionary() or after.startswith(tuple(_PARTICLES))
            ):
                yield Span(run.start(), name_end(text, given_end), "name")
            continue
        if match.group("surname"):
            if given in family_names() or not (given in dictionary() or starts_clause(given)):
                yield Span(run.start(), given_end, "name")
            continue
        weak = match.group("weak")
        if weak and (tokens(given)[0] in _CLAUSE_WORDS or given.startswith("ผู้")):
            continue
        end = name_end(text, given_end)
        surname = text[given_end:end].strip()
        # A surname built as surnames are (แก้วดี) vouches for a given name
        # that is also a word (สายสมร).
        shaped = surname_shaped(surname)
        if weak and given in dictionary() and given not in given_names() and not shaped:
            continue
        known = given in given_names() or surname in family_names() or shaped
        # Someone answering with a name and closing it with a particle ("ชื่อ
        # ปริญญ์ ค่ะ") names themself even outside the lists, if it is no word.
        closed = text[end:].lstrip(" \t").startswith(tuple(_PARTICLES))
        known = known or (closed and _not_words(given) and not starts_clause(given))
        # After a weak cue (a bare ชื่อ, ผู้แจ้ง ...) only a name from the name
        # lists counts; after "ชื่อ:" any untitled word with a surname does.
        if known or (not weak and end > given_end):
            yield Span(run.start(), end, "name")


def _not_words(given: str) -> bool:
    """Tell whether a word is one or two pieces, not all of them ordinary words."""
    pieces = tokens(given)
    return len(pieces) <= 2 and not all(piece in dictionary() for piece in pieces)


_PAIR = re.compile(rf"(?<![\u0e01-\u0e4e.])({_TH}+){_SP}(?={_TH})")


def paired_names(text: str) -> Iterator[Span]:
    """Find a given name and a surname side by side, with no cue at all.

    Both must come from the bundled name lists, and not both be ordinary
    words, so that two words of a sentence are not taken for a name.
    """
    for match in _PAIR.finditer(text):
        given = _glued_given(match.group(1))
        if not given:
            # Only a listed surname of five letters or more next can vouch
            # for a given name spelt from English: look before tokenising.
            after = _SURNAME_RUN.match(text, match.end(1))
            if not after or len(after.group(1)) < 5 or after.group(1) not in family_names():
                continue
        end = surname_end(text, match.end(1))
        surname = text[match.end(1) : end].strip()
        if not given and _transliterated(match.group(1), surname):
            given = match.group(1)
        if not given:
            continue
        if surname not in family_names() and not surname_shaped(surname):
            continue
        if given in dictionary() and surname in dictionary():
            continue
        yield Span(match.end(1) - len(given), name_end(text, match.end(1), end), "name")


_TRANSLITERATED_NOT = frozenset({"ลูกค้า", "คุณ", "บ้าน", "ร้าน", "บริษัท", "ตระกูล", "ครอบครัว"})


def _transliterated(given: str, surname: str) -> bool:
    """Tell whether an unlisted word before a listed surname is a given name spelt from English.

    Thai people with English given names write them in Thai script (แอนนา,
    ไมเคิล, เจสสิก้า): no Thai word and no pieces of words, before a surname
    from the lists that is no word itself.
    """
    if len(given) < 3 or len(surname) < 5 or surname not in family_names():
        return False
    pieces = tokens(given)
    if len(pieces) != 1 or starts_clause(given) or given in _TRANSLITERATED_NOT:
        return False
    return given in dictionary() or surname not in dictionary()


@lru_cache(maxsize=8192)
def _glued_given(run: str) -> str:
    """Return the listed given name ending ``run``, the whole run or glued after ordinary words.

    Thai writes no space between words, so a name may follow a verb or a
    preposition in one run (โทรหาสมชาย ใจดี); the words before it must all
    be ordinary words, and the name itself none.
    """
    if run in given_names():
        return run
    # Look for a listed name at the run's end before tokenising it.
    names, words_list = given_names(), dictionary()
    if not any(
        run[-n:] in names and run[-n:] not in words_list for n in range(3, min(len(run), 16))
    ):
        return ""
    words = tokens(run)
    for cut in range(len(words) - 1, max(0, len(words) - 3), -1):
        given = "".join(words[cut:])
        head = words[:cut]
        if (
            given in given_names()
            and given not in dictionary()
            and all(w in dictionary() and not _TITLE.fullmatch(w) for w in head)
        ):
            return given
    return ""


# A foreigner named after who they are and their nationality: "ลูกค้าชาวญี่ปุ่น
# ทานากะ ฮิโรชิ", "แรงงานเมียนมา หม่อง ซอ วิน" (not "เป็นชาวต่างชาติ เช่าบ้าน").
_NATIONALITY = re.compile(
    r"(?:ลูกค้า|ผู้เช่า|ผู้ร้อง|ผู้แจ้ง|ผู้ใช้ไฟ(?:ฟ้า)?|ผู้ขอ|นักท่องเที่ยว|นักลงทุน|แรงงาน|คนงาน|ลูกจ้าง)"
    r"(?:ชาว)?(?:ต่างชาติ|ต่างประเทศ|ต่างด้าว|ญี่ปุ่น|จีน|เกาหลี|อเมริกัน|อังกฤษ|เยอรมัน|ฝรั่งเศส|อินเดีย|พม่า"
    r"|เมียนมา|กัมพูชา|เขมร|ลาว|เวียดนาม|ไต้หวัน|รัสเซีย|มาเลเซีย|สิงคโปร์|ฟิลิปปินส์)"
    rf"{_SP}+"
)
_NAME_WORD = re.compile(rf"({_TH}+)(?:{_SP}|(?=\W)|\Z)")
_NOT_NAME_PREFIXES = ("พาสปอร์ต", "หนังสือ", "ชื่อ", "ชาว", "ที่", "ซึ่ง")


def foreign_names(text: str) -> Iterator[Span]:
    """Find a foreigner's name written in Thai right after their nationality."""
    for match in _NATIONALITY.finditer(text):
        pos, end = match.end(), match.end()
        for _ in range(3):
            word = _NAME_WORD.match(text, pos)
            if (
                not word
                or starts_clause(word.group(1))
                or word.group(1).startswith(_NOT_NAME_PREFIXES)
            ):
                break
            end, pos = word.end(1), word.end()
        if end - match.end() >= 2:
            yield Span(match.end(), end, "name")


# A listed given name right before a phone number ("ไฟดับค่ะ น้อย 089-...") or
# signing a short message at its end ("ได้รับเงินแล้ว ขอบคุณค่ะ จิราพร").
_BEFORE = re.compile(rf"(?<![\u0e01-\u0e4e])({_TH}+){_SP}+\Z")
_LAST_WORD = re.compile(rf"(?<![\u0e01-\u0e4e])({_TH}+)[\s.!~]*\Z")
# What may stand before such a name: the start, a line break or bracket, or a
# particle closing the sentence before it ("ไฟดับค่ะ น้อย 089...").
_SIGN_BEFORE = re.compile(rf"(?:\A|[\n(:,]|(?:{'|'.join(_PARTICLES)}|ขอบคุณ)){_SP}*\Z")
_SHORT_MESSAGE = 160
# Words a phone or a message's end follows that are not names.
_NOT_SIGNERS = frozenset({"ใหม่", "เดิม", "สำรอง", "ด่วน", "บ้าน", "มือถือ", "กลับ", "ได้", "นะ", "ด้วย"})


def standalone_names(text: str, phones: Sequence[Span]) -> Iterator[Span]:
    """Find a listed given name standing before one of ``phones`` or at a short message's end."""
    found = [m for p in phones if (m := _BEFORE.search(text, max(0, p.start - 30), p.start))]
    if len(text) <= _SHORT_MESSAGE:
        found += _LAST_WORD.finditer(text)
    for match in found:
        word = match.group(1)
        if word not in given_names() or word in _NOT_SIGNERS or starts_clause(word):
            continue
        # A listed name that is also a word (น้อย, วัน) must stand apart.
        if word in dictionary() and not _SIGN_BEFORE.search(text, 0, match.start(1)):
            continue
        yield Span(match.start(1), match.end(1), "name")


# Whose a number is, in brackets right after it: "พร้อมเพย์ 081… (ธนพล)".
_BRACKETED = re.compile(
    rf"{_SP}*\({_SP}*(?P<title>นางสาว|นาง|นาย|คุณ|น\.ส\.)?{_SP}*(?P<name>{_TH}+(?:{_SP}{_TH}+)?){_SP}*\)"
)


def bracketed_names(text: str, numbers: Sequence[Span]) -> Iterator[Span]:
    """Find the owner's name in brackets right after one of ``numbers``."""
    for number in numbers:
        match = _BRACKETED.match(text, number.end)
        if not match:
            continue
        name = match.group("name")
        first = name.split()[0]
        if starts_clause(first) or first in _NOT_NICKNAMES:
            continue
        if match.group("title") or first in given_names() or name.split()[-1] in family_names():
            yield Span(
                match.start("title") if match.group("title") else match.start("name"),
                match.end("name"),
                "name",
            )


def known_names(text: str, names: Sequence[str]) -> Iterator[Span]:
    """Find the customer's own names, whole or by parts that are not words."""
    for full in names:
        parts = full.split()
        if not parts:
            continue
        patterns = [r"\s+".join(map(re.escape, parts))]
        patterns += [re.escape(p) for p in parts if len(p) >= 3 and p not in dictionary()]
        for pattern in patterns:
            if pattern.isascii():
                pattern = rf"\b{pattern}\b"
            for match in re.finditer(pattern, text, re.I):
                yield Span(match.start(), match.end(), "name")


# A name split into syllables by OCR, speech-to-text or an elderly hand:
# "สม ศักดิ์ ใจ ดี", short pieces one space apart.
_PIECES = re.compile(
    r"(?<![\u0e01-\u0e4e])[\u0e01-\u0e4e]{1,6}(?:[ \t][\u0e01-\u0e4e]{1,6}){2,7}(?![\u0e01-\u0e4e])"
)
_PIECE = re.compile(r"[\u0e01-\u0e4e]+")


def spaced_names(text: str) -> Iterator[Span]:
    """Find a listed given name and a surname both written in spaced-apart pieces."""
    for run in _PIECES.finditer(text):
        pieces = [(m.start(), m.end(), m.group()) for m in _PIECE.finditer(run.group())]
        i = 0
        while i < len(pieces):
            found = _spaced_pair(pieces, i)
            if found:
                yield Span(run.start() + pieces[i][0], run.start() + pieces[found - 1][1], "name")
                i = found
            else:
                i += 1


def _spaced_pair(pieces: list[tuple[int, int, str]], i: int) -> int:
    """Return the index after a spaced given name and surname starting at ``i``, or 0."""
    for g in (3, 2, 1):
        given = "".join(p[2] for p in pieces[i : i + g])
        if len(pieces) < i + g + 1 or given not in given_names():
            continue
        # The shortest listed surname wins: a spaced sentence goes on after it.
        for f in (1, 2, 3):
            if g + f < 3 or len(pieces) < i + g + f:
                continue
            surname = "".join(p[2] for p in pieces[i + g : i + g + f])
            if surname not in family_names():
                continue
            if given in dictionary() and surname in dictionary():
                continue
            return i + g + f
    return 0


_KIN_GLUED = frozenset({"ลุง", "ป้า", "ยาย", "น้า", "ตา", "ปู่", "ย่า", "พี่", "น้อง", "อา"})
_KIN_HINT = re.compile("|".join(sorted(_KIN_GLUED, key=len, reverse=True)))
_THAI_RUN = re.compile(rf"{_TH}+")
# Shops, estates and places named after someone (ร้านป้าสมศรี, หมู่บ้านลุงชาญ).
_PLACE_WORDS = frozenset(
    {"ร้าน", "หมู่บ้าน", "ตลาด", "บริษัท", "ซอย", "ชุมชน", "วัด", "โรงเรียน", "ห้าง", "หอพัก", "สวน"}
)


def kin_glued_names(text: str) -> Iterator[Span]:
    """Find a kin word and a listed given name glued inside a run of Thai (บอกลุงสมชายด้วย)."""
    names, words_list = given_names(), dictionary()
    seen: set[int] = set()
    for kin in _KIN_HINT.finditer(text):
        # Look for a listed name right after the kin word before tokenising.
        rest = text[kin.end() : kin.end() + 16]
        if not any(
            rest[:n] in names and rest[:n] not in words_list for n in range(2, len(rest) + 1)
        ):
            continue
        run = _THAI_RUN.search(text, max(0, kin.start() - 40))
        while run and run.end() < kin.end():
            run = _THAI_RUN.search(text, run.end())
        if not run or run.start() in seen:
            continue
        seen.add(run.start())
        words = tokens(run.group())
        offset = 0
        for j, word in enumerate(words):
            if word in _KIN_GLUED and not _PLACE_WORDS.intersection(words[:j]):
                given = _given_after(words, j + 1)
                if given:
                    start = run.start() + offset
                    yield Span(start, start + len(word) + len(given), "name")
            offset += len(word)


def _given_after(words: tuple[str, ...], k: int) -> str:
    """Return the listed given name made of the words from ``k``, no ordinary word, or ""."""
    for n in (3, 2, 1):
        given = "".join(words[k : k + n])
        if k + n <= len(words) and given in given_names() and given not in dictionary():
            return given
    return ""
