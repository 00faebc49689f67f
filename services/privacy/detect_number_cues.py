"""The words near a number that tell whose and what it is.

Bank names and account words, phone, meter and contract-account words,
loyalty-card words, card words, and the document, fax and office words that
make a phone-shaped number something else; each ``*_is_nearest`` tells
which cue stands closest before the number.
"""

from __future__ import annotations

import re

CARD_CUE = re.compile(r"บัตรเครดิต|บัตรเดบิต|credit|debit|card|visa", re.I)
BANK_NAMES = (
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
    + "|".join(re.escape(name) for name in BANK_NAMES)
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
    r"|ที่ทำการ|switchboard|ที่ทำงาน|head[ \t]?quarter"
    # Police stations, schools, temples, hospitals, local and utility offices
    # and a member of parliament's office answer their own landlines.
    r"|สภ\.|สน\.|สถานีตำรวจ|โรงเรียน|รร\.|วัด|โรงพยาบาล|รพ\.|อบต|เทศบาล|อำเภอ"
    r"|กฟ[สอจภข]|การไฟฟ้า|ส\.ส\.|มูลนิธิ|สมาคม|มหาวิทยาลัย|police|school|temple|hospital",
    re.I,
)
# Between an office's word and its number: up to 16 letters, a district's or
# a branch's number (ส.ส. เขต 2, สาขา 3) and, for a landline, โทร.
_CUE_GAP = re.compile(r"(?:[^0-9๐-๙\n]|(?:(?<=เขต )|(?<=สาขา ))[0-9]{1,2}){0,16}\Z")
_PERSONAL_GAP = re.compile(r"โทร(?!สาร)|เบอร์|มือถือ|tel|phone|mobile|ติดต่อ|บ้าน|ส่วนตัว", re.I)
# An office's landline is often written "บจก. … โทร 02-…": the word โทร right
# before a landline does not make it a person's.
_LANDLINE_WORD = re.compile(r"(?:โทร(?!สาร)|tel)\.?[ \t:]*\Z", re.I)
_LOOK_ALIKE_WIDTH = 30


def look_alike_cue_is_nearest(before: str, *, landline: bool) -> bool:
    before = before[-_LOOK_ALIKE_WIDTH:]
    cues = [m.end() for m in _DOCUMENT_CUE.finditer(before)]
    if landline:
        cues += [m.end() for m in _OFFICE_CUE.finditer(before)]
    if not cues:
        return False
    gap = before[max(cues) :]
    if landline:
        gap = _LANDLINE_WORD.sub("", gap)
    return bool(_CUE_GAP.match(gap)) and not _PERSONAL_GAP.search(gap)


def member_cue_is_nearest(before: str) -> bool:
    member = [m.end() for m in _MEMBER_CUE.finditer(before)]
    other = [m.end() for m in (*_PHONE_CUE.finditer(before), *_BANK_CUE.finditer(before))]
    return bool(member) and max(member) > max(other, default=-1)


# A card word close before a number of four groups of four that is no payment
# card (its check digit fails): a loyalty or fleet card's, "บัตรเลข 6300 1122
# 9988 7765", "ทำบัตร 7012 … หาย", "fleet card 7088 …".
_CARD_WORD = re.compile(r"บัตร|card", re.I)
_CARD_WORD_GAP = re.compile(r"[^0-9๐-๙\n]{0,16}\Z")


def card_word_is_near(before: str) -> bool:
    words = [m.end() for m in _CARD_WORD.finditer(before)]
    return bool(words) and bool(_CARD_WORD_GAP.match(before[max(words) :]))


# A bank written right after the number, as in a table row or a slip:
# "1572233445 bbl", "123-4-56789-0<TAB>KBANK".
_BANK_AFTER = re.compile(
    r"[ \t,;|\"']{0,3}(?:" + "|".join(re.escape(name) for name in BANK_NAMES) + r"|ธ\.|ธนาคาร)",
    re.I,
)


def bank_follows(text: str, end: int) -> bool:
    return bool(_BANK_AFTER.match(text, end))


def bank_cue_is_nearest(before: str) -> bool:
    bank = [m.end() for m in _BANK_CUE.finditer(before)]
    phone = [m.end() for m in _PHONE_CUE.finditer(before)]
    return bool(bank) and max(bank) > max(phone, default=-1)


# The English word alone ("account 0200…"): in a bill's context it is the
# contract account as often as a bank's.
_ACCOUNT_WORD = re.compile(r"account|acct?\.?(?:[ \t]*no\.?)?|a/c", re.I)


def only_account_word(before: str) -> bool:
    """Tell whether every bank cue before a number is the bare English word account."""
    cues = list(_BANK_CUE.finditer(before))
    return bool(cues) and all(_ACCOUNT_WORD.fullmatch(m.group()) for m in cues)
