"""The detector on the eighth evaluation set, held out whole, and on the rules added with it.

Each case of a new rule is one the detector before it missed; the look-alikes beside
them are kept by both. The texts are written for these tests, not taken from any set.
"""

from __future__ import annotations

import pytest

from services.privacy.detect import detect
from tests.support.pii_eval import FIXTURES, masked, score

EIGHTH = FIXTURES / "pii_eval_eighth.jsonl"
EIGHTH_FLOOR = 0.93
EIGHTH_KEPT_FLOOR = 0.95


def test_eighth_set_keeps_the_measured_floor() -> None:
    # The floor is the figure measured once after tuning (0.890, from 0.830 before;
    # look-alikes 0.937, 207/221, as before); the goal, 0.99 on unseen text and 0.95 of
    # look-alikes, is not met: see docs/decisions.md, "Masking on an eighth unseen set".
    # Tuned on since the ninth set: 0.940 (look-alikes 0.959, 212/221), "Masking on a
    # ninth unseen set".
    hidden, kept = score(EIGHTH, "holdout")
    assert hidden >= EIGHTH_FLOOR
    assert kept >= EIGHTH_KEPT_FLOOR


def kinds(text: str) -> list[tuple[str, str]]:
    """Return (kind, text) for each detected span."""
    return [(s.kind, text[s.start : s.end]) for s in detect(text)]


def names(text: str) -> list[str]:
    return [value for kind, value in kinds(text) if kind == "name"]


# --- nicknames in their frames ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "nick"),
    [
        ("พี่แอ้ม ฝากบอกว่าช่างมาแล้ว", "แอ้ม"),
        ("น้อง ปุ้ย 🐣 รอสายอยู่", "ปุ้ย"),
        ("เรา เฟรม เองนะ ไฟดับอีกแล้ว", "เฟรม"),
        ("หนู ริน ลูกสาว แจ้งแทนแม่", "ริน"),
        ("ข้อความเสียง: นุช พูดนะคะ โทรกลับด้วย", "นุช"),
        ("สวัสดีค่ะ แนน นะคะ ขอเลื่อนนัด", "แนน"),
        ("[chat] 😊 ตุ๊ก: มิเตอร์ไม่หมุน", "ตุ๊ก"),
    ],
)
def test_a_nickname_is_masked_in_its_frame(text: str, nick: str) -> None:
    assert nick in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "ป้ายทะเบียนหาย แจ้งด้วย",
        "อากาศร้อนมาก ไฟตก",
        "พี่ชายไม่อยู่บ้าน",
        "น้องสาวโทรมาแล้ว",
        "ร้าน ป้าแต๋ว ไฟดับ",
        "โน้ต: ลูกค้าขอใบเสร็จ",
        "ผม ไป ครับ",
    ],
)
def test_kin_words_signs_and_labels_are_not_nicknames(text: str) -> None:
    assert names(text) == []


# --- Latin names after English labels -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("GIVEN NAME (ชื่อ): KANYARAT\nPHONE 0812345670", "KANYARAT"),
        ("NAME: PHAKAWAT SURNAME: RUNGSRI", "PHAKAWAT"),
        ("NAME: PHAKAWAT SURNAME: RUNGSRI", "RUNGSRI"),
        ("LAST NAME: SAENGTHONG\nCA 020011112222", "SAENGTHONG"),
        ("CONTACT PERSON NIPHON W. OFFICE 02-111-2222", "NIPHON W."),
        ("SCB transfer From PORNPAN K. To PEA", "PORNPAN K."),
        ("son's name THEERAPAT SUKJAI (ธีรภัทร สุขใจ)", "THEERAPAT SUKJAI"),
        ("cust MRS. LAMAI SINGTO tel 0899990000", "MRS. LAMAI SINGTO"),
        ("ag: k.wilai wants a callback", "wilai"),
        ("please call Fon back after 5pm", "Fon"),
        ('ลูกค้าชื่อในไลน์ "⭐Jib⭐" ส่งรูปมา', "⭐Jib⭐"),
    ],
)
def test_a_latin_name_after_an_english_label_is_masked(text: str, name: str) -> None:
    assert name in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "From PEA BILL PAYMENT To KBANK",
        "Contact Center hours 8:00-17:00",
        "NAME: - (ไม่ระบุ)",
        "From Monday the office opens at 8",
    ],
)
def test_labels_before_a_company_a_service_or_a_day_hide_nothing(text: str) -> None:
    assert names(text) == []


