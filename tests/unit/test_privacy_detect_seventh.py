"""The detector on the seventh evaluation set, held out whole, and on the rules added with it.

Each case of a new rule is one the detector before it missed; the look-alikes beside
them are kept by both. The texts are written for these tests, not taken from the set.
"""

from __future__ import annotations

import pytest

from services.privacy.detect import detect
from tests.support.pii_eval import FIXTURES, masked, score

SEVENTH = FIXTURES / "pii_eval_seventh.jsonl"
SEVENTH_FLOOR = 0.94
SEVENTH_KEPT_FLOOR = 0.98


def test_seventh_set_keeps_the_measured_floor() -> None:
    # Measured once after tuning: 0.874, from 0.752 before (look-alikes 0.968, from
    # 0.918); see docs/decisions.md, "Masking on a seventh unseen set". Tuned on since
    # the eighth set: 0.947 (look-alikes 0.987), "Masking on an eighth unseen set".
    hidden, kept = score(SEVENTH, "holdout")
    assert hidden >= SEVENTH_FLOOR
    assert kept >= SEVENTH_KEPT_FLOOR


def kinds(text: str) -> list[tuple[str, str]]:
    """Return (kind, text) for each detected span."""
    return [(s.kind, text[s.start : s.end]) for s in detect(text)]


# --- phone-shaped numbers that belong to a document or an office --------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ใบแจ้งหนี้ 0891234567 ยอด 880 บาท",
        "เลขที่ใบเสร็จ 0867654321 ชำระแล้ว",
        "invoice 0812223344 due 15/12",
        "โทรสาร 02-555-0199 ส่งสำเนาบัตร",
        "ติดต่อบริษัท 02-765-4321 ฝ่ายบัญชี",
        "สำนักงานใหญ่ 02-111-2233 เปิด 8 โมง",
    ],
)
def test_a_phone_shaped_document_or_office_number_stays(text: str) -> None:
    assert masked(text) == []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        # A mobile stays a person's after an office's word; a phone word nearer wins.
        ("ฝากฝ่ายช่าง 0891112233 โทรกลับ", "0891112233"),
        ("ใบแจ้งหนี้ส่งแล้ว เบอร์ 0865554433 ค่ะ", "0865554433"),
        ("เบอร์แฟกซ์บ้าน 02-444-7788", "02-444-7788"),
        ("ได้เลย 0621239876 รอสายนะ", "0621239876"),
        ("Phone 66891234567 (LINE call)", "66891234567"),
    ],
)
def test_a_phone_by_its_shape_is_masked_unless_a_look_alike_cue_is_right_before(
    text: str, phone: str
) -> None:
    assert ("phone", phone) in kinds(text)


# --- noise inside numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("โทรมา 0️⃣9️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣ นะ", "0️⃣9️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣"),
        ("เบอร์ 089—321—7654 ค่ะ", "089—321—7654"),
        ("มือถือ 0863. 214. 579 ครับ", "0863. 214. 579"),
        ("id,handle,tel\n7,somporn1977,0893214567", "0893214567"),
    ],
)
def test_keycaps_long_dashes_spaced_dots_and_a_handle_cell_do_not_hide_a_phone(
    text: str, phone: str
) -> None:
    assert ("phone", phone) in kinds(text)


def test_an_amount_with_a_comma_and_a_decimal_dot_stays() -> None:
    assert masked("ยอด 1,284.50 บาท ชำระ 3. 500 บาท") == []


# --- numbers an app masked in part, passports, initials -----------------------------------


def test_a_partly_masked_account_and_phone_are_masked_a_reference_of_xs_stays() -> None:
    text = "โอนจาก xxx-x-x7788-x ไป 089-xxx-4411 อ้างอิง XXX-X-XXXXX-X"
    assert kinds(text) == [("bank_account", "xxx-x-x7788-x"), ("phone", "089-xxx-4411")]


def test_a_passport_mixing_letters_and_digits_is_masked() -> None:
    assert ("passport", "K4T01Z882") in kinds("passport no. K4T01Z882 expires 2030")


def test_a_latin_name_keeps_its_initial() -> None:
    assert ("name", "MISS WARAPORN T") in kinds("MISS WARAPORN T paid 300 baht")


