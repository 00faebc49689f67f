"""Keyword rules for what must never be missed; any match makes a case urgent.

Recall matters more than precision: a false alarm costs an agent a minute, a missed live
wire can cost a life. So the rules are broad, and they hold back only where the text
plainly says the opposite: a negation governing the match ("ไม่มีสายไฟขาด", "เสาไม่ล้ม")
or a whole message that is an auto-reply (its boilerplate is not a report).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# A negated verb: "เสาไม่ล้ม", "ยังไม่ได้แตะสาย".
_NOT = r"(?<!ไม่)(?<!ไม่ได้)"
# A negator right before the match, or before a list the match ends ("ไม่มีสายไฟขาดหรือ
# ประกายไฟ"); a negator further back is about something else ("ไม่เห็นมีใครมาดูสายขาด").
_NEGATED = re.compile(
    r"(?:ไม่มี|ไม่พบ|ไม่เห็น|ไม่ได้|ปราศจาก)(?:ว่า)?(?:มี)?\s?(?:\S{0,24}(?:หรือ|และ|,)\s?)?$"
    r"|ไม่$|\b(?:no|not|without)\s+(?:\w+\s+){0,2}$"
)
_AUTO_REPLY = re.compile(
    r"^\s*(?:ตอบกลับอัตโนมัติ|automatic reply|auto[- ]?reply|out of office)"
    r"|(?:เป็น|คือ)ข้อความ(?:ตอบกลับ)?อัตโนมัติ|ขณะนี้\S{0,6}ไม่อยู่ที่สำนักงาน"
    r"|this is an auto(?:matic|mated)? (?:reply|response|message)"
)


def _near(subject: str, verb: str, gap: int = 20) -> str:
    """Return a pattern for ``subject`` followed on the same line by an un-negated ``verb``."""
    return rf"(?:{subject})[^\n]{{0,{gap}}}?{_NOT}(?:{verb})"


_POLE = r"เสา(?!ร์)(?:ไฟ(?:ฟ้า)?)?"  # not เสาร์ (Saturday)
_WIRE = r"สาย(?:ไฟ(?:ฟ้า)?|ดิน|เมน|ส่ง)(?:แรง(?:สูง|ต่ำ))?"
_DOWN = r"ขาด|ห้อย|หย่อน|ตก(?:ลง|อยู่|พาด)|กอง|ตึง|พาด(?:อยู่)?(?:บน|ลง)?(?:พื้น|ถนน|รั้ว|หลังคา)"
_POWER_LOSS = (
    r"ไฟ(?:ฟ้า)?ดับ|ดับไฟ|ไม่มีไฟ|ไฟไม่มา|งดจ่าย|ตัดไฟ|ถูกตัด|ต่อไฟ|ไฟ(?:ฟ้า)?ตก|ถอดมิเตอร์"
    r"|แบต\S{0,8}หมด|no power|power (?:cut|outage)|disconnect"
)


@dataclass(frozen=True)
class HazardRule:
    """A named hazard: a pattern, a context the text must also show, and an exclusion."""

    name: str
    pattern: re.Pattern[str]
    context: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None

    def matches(self, text: str) -> bool:
        """Tell whether the normalised ``text`` shows this hazard."""
        if self.unless is not None and self.unless.search(text):
            return False
        if self.context is not None and not self.context.search(text):
            return False
        return any(not _negated(text, m.start()) for m in self.pattern.finditer(text))


def _rule(
    name: str, pattern: str, context: str | None = None, unless: str | None = None
) -> HazardRule:
    def compiled(p: str | None) -> re.Pattern[str] | None:
        return None if p is None else re.compile(p, re.IGNORECASE)

    return HazardRule(name, re.compile(pattern, re.IGNORECASE), compiled(context), compiled(unless))


RULES: tuple[HazardRule, ...] = (
    _rule(
        "fallen_pole",
        _near(_POLE, r"ล้ม|หัก|โค่น|เอียง(?!เล็กน้อย)|แตก|ร้าว|ทรุด|ถล่ม|โยก")
        + r"|\b(?:fallen|broken|leaning) (?:power |electric )?poles?\b",
    ),
    _rule(
        "downed_wire",
        _near(_WIRE, _DOWN + r"|หลุด|ไหม้|ลุก|ช็อต", 20)
        # A bare "สาย" is also a phone line or a route, so it gets a shorter reach and no หลุด.
        + "|"
        + _near("สาย", _DOWN, 6)
        + r"|\b(?:live|fallen|downed?|broken|snapped) (?:power |electric )?"
        r"(?:wires?|lines?|cables?)\b",
    ),
    _rule(
        "tree_on_line",
        _near(r"ต้น|กิ่ง|ไม้|ทางมะพร้าว|เถา", r"พาด|ทับ|พัน|แตะ|เกี่ยว|ล้มใส่|หล่นใส่|โดน", 25)
        + r"[^\n]{0,4}?สาย|\btrees? (?:on|across|touching) (?:the )?(?:power )?lines?\b",
    ),
    _rule(
        "transformer_fire",
        _near("หม้อแปลง", r"ระเบิด|ไหม้|ลุก|ควัน|ประกาย|สะเก็ด|รั่ว|ห้อย|หล่น|ร่วง|ตกลงมา|ช็อต|ปัง|แลบ", 25)
        + "|"
        + _near(r"ระเบิด|ไฟไหม้|ไฟลุก|ควัน|ประกายไฟ|ปัง|ช็อต|ฟ้าผ่า", "หม้อแปลง")
        + r"|\btransformer\b[^\n]{0,30}\b(?:explo\w*|fire|burning|smok\w*|spark\w*)",
    ),
    _rule(
        "sparks_or_fire",
        r"ประกายไฟ|สะเก็ดไฟ|ไฟ\S{0,4}ลุก|ลุกไหม้|ไฟไหม้|ไหม้ดำ|กลิ่นไหม้|ไหม้(?:บน|ที่)|ลัดวงจร"
        r"|ไฟ(?:ฟ้า)?ช็อต|เสียงช็อต|ไฟแลบ|แสง(?:สี)?ฟ้า(?:แว้บ|แวบ|แลบ|วาบ)|เสียงระเบิด"
        r"|(?:ถัง|แก๊ส|ก๊าซ|มิเตอร์|สายไฟ|ตู้ไฟ)\S{0,15}?ระเบิด|\bsparks?\b|\bon fire\b|\bexplosion\b",
    ),
    _rule(
        "smoke",
        # Black exhaust ("รถมีอาการควันดำ") is a fuel-quality symptom, not a fire.
        "".join(f"(?<!{w})(?<!{w}มี)" for w in ("อาการ", "ไอเสีย", "ท่อ", "รถ"))
        + r"(?:มีควัน|ควัน(?:ขึ้น|ออก|ลอย|โขมง|พวย|ดำ))|(?<!exhaust )\bsmok(?:e|ing)\b",
    ),
    _rule(
        "electrocution",
        r"ไฟ(?:ฟ้า)?ดูด|(?:ถูก|โดน)ไฟ(?:ฟ้า)?(?:ช็อต|ดูด)|ไฟ(?:ฟ้า)?รั่ว|electrocut|electric shock",
    ),
    _rule(
        "flooded_equipment",
        r"น้ำ(?:ท่วม)?[^\n]{0,20}?(?:ถึง|ท่วม|เข้า|ปริ่ม|ขัง)[^\n]{0,12}?"
        r"(?:มิเตอร์|เต้ารับ|ปลั๊ก|ตู้ไฟ|สายไฟ|หม้อแปลง|คัตเอาต์|เบรกเกอร์)",
    ),
    _rule("falling_fixture", _near(r"โคม|ลูกถ้วย", r"ห้อย|จะหล่น|หล่น|ร่วง|ตกลงมา|แกว่ง")),
    _rule("climbing_pole", r"ปีน(?:ขึ้น)?(?:ไป)?(?:บน)?" + _POLE + r"|ปีน[^\n]{0,10}?หม้อแปลง"),
    _rule(
        "gas_leak",
        r"(?:ได้)?กลิ่น(?:แก๊ส|ก๊าซ)|"
        + _near(r"แก๊ส|ก๊าซ|lpg", "รั่ว", 15)
        + "|"
        + _near(r"ถัง(?!น้ำมัน)|วาล์ว|หัวปรับ", r"รั่ว|ฟู่", 6)
        + r"|ฟู่[^\n]{0,10}?(?:วาล์ว|ถัง|หัวปรับ)|\b(?:gas|lpg) leak|\bsmell\w* (?:of )?gas\b",
    ),
    _rule(
        "fuel_leak",
        _near(r"น้ำมัน|เบนซิน|ดีเซล|แก๊สโซฮอล์|เชื้อเพลิง", r"รั่ว|นอง|ทะลัก|หก|ล้น", 15)
        + "|"
        + _near(r"หัวจ่าย|ตู้จ่าย|ถังน้ำมัน|ท่อน้ำมัน", r"รั่ว|ล้น|ไม่ตัด", 12)
        + r"|\b(?:fuel|petrol|diesel|gasoline) (?:leak|spill)",
        # A spilt drum of lubricant is a clean-up, not a fire risk.
        unless=r"หล่อลื่น|น้ำมันเครื่อง|ไฮดรอลิก|จาระบี",
    ),
    _rule(
        "life_support",
        r"เครื่อง(?:ผลิต)?ออกซิเจน|ถังออกซิเจน|เครื่องช่วยหายใจ|(?:ล้าง|ฟอก)ไต|เครื่องพ่นยา"
        r"|เครื่องดูดเสมหะ|เครื่องกระตุ้นหัวใจ|ventilator|oxygen|dialysis",
        context=_POWER_LOSS,
    ),
    _rule("bedridden_patient", r"ติดเตียง|ที่นอนลม|bedridden", context=_POWER_LOSS),
)


def normalise(text: str) -> str:
    """Return ``text`` as the rules see it: NFC, lower case, no zero-width characters."""
    return unicodedata.normalize("NFC", text).translate(_INVISIBLE).lower()


def _negated(text: str, start: int) -> bool:
    return bool(_NEGATED.search(text[max(0, start - 30) : start]))


def is_auto_reply(text: str) -> bool:
    """Tell whether ``text`` is an out-of-office or other automatic reply."""
    return bool(_AUTO_REPLY.search(normalise(text)))


def find_hazards(text: str) -> tuple[str, ...]:
    """Return the names of the hazard rules ``text`` matches, in rule order."""
    clean = normalise(text)
    if _AUTO_REPLY.search(clean):
        return ()
    return tuple(rule.name for rule in RULES if rule.matches(clean))
