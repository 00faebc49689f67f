"""The detector on the third evaluation set, written before tuning, and on its new cues."""

from __future__ import annotations

import pytest

from services.privacy.detect import detect
from services.privacy.detect_normalise import repair
from tests.support.pii_eval import FIXTURES, masked, score

THIRD = FIXTURES / "pii_eval_third.jsonl"


@pytest.mark.parametrize(("part", "floor"), [("tune", 0.99), ("holdout", 0.97)])
def test_third_set_keeps_the_measured_floor(part: str, floor: float) -> None:
    # Floors are the figures reached (0.997 tune, 0.973 held out); the goal,
    # 0.99 on unseen text, is not met on the held-out part: see
    # docs/decisions.md, "Masking on a third unseen set".
    hidden, kept = score(THIRD, part)
    assert hidden >= floor
    assert kept >= 0.95


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("เบอร์มือถือ 0 9 1 - 2 3 4 - 5 6 7 8", "0 9 1 - 2 3 4 - 5 6 7 8"),
        ("ติดต่อ 086 - 123 - 4567", "086 - 123 - 4567"),
        ("โทร.0 8 9-4 4 5-1 2 3 4", "0 8 9-4 4 5-1 2 3 4"),
        ("โทร +66.81.234.5678", "+66.81.234.5678"),
        ("ลูกค้าต่างชาติ +44 7700 900123", "+44 7700 900123"),
        ("โทรศัพท ์ O8l-234-5567", "O8l-234-5567"),
        ("บัญช ีธนาคารกรุงไทย เลขท ี่ 98l-0-4432l-7", "98l-0-4432l-7"),
        ("บ้านเลขที ่ 17 หมู ่ 3 ต.ทุ่งสุขลา อ.ศรีราชา จ.ชลบุรี 20230", "17 หมู ่ 3 ต.ทุ่งสุขลา"),
        ("ผู้ร้อง : นางสาว ปราณี  ศรีวิไล", "ปราณี  ศรีวิไล"),
        ("แจ้ง ห้อง 1204 ชั้น 12 อาคาร A ลุมพินี วิลล์ ถ.ประชาชื่น เขตบางซื่อ", "ลุมพินี วิลล์"),
        ("ห้องเช่า ห้อง B205 อพาร์ทเมนต์สุขใจ ซอยรามคำแหง 53", "ห้อง B205 อพาร์ทเมนต์สุขใจ"),
        ("หมู่บ้านพฤกษา 12 เลขที่ 55/21 หมู่ที่ 3 ต.คลองสาม อ.คลองหลวง", "หมู่บ้านพฤกษา 12"),
        ("Room 1507, Tower B, Supalai Park, Ratchadaphisek Road, Bangkok 10400", "Tower B"),
        ("โทรหา ประวิทย์ แก้วใส แล้ว รับทราบ", "ประวิทย์ แก้วใส"),
        ("ฝากถึง จินตนา ฝ่ายบัญชี ให้โทรกลับ", "จินตนา"),
        ("ลค. วิมลรัตน์ ศรีสมบูรณ์ โทรซ้ำ", "วิมลรัตน์ ศรีสมบูรณ์"),
        ("ข้าพเจ้า ธวัชชัย บุญยืน ขอร้องเรียน", "ธวัชชัย บุญยืน"),
        ("ขอแสดงความนับถือ\nธวัชชัย บุญยืน", "ธวัชชัย บุญยืน"),
        ("Best regards,\nNattapong", "Nattapong"),
        ("first_name: Somsak\nlast_name: Rakdee", "Rakdee"),
        ('{"name": "Kittisak Boonmee", "meter": "55120987"}', "Kittisak Boonmee"),
        ("นามสกุล: สุขเจริญ", "สุขเจริญ"),
        ("line_id: somsak_rd", "somsak_rd"),
        ("add line มาน้า noey_2540 💕", "noey_2540"),
        ("แลนด์แอนด์เฮ้าส์ 8902012345", "8902012345"),
        ("เลขประจําตัวประชาชน 1-1O17-OO23O-7O-8", "1-1O17-OO23O-7O-8"),
    ],
)
def test_new_cues_hide_the_personal_data(text: str, secret: str) -> None:
    assert any(secret in found for found in masked(text))


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("ห้องประชุม 2 อาคาร 3 ชั้น 2 ของ กฟภ.", "อาคาร 3 ชั้น 2"),
        ("ติดต่อรับเงินได้ที่ อาคาร 2 ชั้น 1 ห้องการเงิน สำนักงานเขต", "อาคาร 2 ชั้น 1"),
        ("ไฟดับทั้งหมู่บ้านมณีรินทร์ ต.บางพูด อ.ปากเกร็ด", "หมู่บ้านมณีรินทร์"),
        ("เสาไฟ 98/6399 ถึง 28/2058 ดับหมด", "98/6399"),
        ("ไฟดับทั้งซอยประมาณ 30 หลังคาเรือน บริเวณบ้านโนนทัน ต.ในเมือง อ.เมือง", "30 หลังคาเรือน"),
        ("ขอแสดงความนับถือ\nฝ่ายบริการลูกค้า", "ฝ่ายบริการลูกค้า"),
        ("ขอแสดงความนับถือ\nประธานชุมชน", "ประธานชุมชน"),
        ("เคส VOC-2026-019932 ลค.ขอยกเลิก", "VOC-2026-019932"),
        ("วันท ี่ 2l พ.ย. 2569 เวลา l0.30 น.", "l0.30"),
        ("ลค.เปลี่ยนเบอร์ใหม่แล้ว", "เปลี่ยน"),
        ("สายด่วน 1129 หรือ 1365 ไม่มีใครรับ", "1365"),
        ("หม้อแปลงขนาด 160 kVA รหัส PEA-TR-22011 ไฟรั่ว", "PEA-TR-22011"),
    ],
)
def test_look_alikes_near_the_new_cues_stay_visible(text: str, visible: str) -> None:
    assert not any(visible in found or found in visible for found in masked(text))


def test_repaired_spans_map_back_onto_the_text_as_given() -> None:
    text = "บ ้านเลขที ่ 5 หมู ่ 2 ต.นาป่า อ.เมือง จ.ชลบุรี 20000 โทร O8l-234-5567"
    repaired = repair(text)
    assert repaired.text.startswith("บ้านเลขที่ 5 หมู่ 2")
    assert "081-234-5567" in repaired.text
    spans = detect(text)
    assert [(s.kind, text[s.start : s.end]) for s in spans] == [
        ("address", "บ ้านเลขที ่ 5 หมู ่ 2 ต.นาป่า อ.เมือง จ.ชลบุรี 20000"),
        ("phone", "O8l-234-5567"),
    ]
