"""The case taxonomy: categories (shared by every organisation) and topics per organisation.

The YAML shape is the one in ``data/taxonomy.yaml``. A category or topic may carry an
optional ``keywords`` list; the hints below add to them. The classifier counts each
label's keywords, so that a synonym the small training set never shows still points at
the right label.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, get_args

import yaml

from shared.errors import ConfigError
from shared.kinds import Urgency
from shared.org_files import config_dir, org_files, read_org

DATA_DIR = Path(__file__).parent / "data"
TAXONOMY_PATH = DATA_DIR / "taxonomy.yaml"
URGENCIES: tuple[str, ...] = get_args(Urgency)  # least to most urgent

# How Thai customers phrase each kind of contact; the same for every organisation.
_CATEGORY_HINTS: dict[str, str] = {
    "complaint": "ร้องเรียน ไม่พอใจ ทำไม แย่ ผิดหวัง เสียหาย ตำหนิ ไม่ยอม อีกแล้ว ตลอด 😡 😤 😠 🙄",
    "request": "ขอ ช่วย รบกวน ขอให้ ส่งช่าง มาดู ด่วน ดำเนินการ ต้องการ",
    "inquiry": "สอบถาม ไหม มั้ย อย่างไร ยังไง เท่าไหร่ เท่าไร กี่ ที่ไหน หรือเปล่า รึเปล่า ได้ไหม ? อยากทราบ หรือไม่",
    "suggestion": "อยากให้ ควร เสนอ แนะนำ น่าจะ ข้อเสนอ ปรับปรุง ถ้ามี",
    "compliment": "ขอบคุณ ชม ชื่นชม ประทับใจ ดีมาก เยี่ยม 👍 🙏 บริการดี ขอบพระคุณ รวดเร็ว",
}
# Domain hints for the demo organisations' topics, kept apart from the seed YAML so that
# file stays the reference copy. Substrings of NFC, lower-cased text.
_HINTS: dict[str, dict[str, str]] = {
    "pea": {
        "outage": "ไฟดับ ไฟฟ้าดับ ดับทั้ง ไฟไม่มา ไฟมา ขัดข้อง ดับบ่อย ดับอีก ไม่มีไฟ ไฟกลับมา"
        " จ่ายไฟคืน ดับเป็น ดับซ้ำ ดับยาว ดับตั้งแต่ ดับไฟ power outage",
        "voltage": "ไฟตก ไฟกระพริบ ไฟกะพริบ แรงดัน โวลต์ ไฟเกิน ไฟสูง หรี่ ไม่นิ่ง กระชาก แท็ป วูบ ตัดเอง volt",
        "hazard": "เสาล้ม เสาเอียง สายขาด หย่อน พาดสาย ทับสาย ประกายไฟ ระเบิด ไฟไหม้ ไฟดูด"
        " อันตราย ควัน ช็อต ไหม้ ล้มทับ เอียง หัก ไฟลุก",
        "billing": "ค่าไฟ ใบแจ้งหนี้ บิล จดหน่วย หน่วย เรียกเก็บ ชำระ ยอด ค้างชำระ เงินประกัน"
        " คืนเงิน ย้อนหลัง อัตรา ค่าft แพง สูงผิดปกติ ใบเสร็จ หักบัญชี bill",
        "meter": "มิเตอร์ ย้ายมิเตอร์ ชำรุด มิเตอร์เสีย เพิ่มขนาด หมุน เดินเร็ว ตู้มิเตอร์"
        " เปลี่ยนมิเตอร์ ทดสอบ ขโมย meter",
        "new_service": "ขอใช้ไฟ ติดตั้ง บ้านใหม่ สร้างใหม่ ขอมิเตอร์ ขยายเขต ปักเสา โซลาร์"
        " ขนาน เอกสาร ยื่น สำรวจ ขอไฟ",
        "disconnection": "งดจ่าย ตัดไฟ ถูกตัด ต่อไฟ ต่อกลับ ค้าง ถอดมิเตอร์ ระงับ ค่าต่อ"
        " ยกเลิกการใช้ ถอนมิเตอร์ ถอดฟิวส์",
        "staff_conduct": "พนักงาน เจ้าหน้าที่ พูดจา สุภาพ บริการ ช่าง ชม ขอบคุณ แอดมิน รอสาย"
        " คอลเซ็นเตอร์ call center ปิดเรื่อง ติดต่อกลับ ติดตาม มารยาท ประทับใจ ส่งต่อ",
        "streetlight": "ไฟถนน ไฟฟ้าสาธารณะ โคม ไฟทาง ถนนมืด ไฟส่องสว่าง เสาไฟถนน ซอยมืด",
        "other": "ดูงาน สนับสนุน โครงการ รหัสผ่าน สมัครงาน รับสมัคร ทุน อนุเคราะห์ ล็อกอิน otp"
        " แอบอ้าง มิจฉาชีพ หลอก ปลอม ลิงก์ หนังสือรับรอง เว็บไซต์ สายสื่อสาร อินเทอร์เน็ต เคเบิล",
    },
    "or": {
        "fuel_quality": "ไม่ครบ ลิตร หัวจ่าย ตู้จ่าย น้ำปน มีน้ำ สะดุด ดีเซล เบนซิน แก๊สโซฮอล์"
        " ออกเทน คุณภาพ ไม่เต็ม มาตรวัด กรอง เครื่องยนต์ ตะกอน เติมผิด",
        "station_service": "ห้องน้ำ พนักงาน สถานี ปั๊ม เติมลม ทอน สกปรก บริการ ที่จอด ชาร์จ"
        " ev ลานจอด ไม่สุภาพ ร้านสะดวกซื้อ",
        "cafe": "กาแฟ ร้านกาแฟ ลาเต้ อเมริกาโน่ เครื่องดื่ม แก้ว บาริสต้า เมนู ขนม ชา คาเฟ่ หวาน ปั่น",
        "lpg": "แก๊ส ก๊าซ ถังแก๊ส หุงต้ม หัวปรับ วาล์ว ส่งแก๊ส กิโลกรัม lpg",
        "lubricants": "หล่อลื่น น้ำมันเครื่อง จาระบี ไฮดรอลิก วางบิล ใบแจ้งหนี้ ตัวแทนจำหน่าย"
        " ใบสั่งซื้อ เกรด เครดิต ลัง 200 ลิตร",
        "loyalty": "แต้ม สะสม บัตรสมาชิก สมาชิก สิทธิ คะแนน แลก ส่วนลด โปรโมชั่น",
        "app_payment": "แอป ชำระ จ่ายผ่าน ตัดเงิน qr โอน บัตรเครดิต ใบกำกับภาษี ล็อกอิน otp"
        " คืนเงิน wallet สแกน บัญชีผู้ใช้ app",
        "pricing": "ราคา ขึ้นราคา ลดราคา ปรับราคา แพง ถูกกว่า ป้าย น้ำมันขึ้น น้ำมันลง ขูด",
        "other": "หุ้น ปันผล สนับสนุน ทุน สมัครงาน รับสมัคร ร่วมงาน สปอนเซอร์ เสียงดัง ชุมชน"
        " อาสา นักลงทุน ลงทุน แฟรนไชส์ แอบอ้าง มิจฉาชีพ หลอก ปลอม รางวัล รีไซเคิล โฆษณา",
    },
}


@dataclass(frozen=True)
class Label:
    """A Thai and English display name."""

    th: str
    en: str


@dataclass(frozen=True)
class Category:
    """What kind of contact it is (complaint, request, ...)."""

    key: str
    label: Label
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    """What a contact is about, within one organisation."""

    key: str
    label: Label
    default_urgency: str | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Organisation:
    """An organisation and its topics."""

    key: str
    name: Label
    topics: tuple[Topic, ...]

    def topic(self, key: str) -> Topic | None:
        """Return the topic called ``key``, or None."""
        return next((topic for topic in self.topics if topic.key == key), None)

    @property
    def topic_keys(self) -> tuple[str, ...]:
        """Return the topic keys in taxonomy order."""
        return tuple(topic.key for topic in self.topics)


@dataclass(frozen=True)
class Taxonomy:
    """Categories shared by every organisation, and each organisation's topics."""

    categories: tuple[Category, ...]
    organisations: tuple[Organisation, ...]

    def organisation(self, key: str) -> Organisation:
        """Return the organisation ``key`` or raise ConfigError naming the known ones."""
        for org in self.organisations:
            if org.key == key:
                return org
        known = ", ".join(org.key for org in self.organisations)
        raise ConfigError(f"unknown organisation {key!r}; the taxonomy knows: {known}")

    @property
    def category_keys(self) -> tuple[str, ...]:
        """Return the category keys in taxonomy order."""
        return tuple(category.key for category in self.categories)

    def is_category(self, key: str) -> bool:
        """Tell whether ``key`` is a category."""
        return key in self.category_keys

    def is_topic(self, org: str, key: str) -> bool:
        """Tell whether ``key`` is a topic of organisation ``org`` (False for unknown orgs)."""
        return any(o.key == org and o.topic(key) is not None for o in self.organisations)


