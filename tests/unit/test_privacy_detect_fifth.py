"""The detector on the fifth evaluation set (tuning data since the sixth) and its rules."""

from __future__ import annotations

import pytest

from services.privacy.detect import detect
from services.privacy.masking import mask
from tests.support.pii_eval import FIXTURES, masked, score

FIFTH = FIXTURES / "pii_eval_fifth.jsonl"
FIFTH_FLOOR = 0.99


def test_fifth_set_keeps_the_measured_floor() -> None:
    # Measured once unseen after its own tuning (0.966, from 0.735 before); its misses
    # were then tuned on with the sixth set, so it is tuning data now and the floor
    # is the figure after that (0.9995): see docs/decisions.md, "Masking on a sixth
    # unseen set".
    hidden, kept = score(FIFTH, "holdout")
    assert hidden >= FIFTH_FLOOR
    assert kept >= 0.95


def kinds(text: str) -> list[tuple[str, str]]:
    """Return (kind, text) for each detected span."""
    return [(s.kind, text[s.start : s.end]) for s in detect(text)]


# --- titles and ranks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("พระครูวิมลธรรมรัต เจ้าอาวาส ขอไฟฟ้าเข้ากุฏิ", "วิมลธรรมรัต"),
        ("พระมหาสุรชัย สุรชโย แจ้งเสาเอียง", "สุรชัย สุรชโย"),
        ("ม.ร.ว.จิราภา วรวุฒิ ขอย้ายมิเตอร์", "จิราภา วรวุฒิ"),
        ("ม.ล.ชาตรี สนิทวงศ์ โทรมา", "ชาตรี สนิทวงศ์"),
        ("คุณหญิงจันทรา บุนนาค ฝากเรื่องไว้", "จันทรา บุนนาค"),
        ("พ.จ.อ.วิเชียร ทองมา ขอคืนเงินประกัน", "วิเชียร ทองมา"),
        ("น.อ.สุรพล แก้วกาญจน์ แจ้งไฟดับ", "สุรพล แก้วกาญจน์"),
        ("จ่าสิบเอกอุดม พรมมา แจ้งสายไฟขาด", "อุดม พรมมา"),
        ("นพ.สุรเชษฐ์ วงศ์ใหญ่ ขอให้ต่อไฟ", "สุรเชษฐ์ วงศ์ใหญ่"),
        ("ทพญ.พิมพ์ชนก อินทรา แจ้งค่าไฟ", "พิมพ์ชนก อินทรา"),
        ("รศ.ดร.อนุวัฒน์ ศรีเมือง ขอข้อมูล", "อนุวัฒน์ ศรีเมือง"),
        ("ผศ.กนกพร ใจดี ร้องเรียน", "กนกพร ใจดี"),
        ("กำนันเฉลิม ศรีนวล แจ้งไฟดับทั้งตำบล", "เฉลิม ศรีนวล"),
        ("ผู้ใหญ่บ้านสุวิทย์ แสนดี ขอไฟส่องทาง", "สุวิทย์ แสนดี"),
    ],
)
def test_a_name_after_a_monastic_royal_academic_or_village_title_is_masked(
    text: str, name: str
) -> None:
    assert any(name in found for found in masked(text))


@pytest.mark.parametrize(
    "text",
    [
        "ไฟดับที่ถนนพระราม 2 ทั้งสาย",
        "ผู้ใหญ่บ้าน หมู่ 7 แจ้งว่าหม้อแปลงดัง",
        "พระพุทธรูปในวัดเสียหายจากไฟไหม้",
        "ปีงบประมาณ พ.ศ. 2569 ค่าไฟขึ้น",
    ],
)
def test_words_that_open_like_titles_stay(text: str) -> None:
    assert masked(text) == []


def test_a_role_after_a_titled_name_is_not_its_surname() -> None:
    assert masked("พระครูสิริธรรมวงศ์ เจ้าอาวาสวัดนี้ แจ้งไฟดับ") == ["พระครูสิริธรรมวงศ์"]


# --- cues in calls, forms and transfers -----------------------------------------------


