"""The detector on the fourth evaluation set, written before tuning, and on its new rules."""

from __future__ import annotations

import pytest

from services.privacy.detect import detect
from services.privacy.detect_normalise import repair
from services.privacy.masking import mask
from tests.support.pii_eval import FIXTURES, masked, score

FOURTH = FIXTURES / "pii_eval_fourth.jsonl"
HOLDOUT_FLOOR = 0.99


@pytest.mark.parametrize(("part", "floor"), [("tune", 0.99), ("holdout", HOLDOUT_FLOOR)])
def test_fourth_set_keeps_the_measured_floor(part: str, floor: float) -> None:
    # Floors are the figures reached (0.999 tune; 0.967 held out when it was
    # unseen, 1.000 since its misses were tuned on with the fifth set): see
    # docs/decisions.md, "Masking on a fourth unseen set" and "... fifth ...".
    hidden, kept = score(FOURTH, part)
    assert hidden >= floor
    assert kept >= 0.95


def kinds(text: str) -> list[tuple[str, str]]:
    """Return (kind, text) for each detected span."""
    return [(s.kind, text[s.start : s.end]) for s in detect(text)]


# --- numbers read out in a call, as speech-to-text writes them -----------------------


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        ("เบอร์ ติดต่อ กลับ ศูนย์แปดหนึ่ง สองสามสี่ ห้าหกเจ็ดแปด ครับ", "ศูนย์แปดหนึ่ง สองสามสี่ ห้าหกเจ็ดแปด", "phone"),
        (
            "อ่า ศูนย์ เก้า ห้า หนึ่ง หนึ่ง แปด เจ็ด เจ็ด สาม สี่ ค่ะ",
            "ศูนย์ เก้า ห้า หนึ่ง หนึ่ง แปด เจ็ด เจ็ด สาม สี่",
            "phone",
        ),
        ("เบอร์ ศูนย์แปดหก ขีด เจ็ดสี่สี่ ขีด หนึ่งสองเก้าศูนย์ครับ", "ศูนย์แปดหก ขีด เจ็ดสี่สี่ ขีด หนึ่งสองเก้าศูนย์", "phone"),
        (
            "เลขบัตร หนึ่ง หนึ่งศูนย์หนึ่งเจ็ด ศูนย์ศูนย์สองสามศูนย์ เจ็ดศูนย์ แปด ค่ะ",
            "หนึ่ง หนึ่งศูนย์หนึ่งเจ็ด ศูนย์ศูนย์สองสามศูนย์ เจ็ดศูนย์ แปด",
            "national_id",
        ),
        (
            "บัญชี กสิกร ศูนย์ห้าสอง หนึ่ง แปดแปดสามสองหนึ่ง สี่ ค่ะ",
            # The bank's name before an account is masked with it.
            "กสิกร ศูนย์ห้าสอง หนึ่ง แปดแปดสามสองหนึ่ง สี่",
            "bank_account",
        ),
        ("อีเมล somying.k แอท gmail ดอท คอม ค่ะ", "somying.k แอท gmail ดอท คอม", "email"),
    ],
)
def test_numbers_and_emails_read_out_are_found(text: str, secret: str, kind: str) -> None:
    assert (kind, secret) in kinds(text)


def test_a_house_number_read_out_makes_an_address() -> None:
    text = "บ้าน อยู่ บ้านเลขที่ ห้าสิบหก ทับ แปด หมู่ สอง ตำบล คลองหนึ่ง อำเภอ คลองหลวง ครับ"
    assert ("address", "บ้านเลขที่ ห้าสิบหก ทับ แปด หมู่ สอง ตำบล คลองหนึ่ง อำเภอ คลองหลวง") in kinds(text)


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("โทร หนึ่งหนึ่งสองเก้า ตั้ง สาม รอบ ไม่มี ใคร รับ", "หนึ่งหนึ่งสองเก้า"),
        ("ไฟดับ ตั้งแต่ ตีสอง ถึง สองทุ่มครึ่ง", "สองทุ่มครึ่ง"),
        ("ค่าไฟ สามพันสองร้อย บาท ปกติ พันห้า เอง", "สามพันสองร้อย"),
        ("หมายเลข ผู้ใช้ไฟ ศูนย์สองศูนย์ศูนย์ หนึ่งห้าห้าหก เจ็ดแปดเก้าศูนย์ ครับ", "เจ็ดแปดเก้าศูนย์"),
        ("มิเตอร์ เลข สองหนึ่ง ศูนย์ศูนย์ สามสาม สี่ห้า ครับ", "สองหนึ่ง"),
        ("ส่งเรื่องให้ ศูนย์ดำรงธรรม แล้ว", "ศูนย์ดำรงธรรม"),
    ],
)
def test_spoken_look_alikes_stay_visible(text: str, visible: str) -> None:
    assert not any(visible in found or found in visible for found in masked(text))


