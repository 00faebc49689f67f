"""The detector on the ninth evaluation set, held out whole, and on the rules added with it.

Each case of a new rule is one the detector before it missed; the look-alikes and
guards beside them are kept by both. The texts are written for these tests, not taken
from any set.
"""

from __future__ import annotations

import pytest

from services.privacy.detect import detect
from tests.support.pii_eval import FIXTURES, score

NINTH = FIXTURES / "pii_eval_ninth.jsonl"
NINTH_FLOOR = 0.94
NINTH_KEPT_FLOOR = 0.95


def test_ninth_set_keeps_the_measured_floor() -> None:
    # Measured once after tuning on the eighth set: 0.949, from 0.916 before
    # (look-alikes 0.957, 336/351, from 334/351); the goal, 0.99 on unseen text, is
    # not met: see docs/decisions.md, "Masking on a ninth unseen set".
    hidden, kept = score(NINTH, "holdout")
    assert hidden >= NINTH_FLOOR
    assert kept >= NINTH_KEPT_FLOOR


def kinds(text: str) -> list[tuple[str, str]]:
    """Return (kind, text) for each detected span."""
    return [(s.kind, text[s.start : s.end]) for s in detect(text)]


def of_kind(text: str, kind: str) -> list[str]:
    return [value for k, value in kinds(text) if k == kind]


# --- a bank's name before its account ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "account"),
    [
        ("โอนเข้า กรุงศรี 409-1-22345-6 ค่ะ", "กรุงศรี 409-1-22345-6"),
        ("คืนเงินเข้า ธ.กสิกรไทย 0712884125 นะคะ", "ธ.กสิกรไทย 0712884125"),
        ("refund to Bangkok Bank 204-0-77812-3 pls", "Bangkok Bank 204-0-77812-3"),
        ("เบิกค่าทางด่วนเข้า ทหารไทยธนชาต 233-2-45678-1", "ทหารไทยธนชาต 233-2-45678-1"),
        ("ขายไฟคืนเข้าบัญชี KBANK 046-8-77120-3", "KBANK 046-8-77120-3"),
    ],
)
def test_a_bank_name_right_before_its_account_is_masked_with_it(text: str, account: str) -> None:
    assert of_kind(text, "bank_account") == [account]


@pytest.mark.parametrize(
    ("text", "account"),
    [
        # A branch between the bank and the number: the bank stays outside.
        ("โอนที่ ธ.กรุงไทย สาขาสีลม 981-0-44571-2", "981-0-44571-2"),
        # A bank word alone is no bank's name.
        ("โอนเข้าบัญชี 123-4-56789-0 ครับ", "123-4-56789-0"),
        ("เลขที่บัญชีธนาคาร 123-4-56789-0", "123-4-56789-0"),
    ],
)
def test_a_bank_word_or_a_branch_stays_outside_the_account(text: str, account: str) -> None:
    assert of_kind(text, "bank_account") == [account]


# --- a member or fleet card after a bare card word -----------------------------------


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("แต้มไม่เข้า บัตรเลข 6300 1122 9988 7765 ค่ะ", "6300 1122 9988 7765"),
        ("ลูกค้าทำบัตร 7012 4412 0098 5531 หาย ขอออกใหม่", "7012 4412 0098 5531"),
        ("fleet card 7088-0012-7745-1120 lost", "7088-0012-7745-1120"),
    ],
)
def test_four_groups_of_four_after_a_card_word_are_a_member_card(text: str, card: str) -> None:
    assert of_kind(text, "member_card") == [card]


@pytest.mark.parametrize(
    "text",
    [
        # A payment card's shape failing its check digit is a typo, not a member card.
        "ตัดบัตร 4111 1111 1111 1112 ไม่ผ่าน",
        # No card word: a reference number.
        "เลขอ้างอิง 6300 1122 9988 7765 ชำระแล้ว",
        # A card word far before it, with a sentence between.
        "บัตรหมดอายุแล้ว ลูกค้าขอใบเสร็จรวมเดือน 6300 1122 9988 7765",
    ],
)
def test_four_groups_of_four_without_a_card_word_close_by_are_no_member_card(text: str) -> None:
    assert of_kind(text, "member_card") == []