# --- addresses by their parts in any order --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("ส่งไป ต.ม่วงน้อย ม.3 เลขที่ 7 นะ", "ต.ม่วงน้อย ม.3 เลขที่ 7"),
        ("ส่งที่ 40000 อ.เมือง ซ.ศรีจันทร์ 3 บ้าน 27", "40000 อ.เมือง ซ.ศรีจันทร์ 3 บ้าน 27"),
        ("หมู่ 2 / เลขที่ 8/1 / ต.หนองตอง", "หมู่ 2 / เลขที่ 8/1 / ต.หนองตอง"),
        ("เลขที่ 41/2\nหมู่ 5\nตำบลบ้านกลาง", "เลขที่ 41/2\nหมู่ 5\nตำบลบ้านกลาง"),
    ],
)
def test_an_address_opens_at_any_part_when_a_house_number_is_among_them(
    text: str, address: str
) -> None:
    assert ("address", address) in kinds(text)


@pytest.mark.parametrize(
    "text",
    ["ไฟดับ ม.4 ซ.3 ต.บางพูน ทั้งแถบ", "รหัสไปรษณีย์ 10400 อ.เมือง ใช้ไม่ได้"],
)
def test_an_area_without_a_house_number_stays(text: str) -> None:
    assert not [kind for kind, _ in kinds(text) if kind == "address"]


# --- Thai names with no cue, glued, spaced or spelt from English ----------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ส่งให้กิตติพงษ์ บุญมา ด่วน", "กิตติพงษ์ บุญมา"),
        ("เมื่อวานกิตติพงษ์ บุญมา มาที่สาขา", "กิตติพงษ์ บุญมา"),
        ("ลูกค้า ไมเคิล วงศ์ใหญ่ แจ้งไฟดับ", "ไมเคิล วงศ์ใหญ่"),
        ("แจ้งโดย สม ศักดิ์ ใจ ดี วันนี้", "สม ศักดิ์ ใจ ดี"),
        ("บอกลุงสมชาย แล้ว", "ลุงสมชาย"),
    ],
)
def test_a_listed_name_is_masked_glued_spaced_or_after_a_transliterated_given_name(
    text: str, name: str
) -> None:
    assert ("name", name) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "S1: ไฟ ดับ ค่ะ แถว ตลาด สด เทศบาล",
        "ไปกินร้านป้าสมศรี ก๋วยเตี๋ยว",
        "ตาดีมาก ปู่ย่าตายาย",
        "ครอบครัว มีความสุข",
    ],
)
def test_spaced_sentences_shops_and_kin_words_stay(text: str) -> None:
    assert not [kind for kind, _ in kinds(text) if kind == "name"]


# --- romanised Thai -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("khun wanchai ja, bill phaeng mak", "wanchai"),
        ("phom chue Prasit Boonma krub", "Prasit Boonma"),
        ("pi dang ja tho ma noi", "dang"),
        ("me Tom na krub, fai dap", "Tom"),
    ],
)
def test_a_name_after_a_romanised_thai_cue_is_masked(text: str, name: str) -> None:
    assert ("name", name) in kinds(text)


@pytest.mark.parametrize(
    "text", ["call me back krub", "this is urgent krub", "I am Thai, fai dap ka"]
)
def test_romanised_cues_before_ordinary_words_stay(text: str) -> None:
    assert masked(text) == []


# --- forms, exports and e-mail ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("order_id,buyer_name,buyer_phone\n12,Supaporn Kh.,0812345670", "Supaporn Kh."),
        ('{"recipient": "Wipawee Chan", "sku": "METER-01"}', "Wipawee Chan"),
        ("user_name: Kanya\nphone: -", "Kanya"),
    ],
)
def test_buyers_recipients_and_users_in_forms_are_names(text: str, name: str) -> None:
    assert ("name", name) in kinds(text)


def test_an_email_typed_with_spaces_is_masked_a_sentence_with_at_stays() -> None:
    assert kinds("ส่งมาที่ dao.2531 @ gmail . com ค่ะ") == [("email", "dao.2531 @ gmail . com")]
    assert masked("mail me @ home. ok") == []
