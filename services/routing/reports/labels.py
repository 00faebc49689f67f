"""Words of the committee report in Thai and English: periods, dates, headings, group names.

Thai dates are in the Buddhist era (Gregorian year + 543), as Thai
government and state-enterprise papers write them: ``ตุลาคม 2569``.
English dates are Gregorian: ``October 2026``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from services.routing.classification.taxonomy import Label, load_taxonomy
from shared.clock import BANGKOK
from shared.errors import Invalid
from shared.org_files import org_language

Lang = Literal["th", "en"]
LANGS: tuple[Lang, ...] = ("th", "en")
BE_OFFSET = 543

MONTHS: dict[Lang, tuple[str, ...]] = {
    "th": (
        "มกราคม",
        "กุมภาพันธ์",
        "มีนาคม",
        "เมษายน",
        "พฤษภาคม",
        "มิถุนายน",
        "กรกฎาคม",
        "สิงหาคม",
        "กันยายน",
        "ตุลาคม",
        "พฤศจิกายน",
        "ธันวาคม",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

TEXT: dict[str, dict[Lang, str]] = {
    "title.monthly": {"th": "รายงานเรื่องร้องเรียนประจำเดือน ", "en": "Monthly complaints report "},
    # The Thai quarter's name begins with ไตรมาสที่ itself.
    "title.quarterly": {"th": "รายงานเรื่องร้องเรียนประจำ", "en": "Quarterly complaints report "},
    "for_committee": {"th": "เสนอคณะกรรมการ", "en": "For the committee"},
    "generated": {"th": "จัดทำเมื่อ", "en": "Prepared"},
    "frozen": {"th": "ตัวเลขปิดงวดเมื่อ", "en": "Figures frozen on"},
    "changed_since": {
        "th": "ตัวเลขที่เปลี่ยนไปหลังปิดงวด",
        "en": "Figures changed since the freeze",
    },
    "open_period": {
        "th": "งวดนี้ยังไม่สิ้นสุด ตัวเลขอาจเปลี่ยนได้",
        "en": "This period has not ended; the figures may change",
    },
    "summary": {"th": "สรุปภาพรวม", "en": "Summary"},
    "figure": {"th": "รายการ", "en": "Figure"},
    "this_period": {"th": "งวดนี้", "en": "This period"},
    "previous": {"th": "งวดก่อน", "en": "Previous period"},
    "last_year": {"th": "ปีก่อน", "en": "Last year"},
    "change": {"th": "เปลี่ยนแปลง", "en": "Change"},
    "cases": {"th": "เรื่องทั้งหมด", "en": "Cases"},
    "resolved": {"th": "แก้ไขแล้ว", "en": "Resolved"},
    "closed_on_behalf": {"th": "ปิดเรื่องแทนลูกค้า", "en": "Closed on the customer's behalf"},
    "reopened": {"th": "เปิดเรื่องซ้ำ", "en": "Reopened"},
    "escalated": {"th": "ยกระดับ", "en": "Escalated"},
    "sla_breached": {"th": "เกินเวลามาตรฐาน (SLA)", "en": "SLA breached"},
    "resolution_median": {
        "th": "เวลาแก้ไข มัธยฐาน (ชั่วโมง)",
        "en": "Resolution time, median (hours)",
    },
    "resolution_p90": {"th": "เวลาแก้ไข P90 (ชั่วโมง)", "en": "Resolution time, p90 (hours)"},
    "by_category": {"th": "จำแนกตามประเภท", "en": "By category"},
    "by_topic": {"th": "จำแนกตามเรื่อง", "en": "By topic"},
    "by_channel": {"th": "จำแนกตามช่องทาง", "en": "By channel"},
    "by_unit": {"th": "จำแนกตามหน่วยงาน", "en": "By unit"},
    "by_urgency": {"th": "จำแนกตามความเร่งด่วน", "en": "By urgency"},
    "by_area": {"th": "จำแนกตามจังหวัด", "en": "By province"},
    "group": {"th": "กลุ่ม", "en": "Group"},
    "sla": {"th": "การปฏิบัติตามเวลามาตรฐาน (SLA)", "en": "SLA compliance"},
    "sla_by_unit": {"th": "SLA ตามหน่วยงาน", "en": "SLA by unit"},
    "sla_by_topic": {"th": "SLA ตามเรื่อง", "en": "SLA by topic"},
    "target": {"th": "เป้าหมาย", "en": "Target"},
    "with_target": {"th": "เรื่อง", "en": "Cases"},
    "met": {"th": "ดำเนินการ", "en": "Met"},
    "within": {"th": "ทันเวลา", "en": "Within target"},
    "compliance": {"th": "% ทันเวลา", "en": "Compliance"},
    "median_hours": {"th": "มัธยฐาน (ชม.)", "en": "Median (h)"},
    "p90_hours": {"th": "P90 (ชม.)", "en": "p90 (h)"},
    "compliance_chart": {
        "th": "ร้อยละทันเวลาแก้ไข ตามหน่วยงาน",
        "en": "Resolution compliance by unit",
    },
    "satisfaction": {"th": "ความพึงพอใจ", "en": "Satisfaction"},
    "responses": {"th": "จำนวนผู้ตอบ", "en": "Responses"},
    "response_rate": {"th": "อัตราการตอบ", "en": "Response rate"},
    "average": {"th": "คะแนนเฉลี่ย (เต็ม 5)", "en": "Average score (of 5)"},
    "low_scores": {"th": "คะแนนต่ำ (1-2)", "en": "Low scores (1-2)"},
    "score": {"th": "คะแนน", "en": "Score"},
    "scores_chart": {"th": "การกระจายของคะแนน", "en": "Scores"},
    "recurring": {"th": "ปัญหาซ้ำในพื้นที่", "en": "Recurring issues"},
    "province": {"th": "จังหวัด", "en": "Province"},
    "district": {"th": "อำเภอ", "en": "District"},
    "topic": {"th": "เรื่อง", "en": "Topic"},
    "none": {"th": "ไม่มี", "en": "None"},
    "page": {"th": "หน้า", "en": "Page"},
    "more": {"th": "และอีก", "en": "and more:"},
}

GROUPS: dict[str, dict[str, dict[Lang, str]]] = {
    "by_channel": {
        "line": {"th": "LINE", "en": "LINE"},
        "app": {"th": "แอปพลิเคชัน", "en": "App"},
        "email": {"th": "อีเมล", "en": "E-mail"},
        "phone": {"th": "โทรศัพท์", "en": "Phone"},
        "walkin": {"th": "ติดต่อที่สำนักงาน", "en": "Walk-in"},
        "fax": {"th": "โทรสาร", "en": "Fax"},
    },
    "by_urgency": {
        "urgent": {"th": "เร่งด่วนมาก", "en": "Urgent"},
        "high": {"th": "เร่งด่วน", "en": "High"},
        "normal": {"th": "ปกติ", "en": "Normal"},
        "low": {"th": "ต่ำ", "en": "Low"},
    },
    "target": {
        "first_response": {"th": "ตอบกลับครั้งแรก", "en": "First response"},
        "unit_ack": {"th": "หน่วยงานรับเรื่อง", "en": "Unit acknowledgement"},
        "resolution": {"th": "แก้ไขแล้วเสร็จ", "en": "Resolution"},
    },
    "unknown": {"unknown": {"th": "ไม่ระบุ", "en": "Not given"}},
}


def default_lang(org: str) -> Lang:
    """Return the report language an organisation reads by default: its file's ``language``."""
    return org_language(org)