def test_both_parties_of_a_meter_transfer_are_masked() -> None:
    found = masked("ขอโอนมิเตอร์จาก สมพร ดีใจ เป็น ประภา ดีใจ (ลูกสาว) นัดวันจันทร์")
    assert "สมพร ดีใจ" in found
    assert "ประภา ดีใจ" in found


def test_a_name_answering_the_agent_on_the_next_line_is_masked() -> None:
    text = "เจ้าหน้าที่: ขอทราบชื่อ ด้วยค่ะ\nลูกค้า: สุนีย์ ค่ะ"
    assert "สุนีย์" in masked(text)


def test_a_customer_field_in_a_counter_form_names_a_listed_name() -> None:
    assert "สมบัติ รุ่งโรจน์" in masked("คิว C011 | ลูกค้า: สมบัติ รุ่งโรจน์ | ชำระค่าไฟ")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ผู้ขอ สายสมร แก้วดี ขอผ่อนชำระ", "สายสมร แก้วดี"),
        ("ชำระโดย ส้มป่อย แก้วดี", "ส้มป่อย แก้วดี"),
    ],
)
def test_a_surname_built_as_surnames_are_vouches_for_the_name(text: str, name: str) -> None:
    assert name in masked(text)


# --- bank accounts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "account"),
    [
        ("โอนผิดบช. 1572233445 ค่ะ", "1572233445"),
        ("บ/ช 1409876543 ชื่อเจ้าของ", "1409876543"),
        ("ป้า โอน ผิด บันชี 2233445566 จ้ะ", "2233445566"),
        ("acc no. 7781234560 please refund", "7781234560"),
        ("โอนเข้า 3021234567 scb ค่ะ", "3021234567"),
        ("ลูกค้า,บัญชี,ธนาคาร\nก,1234567890,KBANK", "1234567890"),
    ],
)
def test_an_account_cued_by_an_abbreviation_or_a_bank_after_it_is_masked(
    text: str, account: str
) -> None:
    assert ("bank_account", account) in kinds(text)


# --- English names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("K. Jirayu asked for a callback", "Jirayu"),
        ("K.Somkid will bring the ID copy", "Somkid"),
        ("Payee: PANIDA CHAROENSUK, KTB", "PANIDA CHAROENSUK"),
        ("Caller: WEERAPONG SANGTHONG, meter stopped", "WEERAPONG SANGTHONG"),
        ("Agent spoke to Anan Kittisak about the bill", "Anan Kittisak"),
        ("Kanokporn Srisawat emailed twice about it", "Kanokporn Srisawat"),
        ("complaint from Wanida Thongchai about the bill", "Wanida Thongchai"),
        ("my sister, nickname Mint, called", "Mint"),
    ],
)
def test_english_names_after_agents_cues_or_with_romanised_surnames_are_masked(
    text: str, name: str
) -> None:
    assert any(name in found for found in masked(text))


@pytest.mark.parametrize(
    "text",
    [
        "office at North Sathorn Road, ground floor",
        "Room 2201, 22nd Floor, Noble Ploenchit Tower",
        "Siam Cement Group sent the invoice",
    ],
)
def test_roads_buildings_and_firms_named_like_thai_surnames_are_not_names(text: str) -> None:
    assert not [kind for kind, _ in kinds(text) if kind == "name"]