def _keywords(raw: dict[str, Any], hints: str) -> tuple[str, ...]:
    # A one-character label word, such as the "ๆ" of "อื่น ๆ", would match almost any text;
    # listed keywords and hints are deliberate, even one character ("?", an emoji).
    label_words = [w for w in str(raw["th"]).split() if len(w) > 1]
    words = [*label_words, *map(str, raw.get("keywords", [])), *hints.split()]
    return tuple(dict.fromkeys(unicodedata.normalize("NFC", w).lower() for w in words))


def _category(key: str, raw: dict[str, Any]) -> Category:
    label = Label(str(raw["th"]), str(raw["en"]))
    return Category(key, label, _keywords(raw, _CATEGORY_HINTS.get(key, "")))


def _topic(org: str, key: str, raw: dict[str, Any]) -> Topic:
    urgency = raw.get("default_urgency")
    if urgency is not None and urgency not in URGENCIES:
        raise ConfigError(f"topic {org}.{key}: default_urgency {urgency!r} is not in {URGENCIES}")
    label = Label(str(raw["th"]), str(raw["en"]))
    return Topic(key, label, urgency, _keywords(raw, _HINTS.get(org, {}).get(key, "")))


def parse_taxonomy(raw: dict[str, Any]) -> Taxonomy:
    """Build a Taxonomy from the parsed YAML mapping."""
    try:
        categories = tuple(_category(str(key), v) for key, v in raw["categories"].items())
        orgs = tuple(
            Organisation(
                str(key),
                Label(str(v["name"]["th"]), str(v["name"]["en"])),
                tuple(_topic(str(key), str(t), tv) for t, tv in v["topics"].items()),
            )
            for key, v in raw["organisations"].items()
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"taxonomy is malformed: {exc!r}") from exc
    return Taxonomy(categories, orgs)