def test_spoken_numbers_map_back_to_their_words() -> None:
    text = "โทร ศูนย์แปดหนึ่ง สองสามสี่ ห้าหกเจ็ดแปด นะ"
    repaired = repair(text)
    assert "081 234 5678" in repaired.text
    start = repaired.text.index("081")
    assert repaired.span(start, start + len("081 234 5678")) == (4, text.index(" นะ"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("เบอร์ ศูนย์แปดหนึ่ง สองสามสี่ ห้าหกเจ็ดแปด ครับ", "เบอร์ [เบอร์โทร] ครับ"),
        ("อีเมล somying.k แอท gmail ดอท คอม ค่ะ", "อีเมล [อีเมล] ค่ะ"),
        ("บัญชี กสิกร ศูนย์ห้าสอง หนึ่ง แปดแปดสามสองหนึ่ง สี่ ค่ะ", "บัญชี [เลขบัญชี] ค่ะ"),
    ],
)
def test_spoken_numbers_are_masked_whole(text: str, expected: str) -> None:
    # Masking keeps the last digits of a written number; a spoken one has no
    # digits to mask, so none of its words may stay.
    assert mask(text) == expected


# --- forms, chat typing and OCR ------------------------------------------------------


def test_a_forms_dotted_leaders_do_not_hide_the_values() -> None:
    text = "ชื่อ....................วิไลวรรณ....................นามสกุล....................เพชรรัตน์...."
    assert [k for k, _ in kinds(text)] == ["name", "name"]
    assert [v for _, v in kinds(text)] == ["วิไลวรรณ", "เพชรรัตน์"]


def test_a_contract_account_between_leaders_stays_visible() -> None:
    assert masked("เลขที่ผู้ใช้ไฟฟ้า....020009988776....") == []


def test_a_lowercase_o_typed_for_zero_is_a_digit() -> None:
    assert masked("ชื่อ Nattaya ค่ะ โทร o81-234-9988") == ["Nattaya", "o81-234-9988"]
    assert masked("ไปที่ Lotus 24 ชั่วโมง") == []


def test_a_line_id_after_a_typo_of_line_is_found() -> None:
    assert ("line_id", "ploy_2541") in kinds("ไลนืหนู ploy_2541 ค่ะ")


# --- addresses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("บ้านเลขที 45/3 หมุ่ 2 ตบางเลน อบางเลน นครปฐม ค่ะ", "45/3 หมุ่ 2 ตบางเลน อบางเลน นครปฐม"),
        ("ส่งบิลไปที่ 111/22 ซ.ลาดพร้าว101 ถ.ลาดพร้าว คลองจั่น บางกะปิ กทม 10240 นะคะ", "ซ.ลาดพร้าว101"),
        ("ban ผมอยู่ 88 moo 5 Tambon Nong Prue", "88 moo 5 Tambon Nong Prue"),
        ("ห้อง 2208 ชั้น 22 อาคาร C ศุภาลัย ริวา แกรนด์ ถ.พระราม 3 เขตยานนาวา", "ศุภาลัย ริวา แกรนด์"),
        (
            "tenant of Room 804, The Base Condo, 17 Sukhumvit 77 Road, Bangkok 10250.",
            "Condo, 17 Sukhumvit",
        ),
        ("ห้อง 1802 อาคาร B เดอะ ริเวอร์ คอนโด ไม่หมุน", "ห้อง 1802 อาคาร B เดอะ ริเวอร์ คอนโด"),
    ],
)
def test_new_address_forms_are_hidden(text: str, secret: str) -> None:
    assert any(secret in found for found in masked(text))


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("ขอขยายเขตเข้าที่ดิน โฉนดเลขที่ 45821 เลขที่ดิน 112 ตำบลหนองบัว อำเภอเมืองอุดรธานี", "112"),
        ("เสาไฟเอียง แปลงที่ 3 น.ส.3ก เลขที่ 2287 ของผู้ใหญ่บ้าน หมู่ 7 ตำบลนาข่า", "2287"),
        ("ไฟดับหน้าตลาดบางใหญ่ ตั้งแต่ 2 ทุ่ม", "ตลาดบางใหญ่"),
        ("ห้อง 1802 อาคาร B เดอะ ริเวอร์ คอนโด ไม่หมุน", "ไม่หมุน"),
        ("Meter 2201-4478, 3 times this week", "3 times"),
    ],
)
def test_land_plots_and_words_after_an_address_stay_visible(text: str, visible: str) -> None:
    assert not any(visible in found for found in masked(text))