# --- addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("ส่งที่ ตู้ ปณ. 88 ปณ.สามเสนใน กรุงเทพฯ 10400 นะคะ", "ตู้ ปณ. 88 ปณ.สามเสนใน กรุงเทพฯ 10400"),
        (
            "mail to P.O. Box 45, Chiang Mai Post Office, Chiang Mai 50000 thanks",
            "P.O. Box 45, Chiang Mai Post Office, Chiang Mai 50000",
        ),
        (
            "ตา อยู่ บ้าน เลข ที่ ๕๕ หมู่ ๔ ตำบน หนองรี อำเพอ เมือง จ้ะ",
            "บ้าน เลข ที่ ๕๕ หมู่ ๔ ตำบน หนองรี อำเพอ เมือง",
        ),
        (
            "ที่อยู่ ๗๘ ซ.ย่อย ๒ แยก ๔ ถ.บางนา-ตราด แขวงบางนา เขตบางนา",
            "๗๘ ซ.ย่อย ๒ แยก ๔ ถ.บางนา-ตราด แขวงบางนา เขตบางนา",
        ),
        ("แจ้ง ห้องเลขที่ 55/101 ชั้น 9 ไฟดับ", "ห้องเลขที่ 55/101 ชั้น 9"),
        ("ห้อง B-1702 ชั้น 17 ไฟกระพริบ", "ห้อง B-1702 ชั้น 17"),
        ("Room 2201, 22nd Floor, please", "Room 2201, 22nd Floor"),
        (
            "Home: 12 Moo 4, Chiang Mai-Lampang Rd, Mueang Lampang 52000",
            "12 Moo 4, Chiang Mai-Lampang Rd, Mueang Lampang 52000",
        ),
    ],
)
def test_po_boxes_side_lanes_misspellings_and_floors_are_addresses(text: str, address: str) -> None:
    assert ("address", address) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "ไฟดับแถวแยกลำลูกกา ทั้งแถบ",
        "ยื่นเอกสารได้ที่ ที่ทำการไปรษณีย์บางรัก",
        "ชั้น 8 ทั้งชั้นไฟดับ",
    ],
)
def test_a_junction_a_post_office_or_a_floor_alone_stays(text: str) -> None:
    assert masked(text) == []


# --- emails, handles and tables ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("เมลผม somkid.t(at)gmail.com ครับ", "somkid.t(at)gmail.com"),
        ("อีเมล noon [at] yahoo [dot] co [dot] th ค่ะ", "noon [at] yahoo [dot] co [dot] th"),
        ("mail: boy_88 at hotmail dot com na", "boy_88 at hotmail dot com"),
    ],
)
def test_an_email_spelt_out_against_harvesters_is_masked_whole(text: str, email: str) -> None:
    assert ("email", email) in kinds(text)
    assert "[อีเมล]" in mask(text)


@pytest.mark.parametrize("text", ["I stay at home. Please call", "meet at Central. Thanks"])
def test_at_in_a_sentence_is_not_an_email(text: str) -> None:
    assert masked(text) == []


@pytest.mark.parametrize(
    ("text", "handle"),
    [
        ("ตามไปดูที่ IG @mook.mk_99 ได้", "@mook.mk_99"),
        ("ติดตาม TikTok @somkid.official นะ", "@somkid.official"),
        ("@jeab_2530 บ้านเราก็ดับค่ะ", "@jeab_2530"),
        ("เพิ่มไลน์ (ID) toon.88 นะ", "toon.88"),
    ],
)
def test_social_handles_and_mentions_are_masked(text: str, handle: str) -> None:
    assert ("line_id", handle) in kinds(text)


def test_an_organisations_mention_stays() -> None:
    assert masked("@PEAThailand ช่วยด้วยค่ะ ไฟดับ") == []


def test_name_columns_of_a_pasted_table_and_its_phones_are_masked() -> None:
    text = "ชื่อ,นามสกุล,โทร,CA\nสมหญิง,ใจดี,0812345678,020009988771"
    assert kinds(text) == [
        ("name", "สมหญิง"),
        ("name", "ใจดี"),
        ("phone", "0812345678"),
    ]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("id\tcustomer\tamount\n17\tKanya Boonsri\t1,200", "Kanya Boonsri"),
        ("ผู้แจ้ง\tกุ้งนาง ปลาทอง", "กุ้งนาง ปลาทอง"),
        ('{"holder": "บัวผัน ดอกแก้ว", "ca": "020011112222"}', "บัวผัน ดอกแก้ว"),
    ],
)
def test_a_sheets_name_cell_and_a_json_customer_are_masked(text: str, name: str) -> None:
    assert ("name", name) in kinds(text)


def test_amounts_in_a_table_keep_their_commas() -> None:
    assert masked("วันที่,CA,ยอด\n01/11/2569,020009988771,2,341.00") == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Regards,\nPimchanok Ruangsri (Ms.)\nSales", "Pimchanok Ruangsri"),
        ("ขอบคุณครับ\nสมพงษ์ ใจเด็ด", "สมพงษ์ ใจเด็ด"),
    ],
)
def test_a_signer_after_a_thai_thanks_or_with_a_title_after_is_masked(text: str, name: str) -> None:
    assert ("name", name) in kinds(text)