def load_taxonomy(path: Path = TAXONOMY_PATH) -> Taxonomy:
    """Return the taxonomy at ``path`` (the seed's) with the config folder's own topics.

    An organisation file may carry a ``taxonomy`` block shaped like one entry of
    the seed's ``organisations`` (``name`` and ``topics``); it replaces the
    seed's entry for that organisation, or adds the organisation the seed lacks.
    """
    return _load_taxonomy(path, config_dir())


@cache
def _load_taxonomy(path: Path, folder: Path) -> Taxonomy:
    with path.open(encoding="utf-8") as handle:
        seed = parse_taxonomy(yaml.safe_load(handle))
    own: dict[str, Organisation] = {}
    for org_file in org_files(folder):
        block = read_org(org_file).get("taxonomy")
        if block is None:
            continue
        try:
            one = parse_taxonomy({"categories": {}, "organisations": {org_file.stem: block}})
        except ConfigError as exc:
            raise ConfigError(f"organisation config {org_file}: {exc}") from exc
        own[org_file.stem] = one.organisations[0]
    organisations = [own.pop(o.key, o) for o in seed.organisations]
    return Taxonomy(seed.categories, (*organisations, *own.values()))


def is_topic(org: str, key: str) -> bool:
    """Tell whether ``key`` is a topic of ``org`` in the seed taxonomy."""
    return load_taxonomy().is_topic(org, key)