# --- LINE ids with no cue -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "handle"),
    [
        ("ติดต่อ nuch.pimchanok ได้เลยค่ะ", "nuch.pimchanok"),
        ("ทักมาที่ kwan_kwan99 นะ", "kwan_kwan99"),
        ("หรือ jaidee2530 ก็ได้", "jaidee2530"),
        ("ig เราเลย @_mewmew.s ✨", "@_mewmew.s"),
    ],
)
def test_a_handle_shaped_id_is_masked_with_no_cue(text: str, handle: str) -> None:
    assert ("line_id", handle) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "ดูรายละเอียดที่ pea.co.th ได้",
        "แนบไฟล์ bill_dec.pdf มาแล้ว",
        "ฟิลด์ first_name: ว่าง ต้องกรอก",
        "intent=power_outage ส่งต่อแล้ว",
        "ลิงก์ https://www.example.com/a.b ค่ะ",
    ],
)
def test_domains_files_and_record_keys_are_not_handles(text: str) -> None:
    assert [k for k, _ in kinds(text) if k == "line_id"] == []


# --- addresses written in Latin letters ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "ban yu lek tee 45 moo 9 tambon nong kham na ka",
            "lek tee 45 moo 9 tambon nong kham",
        ),
        ("ADDR 7/21 MOO 2, T. BAN KAO, A. MUEANG, KANCHANABURI 71000", None),
        ("home 45/2 moo 3 t. bang phra a. si racha chonburi pls", None),
    ],
)
def test_a_latin_written_address_is_masked(text: str, address: str | None) -> None:
    expected = address or text.split(" ", 1)[1].removesuffix(" pls")
    assert ("address", expected) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "power outage at moo 3 since 3pm",
        "invoice no. 4521 due 15/12",
        "meeting on Dec 6, 2026 at the office",
        "faifa dap tang moo ban Sansiri 3",
    ],
)
def test_a_village_or_a_number_alone_is_not_a_latin_address(text: str) -> None:
    assert [k for k, _ in kinds(text) if k == "address"] == []


# --- numbers: numbered lists, a CA after "account", a house number's range ---------------


def test_a_phone_after_a_numbered_lists_marker_is_masked() -> None:
    text = "โทรกลับ\n1) 0897651234\n2. 0624449876\n(3) 0815557777"
    found = [value for kind, value in kinds(text) if kind == "phone"]
    assert found == ["0897651234", "0624449876", "0815557777"]


def test_a_list_marker_before_a_short_number_hides_nothing() -> None:
    assert masked("ข้อ\n1) 1129 สายด่วน\n2) 12.50 บาท") == []


def test_a_contract_account_after_the_bare_word_account_stays() -> None:
    assert masked("account 020012345678 bill too high") == []


def test_a_bank_word_still_makes_a_twelve_digit_account() -> None:
    assert ("bank_account", "020012345678") in kinds("ออมสิน account 020012345678")


def test_a_house_numbered_as_a_range_opens_the_address() -> None:
    text = "บ้านเลขที่ 5-7 ถ.เจริญเมือง ซ.3"
    assert ("address", text) in kinds(text)


def test_a_village_heads_office_is_not_a_titled_name() -> None:
    assert names("จาก ผู้ใหญ่บ้านหมู่ที่ 4 ตำบลหนองแค") == []


def test_a_surname_field_is_a_name() -> None:
    assert "ศรีวิไล" in names("ชื่อ: มาลี\nสกุล: ศรีวิไล\nโทร: 0812340000")


def test_a_romanised_pronoun_before_a_name_is_a_cue() -> None:
    assert "Kittisak" in names("phom Kittisak krub, fai dap")
    assert names("phom mai ru krub") == []
