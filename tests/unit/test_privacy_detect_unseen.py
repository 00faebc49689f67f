"""The detector on the second evaluation set, written before tuning, and on its new cues."""

from __future__ import annotations

import pytest

from tests.support.pii_eval import FIXTURES, masked, score

UNSEEN = FIXTURES / "pii_eval_unseen.jsonl"


@pytest.mark.parametrize(("part", "floor"), [("tune", 0.99), ("holdout", 0.98)])
def test_unseen_texts_keep_the_measured_floor(part: str, floor: float) -> None:
    # The floors are the figures reached (1.000 tune, 0.990 held out): see
    # docs/decisions.md, "Masking on a third unseen set".
    hidden, kept = score(UNSEEN, part)
    assert hidden >= floor
    assert kept >= 0.95


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("รับแจ้งจาก ร.ต.อ.วิชัย บุญประเสริฐ สภ.เมือง", "วิชัย บุญประเสริฐ"),
        ("ผู้ใช้ไฟ: ประยุทธ์ ชัยมงคล CA 020009871234", "ประยุทธ์ ชัยมงคล"),
        ("ชื่อบัญชี: รัตนา พึ่งบุญ", "รัตนา พึ่งบุญ"),
        ("ไทยพาณิชย์ 407-612345-8 ค่ะ", "407-612345-8"),
        ("ขอคืนเข้า ออมสิน 020123456789 นะคะ", "020123456789"),
        ("ติดต่อ 0066 81 777 8899", "0066 81 777 8899"),
        ("Hi, this is John Miller, no power", "John Miller"),
    ],
)
def test_new_cues_hide_the_personal_data(text: str, secret: str) -> None:
    assert any(secret in found for found in masked(text))


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("ที่อยู่ กรุงเทพฯ 10250 CA 020046833999", "020046833999"),
        ("เลขที่บัญชีแสดงสัญญา 020011458723", "020011458723"),
        ("ไม่แจ้งชื่อ ร้องเรียนว่าหัวจ่ายจ่ายไม่เต็มลิตร", "ร้องเรียนว่า"),
    ],
)
def test_look_alikes_near_the_new_cues_stay_visible(text: str, visible: str) -> None:
    assert not any(visible in found or found in visible for found in masked(text))
