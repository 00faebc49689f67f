"""The titles, ranks and kin words that stand before a Thai name.

Police and military ranks, academic, medical, royal and monastic titles,
local officials, kin words (also as the north says them) and foreign titles
written in Thai, with the sets that tell how loosely each binds the word
after it, and the words a title may be glued to in running Thai. Data only:
the finders are in ``detect_names``.
"""

from __future__ import annotations

import re

# Police and military ranks (ร.ต.อ., พ.ต.ท., พล.ต.ต., จ.ส.ต., ด.ต., navy and air
# force น.อ., พ.จ.อ. ...), abbreviated or in full (จ่าสิบเอก, พันตำรวจโท), are titles too.
_RANK = (
    # (ส.ส., a member of parliament, is an office, not a rank: ส.ส. เขต 3.)
    r"(?:พล\.?)?(?!ส\.ส\.)[รพจสดน]\.(?:[ตอทสพจ]\.){1,2}"
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
TITLE = re.compile(
    rf"{_RANK}|{_HONORIFIC}|นางสาว|น\.ส\.|นาง|นาย|ด\.ช\.|ด\.ญ\.|เด็กชาย|เด็กหญิง|คุณ(?:ยาย|ตา|ย่า|ปู่|ป้า|ลุง|น้า|แม่|พ่อ)|คุณ|ดร\.|ลุง|ป้า|ยาย|น้า"
    r"|พี่|(?:แม่|พ่อ)(?:ใหญ่)?"
    # Grandparents and elders, also as the north (อุ้ย, ป้อ, ปี้) says them.
    r"|ตา|ปู่|ย่า|อุ้ย|ป้อ|ปี้"
    # Foreign titles written in Thai: มิสเตอร์จอห์น สมิธ, มาดามแอนนา.
    r"|มิสเตอร์|มิสซิส|มาดาม|มร\."
)
# Short kin words that are ordinary words too (ตา is an eye, ปู่ย่า grandparents):
# the name after them stands apart, or is no word itself.
SHORT_KIN = frozenset({"ตา", "ปู่", "ย่า", "อุ้ย", "ป้อ", "ปี้"})
KIN_TITLES = SHORT_KIN | frozenset(
    {"ลุง", "ป้า", "ยาย", "น้า", "พี่", "แม่", "พ่อ", "แม่ใหญ่", "พ่อใหญ่"}
    | {f"คุณ{kin}" for kin in ("ยาย", "ตา", "ย่า", "ปู่", "ป้า", "ลุง", "น้า", "แม่", "พ่อ")}
)
WORD_TITLES = frozenset({"นางสาว", "นาง", "นาย", "คุณ"})
# Titles that also open ordinary words or phrases (พระราม, ผู้ใหญ่บ้าน หมู่ 7,
# อาจารย์ที่ปรึกษา): the word after them must be a listed given name, or at
# least not a word, and not fused with the title into one.
LOOSE_TITLES = frozenset({"พระ", "กำนัน", "ผู้ใหญ่บ้าน", "ผู้ใหญ่", "อาจารย์", "ครู", "ว่าที่"})
# Words a title may be glued to in running Thai ("ข้าพเจ้านายทองดี").
GLUE_BEFORE = (
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