# --- offices' landlines ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ประสานร้อยเวร สภ.บางพลี 02-312-1222 แล้ว",
        "ติดต่อโรงเรียนอนุบาลสมใจ 044-611-234 ได้ค่ะ",
        "สำนักงาน ส.ส. เขต 2 02-244-1234 ขอทราบผล",
        "ใบวางบิล บจก. สยามวัสดุ โทร 02-911-4567 แฟกซ์ 02-911-4568",
        "ถึง กฟส.อ.พระประแดง 02-463-1129 ต่อ 12",
        "วัดหลวงพ่อโต 035-241-555 แจ้งขอไฟชั่วคราว",
    ],
)
def test_an_offices_landline_after_its_word_stays_visible(text: str) -> None:
    assert of_kind(text, "phone") == []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        # A landline with no office word, or the office's man's mobile, is a person's.
        ("ลูกค้าให้โทรกลับ 02-412-3345 ช่วงเย็น", "02-412-3345"),
        ("บจก. สยามวัสดุ ผู้ประสานงาน มือถือ 0863345512", "0863345512"),
        ("ครูประจำชั้น เบอร์บ้าน 02-555-1234", "02-555-1234"),
    ],
)
def test_a_persons_number_beside_an_office_word_is_masked(text: str, phone: str) -> None:
    assert of_kind(text, "phone") == [phone]


# --- ส.ส. is an office, not a rank ---------------------------------------------------------


def test_a_member_of_parliaments_office_is_no_titled_name() -> None:
    assert of_kind("ฝาก ส.ส. ช่วยด้วยค่ะ ไฟดับ 3 วัน", "name") == []
    assert of_kind("สำนักงาน ส.ส. เขต 3 จ.ชลบุรี", "name") == []


def test_a_rank_still_makes_a_titled_name() -> None:
    assert "ส.ต.สมชาย ใจดี" in of_kind("ผู้แจ้ง ส.ต.สมชาย ใจดี โทรมา", "name")


# --- an amount right after a number ----------------------------------------------------------


def test_an_id_before_an_amount_is_still_found() -> None:
    text = "ช่าง เลขประจำตัวผู้เสียภาษี 5-5807-30215-73-0 9,800 บาท หัก ณ ที่จ่าย"
    assert of_kind(text, "national_id") == ["5-5807-30215-73-0"]


def test_an_amount_alone_stays_visible() -> None:
    assert kinds("ยอด 12 9,800 บาท ชำระแล้ว") == []


# --- names after a role word or a pronoun, and academics' names ----------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ค่าแรงช่าง: ช่าง สมพงษ์ 2 วัน 1,800 บาท", "สมพงษ์"),
        ("ลูกสะใภ้ อารีรัตน์ โทรแจ้งแทน", "อารีรัตน์"),
        ("ฝึกงานที่ปั๊ม: นศ. วรรณิดา เข้ากะเช้า", "วรรณิดา"),
        ("ขอเลื่อนนัด ผม อำนาจ โทร 0897712340", "อำนาจ"),
        ("Advisor: Asst. Prof. Dr. Kritsada Boonmee", "Asst. Prof. Dr. Kritsada Boonmee"),
        ("please contact Dr. Wanchai Srisuk at the site", "Dr. Wanchai Srisuk"),
    ],
)
def test_a_name_after_a_role_a_pronoun_or_an_academic_title_is_masked(text: str, name: str) -> None:
    assert name in of_kind(text, "name")