# --- names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("ลูกค้า: ผม ชื่อ สมชาย นามสกุล แก้วมณี ครับ", ["สมชาย", "แก้วมณี"]),
        ("ลูกค้า: ครับ ผม ธนากร ครับ", ["ธนากร"]),
        ("ผู้ติดต่อ สมศรี (แดง) ใจดี โทร", ["สมศรี (แดง) ใจดี"]),
        ("ลูกสาวชื่อ ปิยะดา ทองมี (ฝน) เป็นคนโทรมาแจ้ง", ["ปิยะดา ทองมี (ฝน)"]),
        ("ฝากเรื่องไว้กับ พี่ต่าย (วันเพ็ญ) ที่ร้านค้า", ["พี่ต่าย (วันเพ็ญ)"]),
        ("ชื่อเล่น บอย ชื่อจริง ณัฐวุฒิ คงสวัสดิ์ ครับ", ["บอย", "ณัฐวุฒิ คงสวัสดิ์"]),
        ("ชื่อ มิสเตอร์จอห์น สมิธ ติดต่อผ่านล่าม", ["มิสเตอร์จอห์น สมิธ"]),
        ("มาดามแอนนา มึลเลอร์ (Anna Müller) ร้องเรียน", ["มาดามแอนนา มึลเลอร์ (Anna Müller)"]),
        ("ลูกค้าชาวญี่ปุ่น ทานากะ ฮิโรชิ ขอใบแจ้งหนี้", ["ทานากะ ฮิโรชิ"]),
        ("แรงงานเมียนมา หม่อง ซอ วิน พาสปอร์ต", ["หม่อง ซอ วิน"]),
        ("สรุปการสนทนา: ผู้โทร สุภาวดี คงมั่น แจ้งไฟดับ", ["สุภาวดี คงมั่น"]),
        ("ชื่อผู้เช่า ปิยะนุช เจ้าของบ้าน สมหมาย รุ่งเรือง", ["ปิยะนุช", "สมหมาย รุ่งเรือง"]),
        ("ทะเบียนรถ 1กข 2345 เจ้าของรถ ศักดิ์ชัย มีทรัพย์", ["ศักดิ์ชัย มีทรัพย์"]),
        ("ขอเปลี่ยนชื่อผู้ใช้ไฟจาก บุญมี สายทอง (เสียชีวิต)", ["บุญมี สายทอง"]),
        ("ไฟดับค่ะ น้อย 089-1234-556", ["น้อย"]),
        ("ตอบกลับ: ได้รับเงินแล้ว ขอบคุณค่ะ จิราพร", ["จิราพร"]),
    ],
)
def test_new_thai_name_rules_hide_the_name(text: str, names: list[str]) -> None:
    assert [v for k, v in kinds(text) if k == "name"] == names


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("ลูกค้า: ผม ไม่ ได้ ใช้ ไฟ เลย", "ไม่"),
        ("ติดต่อ สมหญิง (ภรรยา) แทน", "ภรรยา"),
        ("ขอเปลี่ยนชื่อ บุญมี สายทอง (เสียชีวิต)", "เสียชีวิต"),
        ("ผมชื่อ Michael ครับ เป็นชาวต่างชาติ เช่าบ้านอยู่", "เช่าบ้านอยู่"),
        ("นายศุภชัย รัตนวงศ์ เจ้าของห้องแถวเลขที่ 45/2 ถนนเยาวราช", "แถว"),
        ("ลค. สมชาย มีบิล ค้างจ่าย", "มีบิล"),
        ("ออมสิน สาขาสีลม 0200 1234 5678", "ออมสิน"),
        ("ลค.โทรแจ้ง ไฟตก 3 วัน", "วัน"),
        ("รหัส OTP ของคุณคือ 482913 ห้ามบอกผู้อื่น", "คุณคือ"),
        ("ชื่อ นามสกุล ไม่ทราบ", "ไม่ทราบ"),
    ],
)
def test_words_near_the_new_name_rules_stay_visible(text: str, visible: str) -> None:
    assert not any(visible in found for found in masked(text))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("pls call back me at 0812345670, my name Wipa krub", "Wipa"),
        ("Dear Sir, I am Kanokwan, owner of Kanok Shop.", "Kanokwan"),
        ("I want complain the officer name Somsak at PEA office", "Somsak"),
        ("refund to 123-4-56789-0 name of account Arunee Thongdee ka", "Arunee Thongdee"),
        # A title in capitals is masked with the name, as Mr. is in Title case.
        ("หนังสือเดินทางเลขที่ AC2345678 ชื่อ MR. LI WEI", "MR. LI WEI"),
        ("change the name of meter to me, Sunisa Saelim, ID card", "Sunisa Saelim"),
    ],
)
def test_english_written_by_thai_speakers_hides_the_name(text: str, name: str) -> None:
    assert ("name", name) in kinds(text)