def check_lang(lang: str | None, org: str) -> Lang:
    """Return ``lang`` as a report language (the org's default when None), or raise Invalid."""
    if lang is None:
        return default_lang(org)
    if lang not in LANGS:
        raise Invalid(f"lang must be one of {', '.join(LANGS)}", field="lang")
    return "th" if lang == "th" else "en"


def text(key: str, lang: Lang) -> str:
    """Return the heading or label ``key`` in ``lang``."""
    return TEXT[key][lang]


def year(value: int, lang: Lang) -> int:
    """Return a Gregorian year as the reader counts it: Buddhist era in Thai."""
    return value + BE_OFFSET if lang == "th" else value


def period_name(period: str, lang: Lang, *, short: bool = False) -> str:
    """Return ``2026-10`` as ``ตุลาคม 2569`` / ``October 2026``, ``2026-Q4`` as its quarter.

    A quarter names its months too, unless ``short`` (for table headings).
    """
    monthly = re.fullmatch(r"(\d{4})-(\d{2})", period)
    if monthly:
        y, m = int(monthly.group(1)), int(monthly.group(2))
        return f"{MONTHS[lang][m - 1]} {year(y, lang)}"
    quarterly = re.fullmatch(r"(\d{4})-Q([1-4])", period)
    if not quarterly:
        raise Invalid(f"not a report period: {period!r}", field="period")
    y, q = int(quarterly.group(1)), int(quarterly.group(2))
    name = f"ไตรมาสที่ {q}/{year(y, lang)}" if lang == "th" else f"Q{q} {y}"
    if short:
        return name
    first, last = MONTHS[lang][3 * q - 3], MONTHS[lang][3 * q - 1]
    return f"{name} ({first} - {last} {year(y, lang)})"


def title(kind: str, period: str, lang: Lang) -> str:
    """Return the report's title: ``รายงานเรื่องร้องเรียนประจำเดือน ตุลาคม 2569``."""
    return text(f"title.{kind}", lang) + period_name(period, lang)


def date_name(at: datetime, lang: Lang) -> str:
    """Return a day in Bangkok as ``15 พฤศจิกายน 2569`` / ``15 November 2026``."""
    local = at.astimezone(BANGKOK)
    return f"{local.day} {MONTHS[lang][local.month - 1]} {year(local.year, lang)}"


def org_name(org: str, lang: Lang) -> str:
    """Return the organisation's name from the taxonomy, or its key when it has none there."""
    found = next((o for o in load_taxonomy().organisations if o.key == org), None)
    return _pick(found.name, lang) if found else org


def group_name(dimension: str, key: str, lang: Lang, org: str) -> str:
    """Return a group's display name: taxonomy labels for categories and topics, else a table."""
    if key == "unknown":
        return GROUPS["unknown"]["unknown"][lang]
    taxonomy = load_taxonomy()
    if dimension == "by_category":
        found = next((c for c in taxonomy.categories if c.key == key), None)
        return _pick(found.label, lang) if found else key
    if dimension == "by_topic":
        organisation = next((o for o in taxonomy.organisations if o.key == org), None)
        topic = organisation.topic(key) if organisation else None
        return _pick(topic.label, lang) if topic else key
    return GROUPS.get(dimension, {}).get(key, {}).get(lang, key)


def _pick(label: Label, lang: Lang) -> str:
    return label.th if lang == "th" else label.en
