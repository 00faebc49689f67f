"""Find postal addresses in Thai and English free text.

An address starts at an anchor (a house or room number, a labelled house
number, a housing estate) and runs over the components that follow it:
หมู่, ซอย, ถนน, ตำบล/แขวง, อำเภอ/เขต, จังหวัด, the postcode, and inside
buildings ห้อง, ชั้น, อาคาร, คอนโด... A street or area named without a house
or room number is where a fault is, not where someone lives, and stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from pythainlp.corpus import provinces

from services.privacy.detect_span import BLANK, THAI_CHAR, Span

_D = "[0-9๐-๙]"
_TH, _SP = THAI_CHAR, BLANK
_HOUSE = rf"{_D}+(?:/{_D}+)?(?:-{_D}{{1,3}}(?![0-9๐-๙-]))?"
# A room, floor or building: 1204, 5/12, B205, A.
_ROOM = rf"(?:[A-Za-z]-?{_D}+(?:/{_D}+)?[A-Za-z]?|{_D}+(?:/{_D}+)?[A-Za-z]?|[A-Z](?![A-Za-z]))"
# A place name runs to a space or, in faxed text without spaces, to the next
# abbreviated marker (อ. จ. ต. ...) or the postcode.
_PLACE = rf"{_TH}+?(?:-{_TH}+?)?(?=[อจตถซม]\.|{_D}|[\s,()]|\Z)"
_EN_PLACE = r"[A-Z][a-z]+(?: [A-Z][a-z]+)*"
# Words that begin the name of a residential building or estate.
_BUILDING = r"คอนโด(?:มิเนียม)?|หอพัก|อพาร์[ทต]เมนท?์|แมนชั่น|การเคหะ|อาคาร|ตึก|แฟลต"
# Words that open a clause: never part of a place's name.
_NOT_BRIDGED = (
    "โทร",
    "ติดต่อ",
    "เบอร์",
    "แจ้ง",
    "ไฟ",
    "ค่ะ",
    "คะ",
    "ครับ",
    "นะ",
    "และ",
    "หรือ",
    "แต่",
    "ที่",
    "ให้",
    "ส่ง",
    "ยัง",
    "ไม่",
    "มี",
    "ได้",
    "อยู่",
    "ตั้งแต่",
    "ถึง",
    "จาก",
    "เสา",
    "ทั้ง",
    "ดวง",
    "เริ่ม",
    "ช่วง",
    "แถว",
    "หน้า",
    "ใกล้",
    "ตรง",
    "เป็น",
    "คือ",
)
_NOT_ESTATE = "|".join(_NOT_BRIDGED)
# หมู่ typed หมุ่ or หมู, เลขที่ typed เลขที; ต and อ typed without their dot
# before a place name that begins as place names do (ตบางเลน, อเมืองพิษณุโลก).
_MOO = "หม[ูุ]่?"
# Elderly customers space the label out: บ้าน เลข ที่.
_NUMBER_LABEL = rf"เลข(?:{_SP}?ที่|ที)"
_PLACE_START = "บาง|บ้าน|เมือง|หนอง|ท่า|ดอน|โคก|ห้วย|ทุ่ง|วัง|ป่า|แม่|เชียง|สัน|โพธิ์|โนน|บึง|ปาก|ไทร|ควน|คลอง"
# Components that carry their own label: an address may run over up to three
# unlabelled words (a building's name) to reach one of these.
_LABELLED = (
    rf"หมู่บ้าน{_SP}*{_PLACE}(?:{_SP}{_D}+(?![/0-9๐-๙]))?",
    rf"(?:{_MOO}(?:ที่)?|ม\.){_SP}*{_D}+",
    rf"(?:ซอย|ซ\.){_SP}*(?:{_PLACE}(?:{_SP}?{_HOUSE})?|{_HOUSE})",
    rf"(?:ถนน|ถ\.){_SP}*{_PLACE}(?:{_SP}{_D}{{1,3}}(?!{_D}))?",
    # ตำบน and อำเพอ are how the words are often misspelt.
    rf"(?:ตำบล|ตำบน|แขวง|ต\.|อำเภอ|อำเพอ|เขต|อ\.|จังหวัด|จ\.|[ตอ](?={_PLACE_START})){_SP}*{_PLACE}",
    # A side lane off a soi, numbered: แยก 5, ซ.ย่อย 3 (a ซอย already).
    rf"แยก{_SP}*{_D}+(?:-{_D}+)?(?![0-9๐-๙/])",
    # A post office box and the post office holding it.
    rf"ตู้{_SP}*(?:ปณ\.?|ป\.ณ\.|ไปรษณีย์){_SP}*{_D}+",
    rf"(?:ปณจ?\.|ป\.ณ\.|(?:ที่ทำการ)?ไปรษณีย์)(?:จ\.|อำเภอ|อ\.)?{_SP}*{_PLACE}",
    r"(?:P\.?O\.?|Post Office)[ \t]*Box[ \t]*\d+",
    rf"{_EN_PLACE} Post Office",
    rf"(?:ห้อง|ชั้น|อาคาร|ตึก|แฟลต|ทาวเวอร์){_SP}*{_ROOM}(?![0-9๐-๙A-Za-z])",
    rf"(?:{_BUILDING})(?:{_SP}?(?!{_NOT_ESTATE}){_PLACE})?",
    rf"(?:บ้าน{_SP}?)?{_NUMBER_LABEL}{_SP}*{_HOUSE}",
    rf"{_D}{{1,4}}/{_D}{{1,3}}(?![0-9๐-๙/])",
    # A house numbered after บ้าน among an address's parts: ซ.12 บ้าน 88.
    rf"(?<![\u0e01-\u0e4e])บ้าน{_SP}+{_HOUSE}(?![0-9๐-๙/])",
    r"กรุงเทพฯ|กทม\.?",
    r"[Mm]oo\.?[ \t]*\d+",
    rf"(?:[TA]\.|Tambon|Amphoe|Khet|Khwaeng|Soi|soi)[ \t]*{_EN_PLACE}(?:[ \t]+\d+)?",
    r"(?:Room|Unit|Floor|Fl\.|Tower|Building|Bldg\.?)[ \t]*[A-Z0-9]+\b",
    r"\d{1,3}(?:st|nd|rd|th)[ \t]+(?:Floor|Fl\.?)",
    rf"{_EN_PLACE}(?:-{_EN_PLACE})?(?:[ \t]\d+)? (?:Road|Rd\.?|Street|St\.|Lane)",
    # Bangkok's long roads, whose sois are numbered: Sukhumvit 77, Rama 9.
    r"(?:Sukhumvit|Ratchadaphisek|Ratchada|Phahonyothin|Phaholyothin|Lat Phrao|Ladprao"
    r"|Ramkhamhaeng|Ramintra|Charoen Krung|Charoennakorn|Phetchaburi|Phetkasem|Sathorn|Silom"
    r"|Vibhavadi|Ngamwongwan|Chaeng Watthana|Bang Na|Rama)[ \t]+(?:\d{1,3}|[IVX]{1,4})\b",
)
# Condominiums are named by their developers' brands, and the name runs on
# over a location (ไอดีโอ โมบิ สุขุมวิท 66, ศุภาลัย ปาร์ค แยกติวานนท์): inside an
# address, a brand opens a building's name of up to five words and numbers.
_CONDO_BRANDS = (
    "ไอดีโอ|ศุภาลัย|ลุมพินี|แชปเตอร์|ริธึ่ม|ไลฟ์|แอสปาย|เดอะ|ดิ|พลัม|เคนซิงตัน|ควินทารา|โนเบิล"
    "|เอ็ลลิโอ|เอลลิโอ|แอทโมซ|นิช|ไนท์บริดจ์|ยู ดีไลท์|ดีคอนโด|เซ็นทริค|แฮปปี้|รีเจ้นท์|รีเจนท์"
    "|ชีวาทัย|ไอคอนโด|แกรนด์|เมโทร|ทรีนิตี้|คาซ่า|ศรีวรา|พฤกษา|แอสปาย|เอ สเปซ|แอชตัน|ภิรัช|สกาย"
    "|ศุภาลัย|แลนด์มาร์ค|ซีคอน|เดอะเบส|เดอะไลน์|ไลฟ์|โมดิซ|นารา|บ้านสวน|เมย์แฟร์"
)
# Nor over a clause, or a labelled component the address goes on with (ถ.ประชาชื่น).
_NOT_CONDO = (
    "มิเตอร์|ขอ|ช่วย|รบกวน|กระพริบ|ดับ|เสีย|ค่า|บิล|ชำระ|โอน|ลูก|เจ้าของ|ผู้|ห้อง|ชั้น|ตึก"
    "|ถนน|ซอย|แขวง|เขต|ตำบล|อำเภอ|จังหวัด|หมู่|กรุงเทพ|กทม"
)
_CONDO_WORD = (
    rf"(?!{_NOT_ESTATE}|{_NOT_CONDO}){_TH}{{2,}}(?:-{_TH}+)?(?![.\u0e01-\u0e4e])"
    rf"|{_D}{{1,3}}(?![0-9๐-๙/.])"
)
_CONDO_NAME = rf"(?:{_CONDO_BRANDS})(?:{_TH}*)(?:{_SP}+(?:{_CONDO_WORD})){{0,5}}"
_COMPONENTS = (
    *_LABELLED,
    _CONDO_NAME,
    # A village inside an address: หมู่ 11 บ้านหนองแวง (not "บ้านอยู่").
    rf"บ้าน(?!{_NOT_ESTATE}){_PLACE}",
    rf"{_D}{{5}}(?!{_D})",
    # Inside an address, a capitalised place name closed by a comma (district,
    # sub-district in English).
    rf"{_EN_PLACE}(?=,)",
    rf"{_EN_PLACE}[ \t]+\d{{5}}(?!\d)",
    # A house number inside an English address: "Room 804, The Base Condo, 17 Sukhumvit ...".
    r"\d{1,4}(?:/\d{1,4})?(?=[ \t]+[A-Z][a-z])",
)


@cache
def _component() -> re.Pattern[str]:
    """Compile the address components, with province names written bare."""
    names = sorted((str(p) for p in provinces()), key=len, reverse=True)
    return re.compile("|".join([*_COMPONENTS, *map(re.escape, names)]))


# Parts are written apart by spaces and commas, a slash or a bar with spaces
# around it (หมู่ 11 / บ้านเลขที่ 3 / ต.ป่าแดด), or one to a line.
_COMPONENT_SEP = re.compile(r"[ \t]*(?:,|/(?![0-9๐-๙])|\||\n)?[ \t]*")
# Up to three unlabelled words between components: a building's or an estate's
# own name (ลุมพินี วิลล์, ศุภาลัย ริวา แกรนด์, บางใหญ่). Never over words of a new clause.
_BRIDGE_WORD = re.compile(rf"(?:{_TH}+|[A-Z][a-z]+){_SP}*,?{_SP}*")
_LABELLED_COMPONENT = re.compile("|".join(_LABELLED))
_POSTCODE_END = re.compile(rf"{_D}{{5}}\Z")
# Parts inside a building (room, floor, block) and house numbers extend an
# address but do not make one: "ห้องประชุม 2 อาคาร 3 ชั้น 2" is an office.
_INSIDE = re.compile(r"(?:ห้อง|ชั้น|อาคาร|ตึก|ทาวเวอร์|Room|Unit|Floor|Fl\.|Tower|Building|Bldg).*")
_HOUSE_PART = re.compile(rf"(?:บ้าน)?{_NUMBER_LABEL}.*|{_D}{{1,4}}/{_D}{{1,3}}|บ้าน{_SP}+{_HOUSE}")
# A house number is labelled "บ้านเลขที่", "เลขที่", "บ." or "บ้าน", or bare and
# followed by at least two components; a room number ("ห้อง 1204"), a
# building ("อาคาร A", "ตึก C") or an estate ("หมู่บ้านพฤกษา") starts one too.
# How many place components (not inside a building) each anchor needs; an
# estate needs a house number too, else it names where an outage is.
_ESTATE = re.compile(rf"หมู่บ้าน{_SP}*(?!{_NOT_ESTATE}){_PLACE}(?:{_SP}{_D}+(?![/0-9๐-๙]))?")
# The parts of an address come in any order (ม.5 บ้านเลขที่ 66 ต.…, 10250 เขต…
# ซ.… บ้าน 88): any place part opens one when a house number is among the
# parts that follow it.
_ANY_PART = re.compile(
    rf"(?<![\u0e01-\u0e4e])(?:(?:{_MOO}(?:ที่)?|ม\.){_SP}*{_D}+|(?:ซอย|ซ\.|ถนน|ถ\.){_SP}*{_PLACE}"
    rf"(?:{_SP}?{_D}{{1,3}}(?![0-9๐-๙/]))?"
    rf"|(?:ตำบล|แขวง|ต\.|อำเภอ|เขต|อ\.|จังหวัด|จ\.){_SP}*{_PLACE}|{_D}{{5}}(?![0-9๐-๙]))"
)
_HOUSE_HINT = re.compile(rf"เลขที|บ้าน{_SP}+{_D}|{_D}/{_D}")
_BARE_HOUSE = re.compile(rf"(?<![0-9๐-๙/.,A-Za-z-]){_D}{{1,4}}(?:/{_D}+)?(?![0-9๐-๙])")
_ANCHORS = (
    (re.compile(rf"บ้าน{_SP}?{_NUMBER_LABEL}{_SP}*{_HOUSE}"), 0),
    # A post office box is where someone gets their mail.
    (re.compile(rf"ตู้{_SP}*(?:ปณ\.?|ป\.ณ\.|ไปรษณีย์){_SP}*{_D}+"), 0),
    (re.compile(r"\b(?:P\.?O\.?|Post Office)[ \t]*Box[ \t]*\d+"), 0),
    (re.compile(rf"(?:ปณจ?\.|ป\.ณ\.)(?:จ\.)?{_SP}*{_PLACE}(?={_SP}*ตู้{_SP}*(?:ปณ|ป\.ณ))"), 0),
    (re.compile(rf"(?<!บ้าน){_NUMBER_LABEL}{_SP}*{_HOUSE}"), 1),
    (re.compile(rf"(?<![\u0e01-\u0e4e])บ\.{_SP}*{_HOUSE}"), 1),
    (re.compile(rf"(?<![\u0e01-\u0e4e])บ้าน{_SP}+{_HOUSE}"), 2),
    (re.compile(rf"ห้อง(?:เลขที่)?{_SP}*{_ROOM}(?![0-9๐-๙A-Za-z])"), 1),
    # A room with a slashed number (a condominium unit's house number) or
    # on a named floor is where someone lives.
    (re.compile(rf"ห้อง(?:เลขที่)?{_SP}*{_D}+/{_D}+"), 0),
    (re.compile(rf"ห้อง(?:เลขที่)?{_SP}*{_ROOM}(?=,?{_SP}*ชั้น{_SP}*{_D})"), 0),
    (re.compile(rf"(?:อาคาร|ตึก){_SP}*{_ROOM}(?![0-9๐-๙A-Za-z])"), 2),
    (_ESTATE, 2),
    (re.compile(r"\b(?:[Rr]oom|[Uu]nit)[ \t]+[A-Z]?\d+[A-Z]?\b"), 1),
    (_BARE_HOUSE, 2),
    (_ANY_PART, 0),
    # "อยู่ หมู่ 6 บ้าน... ต.... อ...." says where someone lives even with no
    # house number; an outage place is not introduced by อยู่.
    (re.compile(rf"(?<=อยู่){_SP}*:?{_SP}*(?=หมู่|ม\.|ซอย|ซ\.)"), 3),
)
# A numbered land plot (โฉนดเลขที่ 45821, เลขที่ดิน 112, น.ส.3ก เลขที่ 2287) is
# land, not where someone lives.
_LAND = re.compile(
    r"(?:โฉนด|ที่ดิน|น\.?ส\.?[ \t]?3|ส\.?ป\.?ก|แปลง|ระวาง|หน้าสำรวจ|ภ\.บ\.ท)[^\n]{0,16}\Z"
)
# A number right after หมู่/ซอย is that component's value, not a house number.
_COMPONENT_VALUE = re.compile(
    r"(?:หม[ูุ]่?(?:ที่)?|ม\.|ซอย|ซ\.|[Mm]oo|เลขที่?|ห้อง|ชั้น|อาคาร|ตึก|แฟลต|Room|Floor|Tower)[ \t]*\Z"
)


def addresses(text: str) -> Iterator[Span]:
    """Yield every address candidate in ``text``."""
    any_order = bool(_HOUSE_HINT.search(text))
    for anchor, needed in _ANCHORS:
        if anchor is _ANY_PART and not any_order:
            continue
        for match in anchor.finditer(text):
            if anchor is _BARE_HOUSE and _COMPONENT_VALUE.search(
                text, max(0, match.start() - 10), match.start()
            ):
                continue
            if needed and _LAND.search(text, max(0, match.start() - 30), match.start()):
                continue
            # After a bare number, the next word must be an address component:
            # "30 หลังคาเรือน บริเวณ..." counts houses.
            end, count, house = _extend_address(
                text, match.end(), bridge_first=anchor is not _BARE_HOUSE
            )
            if (anchor is _ESTATE or anchor is _ANY_PART) and not house:
                continue
            if count >= needed:
                start = match.start() + len(match.group()) - len(match.group().lstrip(" \t:"))
                yield Span(start, end, "address")


def _extend_address(text: str, pos: int, *, bridge_first: bool) -> tuple[int, int, bool]:
    """Consume address components after ``pos``.

    Return the end, how many place components there were, and whether a
    house number was among them.
    """
    count, house, first = 0, False, pos
    while True:
        sep = _COMPONENT_SEP.match(text, pos)
        start = sep.end() if sep else pos
        component = _component().match(text, start)
        if (not component or component.end() == start) and (bridge_first or pos > first):
            component = _bridged(text, pos, start)
        if not component:
            return pos, count, house
        pos = component.end()
        if _HOUSE_PART.fullmatch(component.group()):
            house = True
        elif not _INSIDE.fullmatch(component.group()):
            count += 1


def _bridged(text: str, pos: int, start: int) -> re.Match[str] | None:
    """Match a labelled component past up to three unlabelled words, if any."""
    if _POSTCODE_END.search(text, 0, pos):
        return None  # a postcode closes an address
    for _ in range(3):
        word = _BRIDGE_WORD.match(text, start)
        if not word or word.group().startswith(_NOT_BRIDGED):
            return None
        start = word.end()
        component = _LABELLED_COMPONENT.match(text, start)
        if component and component.end() > start:
            return component
    return None