@pytest.mark.parametrize(
    "text",
    ["I am Thai, the bill is too high", "sorry for mixing English, I'm Kenji, phone 089-921-2269"],
)
def test_english_cue_words_are_not_names(text: str) -> None:
    assert not any(v in ("Thai", "I'm", "I'm Kenji") for _, v in kinds(text))


# --- passports and loyalty cards -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("ลูกค้าต่างชาติ passport no. N1234567 ขอใบกำกับภาษี", "N1234567"),
        ("แรงงาน พาสปอร์ต MB123456 ขอติดตั้งมิเตอร์", "MB123456"),
        ("หนังสือเดินทางเลขที่ AC2345678", "AC2345678"),
    ],
)
def test_a_passport_number_after_its_cue_is_found(text: str, number: str) -> None:
    assert ("passport", number) in kinds(text)


def test_a_passport_number_is_masked_but_its_last_two_digits() -> None:
    assert mask("passport AA1234567") == "passport AAxxxxx67"


def test_a_code_shaped_like_a_passport_without_its_cue_stays_visible() -> None:
    assert masked("ใบสั่งงาน WO1234567 ส่งช่างแล้ว") == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("สะสมแต้ม บัตร Blue Card 7012 3456 7890 1234", "7012 3456 7890 1234"),
        ("เลขสมาชิก Blue Card 4600123456789 คะแนนหาย", "4600123456789"),
        ("เลขบัตรสมาชิก 1120173697772 สมัครด้วยเบอร์", "1120173697772"),
        ("รหัสสมาชิก บลูการ์ด 7001 2345 6789 แต้มไม่ขึ้นค่ะ", "7001 2345 6789"),
    ],
)
def test_a_member_card_number_is_personal_data(text: str, number: str) -> None:
    assert ("member_card", number) in kinds(text)


def test_a_member_card_is_masked_but_its_last_four_digits() -> None:
    assert mask("Blue Card 7012 3456 7890 1234") == "Blue Card xxxx xxxx xxxx 1234"


def test_points_and_a_phone_near_a_member_card_are_not_the_card() -> None:
    text = "PTT Blue Card แต้มไม่เข้า คะแนนสะสม 2,450 คะแนน เบอร์ที่ผูก 0923344556"
    assert kinds(text) == [("phone", "0923344556")]