@pytest.mark.parametrize(
    "text",
    [
        "ช่าง ไฟฟ้า มาแล้ว ยังไม่ซ่อม",
        # The utility's own technician, named with his staff code.
        "ช่าง สมชาย (EMP-2231) ปิดงาน WO-88120",
        "ผม ไม่ โทร แล้ว",
        "Prof. office hours are on Monday",
    ],
)
def test_a_role_word_before_an_ordinary_word_names_no_one(text: str) -> None:
    assert of_kind(text, "name") == []


# --- the edges of an address ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "บ้านเลขที่ 5 หมู่ 1 ต.หนองบัว อ.เมือง จังหวัดอุดร ไฟดับ",
            "บ้านเลขที่ 5 หมู่ 1 ต.หนองบัว อ.เมือง จังหวัดอุดร",
        ),
        (
            "ส่งบิลที่ เลขที่ 19/4 แขวงบางมด เขตทุ่งครุ กรุงเทพ 10140 ค่ะ",
            "เลขที่ 19/4 แขวงบางมด เขตทุ่งครุ กรุงเทพ 10140",
        ),
        (
            "อยู่ หอพักสุขสันต์ ห้อง 214 ซ.เกกีงาม 1 ค่ะ",
            "หอพักสุขสันต์ ห้อง 214 ซ.เกกีงาม 1",
        ),
        (
            "กทม. เขตบางเขน แขวงอนุสาวรีย์ บ้านเลขที่ 88/120",
            "กทม. เขตบางเขน แขวงอนุสาวรีย์ บ้านเลขที่ 88/120",
        ),
    ],
)
def test_an_address_takes_the_parts_at_its_edges(text: str, address: str) -> None:
    assert address in of_kind(text, "address")


@pytest.mark.parametrize(
    "text",
    ["จังหวัดอุดร ไฟดับทั้งเมือง", "หอพักนักศึกษา ไฟดับ", "กรุงเทพ 10140 ฝนตกหนัก"],
)
def test_edge_parts_alone_are_no_address(text: str) -> None:
    assert of_kind(text, "address") == []


# --- a chat line's sender after a screenshot's caption, an e-mail's greeting and sign-off ---


def test_a_sender_after_a_screenshots_caption_and_time_is_masked() -> None:
    text = "[ภาพหน้าจอ LINE] 10:42 Warisa_K: ไฟดับค่ะ\n10:45 PEA: รบกวนขอเบอร์ค่ะ"
    assert of_kind(text, "name") == ["Warisa_K"]


def test_a_greeting_and_a_sign_off_name_their_reader_and_writer() -> None:
    text = "Dear P'Nam, pls confirm the meter change.\nBest,\nGolf"
    assert of_kind(text, "name") == ["Nam", "Golf"]


def test_a_team_or_sir_in_a_greeting_or_sign_off_is_no_name() -> None:
    assert of_kind("Dear Sir, please find the bill attached.\nRegards,\nPEA Team", "name") == []


def test_a_nickname_after_its_label_is_masked_even_when_it_is_a_word() -> None:
    assert "บอส" in of_kind("ใบสมัคร | ชื่อเล่น: บอส | ตำแหน่ง แคชเชียร์", "name")


def test_a_nickname_label_before_a_clause_names_no_one() -> None:
    assert of_kind("ชื่อเล่น ไม่มีค่ะ", "name") == []


@pytest.mark.parametrize(
    ("text", "nick"),
    [
        ("ผู้แจ้ง: เฟิร์น 🌿 ไฟดับที่หอ", "เฟิร์น"),
        ("ยายบอกว่าหลานชื่อ ไอซ์ ๐๖๒-๓๓๔-๙๙๑๐ โทรแทน", "ไอซ์"),
    ],
)
def test_a_nickname_after_a_reporters_label_or_a_relatives_name_word_is_masked(
    text: str, nick: str
) -> None:
    assert nick in of_kind(text, "name")


def test_a_relatives_name_word_before_a_question_names_no_one() -> None:
    assert of_kind("ตาชื่อ อะไรนะ จำไม่ได้", "name") == []
