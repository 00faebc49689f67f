"""The Thai personal-data detector and masker: what is hidden, what stays visible."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from services.privacy.detect import Span, detect
from services.privacy.masking import mask, mask_text

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "pii_examples.jsonl"

# Valid checksums: 1-1017-00230-70-8 and 3-5099-00123-45-0.
NATIONAL_ID = "1101700230708"
OTHER_NATIONAL_ID = "3509900123450"


def found(text: str) -> list[tuple[str, str]]:
    """Return (kind, text) for each detected span."""
    return [(s.kind, text[s.start : s.end]) for s in detect(text)]


def kinds(text: str) -> set[str]:
    """Return the kinds detected in text."""
    return {s.kind for s in detect(text)}


# --- national ids -------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "1101700230708",
        "1-1017-00230-70-8",
        "1 1017 00230 70 8",
        "1 1 0 1 7 0 0 2 3 0 7 0 8",
        "๑๑๐๑๗๐๐๒๓๐๗๐๘",
        "๑-๑๐๑๗-๐๐๒๓๐-๗๐-๘",
    ],
)
def test_national_id_is_found_in_every_written_form(written: str) -> None:
    assert found(f"เลขบัตรประชาชน {written} ค่ะ") == [("national_id", written)]


def test_national_id_glued_to_thai_words_is_found() -> None:
    assert found(f"บัตร{NATIONAL_ID}โทร") == [("national_id", NATIONAL_ID)]


def test_national_id_with_thai_digits_is_masked() -> None:
    assert mask("เลขบัตร ๑-๑๐๑๗-๐๐๒๓๐-๗๐-๘") == "เลขบัตร ๑-xxxx-xxxxx-xx-๘"


def test_national_id_mask_keeps_first_and_last_digit() -> None:
    assert mask("บัตร 3-5099-00123-45-0") == "บัตร 3-xxxx-xxxxx-xx-0"


@pytest.mark.parametrize("typo", ["1101700230709", "3-5099-00123-45-1", "๑๑๐๑๗๐๐๒๓๐๗๐๙"])
def test_thirteen_digits_failing_checksum_stay_visible(typo: str) -> None:
    text = f"เลขบัตรที่แจ้งมา {typo} ไม่ถูกต้อง"
    assert mask(text) == text


@pytest.mark.parametrize("tax_id", ["0105536270221", "0-1055-46875-04-5", "0 1055 52281 40 2"])
def test_company_tax_id_starting_with_zero_stays_visible(tax_id: str) -> None:
    text = f"เลขประจำตัวผู้เสียภาษี {tax_id} สำนักงานใหญ่"
    assert mask(text) == text


# --- look-alikes ----------------------------------------------------------------


@pytest.mark.parametrize("hotline", ["1129", "1365", "1204", "191", "1669"])
def test_hotline_numbers_stay_visible(hotline: str) -> None:
    text = f"โทร {hotline} ไม่มีคนรับสายเลยค่ะ"
    assert mask(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "CA 020728370786 ค่าไฟสูงผิดปกติ",
        "CA020555617983 ค้างชำระ",
        "บัญชีแสดงสัญญา 0203 7989 7033 ครับ",
        "มิเตอร์เลขที่ 279310849188 ชำรุด",
        "เลขมิเตอร์ ๘๑๗๑๙๘๑๗๔๒๓๙ ค่ะ",
    ],
)
def test_contract_account_and_meter_numbers_stay_visible(text: str) -> None:
    assert mask(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "ยอด 1,784 บาท เมื่อ 27 มิ.ย. 68",
        "ค่าไฟ ๒,๙๑๑.๒๕ บาท ลงวันที่ ๐๓/๑๒/๒๕๖๗",
        "ชำระ 105,005.02 บาท วันที่ 19 กันยายน 2568",
        "สลิปวันที่ 07-12-67 และ 2025-12-16 เวลา 10.45 น.",
    ],
)
def test_amounts_and_buddhist_era_dates_stay_visible(text: str) -> None:
    assert mask(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "เสาหมายเลข 34/6068 เอียงค่ะ",
        "ออเดอร์ ORD2025080810681 ผิดรุ่น",
        "ใบเสร็จ RC6903-926210 และคำร้อง REQ-690523-0051",
        "ใบสั่งซื้อ PO-68/1448 ใบแจ้งหนี้ IV680694860",
    ],
)
def test_pole_and_order_numbers_stay_visible(text: str) -> None:
    assert mask(text) == text


# --- phones -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "081-234-5678",
        "0812345678",
        "081 234 5678",
        "081.234.5678",
        "08-1234-5678",
        "+66 81 234 5678",
        "+66812345678",
        "+66-81-234-5678",
        "(+66) 81-234-5678",
        "๐๘๑-๒๓๔-๕๖๗๘",
        "02-123-4567",
        "045-697-950",
        "0-7353-2373",
        "(02) 123-4567",
        "081-234-\n5678",
    ],
)
def test_thai_phone_is_found_in_every_written_form(phone: str) -> None:
    assert found(f"ติดต่อ {phone} ค่ะ") == [("phone", phone)]


def test_phone_mask_keeps_prefix_and_last_four_digits() -> None:
    assert mask("โทร 081-234-5678") == "โทร 08x-xxx-5678"


def test_international_phone_mask_keeps_country_code() -> None:
    assert mask("tel +66-81-234-5678") == "tel +66-8x-xxx-5678"


def test_phone_extension_stays_outside_the_phone() -> None:
    assert found("โทร 02-914-6688 ต่อ 214") == [("phone", "02-914-6688")]


# --- emails and LINE ids -----------------------------------------------------------


def test_email_mask_keeps_first_letter_and_domain() -> None:
    assert mask("ส่งมาที่ somchai.j@example.com นะคะ") == "ส่งมาที่ s***@example.com นะคะ"


@pytest.mark.parametrize(
    ("text", "line_id"),
    [
        ("ไลน์ไอดี: annky_2537 ค่ะ", "annky_2537"),
        ("LINE ID: hannah21.", "hannah21"),
        ("my LINE id is tom.301 .", "tom.301"),
        ("Line: sunisa.497", "sunisa.497"),
        ("แจ้งกลับทางไลน์ @golfmy_2542 ได้เลย", "@golfmy_2542"),
        ("ทักไลน์ส่วนตัวมาได้ค่ะ @tukky.614", "@tukky.614"),
        ("ไลน์ยังใช้ไอดีเดิม tommy75 ค่ะ", "tommy75"),
        ("ไอดีไลน์ผม nokzy-bkk ครับ", "nokzy-bkk"),
    ],
)
def test_line_id_after_a_line_cue_is_found(text: str, line_id: str) -> None:
    assert found(text) == [("line_id", line_id)]


def test_line_id_is_replaced_by_a_label() -> None:
    assert mask("ไลน์ไอดี: annky_2537 ค่ะ") == "ไลน์ไอดี: [LINE ID] ค่ะ"


@pytest.mark.parametrize(
    "text",
    [
        "แจ้งเตือนผ่าน LINE หรือ SMS ก่อนงดจ่ายไฟ",
        "[LINE] ลูกค้า: สวัสดีค่ะ",
        "ลองทักมาทางไลน์แทน ไฟดับแถวตลาด",
        "ติดตามเพจ @pea.official ได้เลย",
    ],
)
def test_line_mentions_without_an_account_stay_visible(text: str) -> None:
    assert mask(text) == text


# --- bank accounts and cards ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["โอนเข้าบัญชีกสิกร 955-4-89530-2", "ธนาคารกรุงเทพ 204 8 46079 8", "บัญชีกรุงไทย 0124541535"],
)
def test_bank_account_with_bank_format_or_context_is_found(text: str) -> None:
    assert kinds(text) == {"bank_account"}


def test_bank_account_mask_keeps_last_four_digits() -> None:
    assert mask("บัญชีกรุงศรี 765-7-47144-6") == "บัญชีกรุงศรี xxx-x-xx144-6"


def test_mobile_number_after_a_phone_word_stays_a_phone() -> None:
    assert kinds("คืนเงินเข้าบัญชีได้ไหม ติดต่อหนู 0879311310") == {"phone"}


@pytest.mark.parametrize(
    "card", ["4111 1111 1111 1111", "4111-1111-1111-1111", "5390479678686711", "3431 465045 65265"]
)
def test_luhn_valid_card_is_masked_to_last_four(card: str) -> None:
    masked = mask(f"ตัดบัตร {card} ไม่ผ่าน")
    assert masked.endswith(f"{card[-4:]} ไม่ผ่าน")
    assert card[:4] not in masked


def test_card_number_failing_luhn_stays_visible() -> None:
    text = "ตัดบัตร 4111 1111 1111 1112 ไม่ผ่าน"
    assert mask(text) == text


# --- addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "บ้านเลขที่ 24/89 หมู่ 13 ซอยร่วมใจ ถนนเพชรเกษม ตำบลหาดใหญ่ อำเภอหาดใหญ่ จังหวัดสงขลา 90110",
        "191 ม.13 ซ.ตลาดเก่า ถ.แจ้งวัฒนะ ต.ปากเกร็ด อ.ปากเกร็ด จ.นนทบุรี 11120",
        "247 ซ.สุขุมวิท 101/1 ถ.สุขุมวิท แขวงบางนาเหนือ เขตบางนา กรุงเทพฯ 10260",
        "28ม.3ต.เนินพระอ.เมืองระยองจ.ระยอง21000",
        "เลขที่ 73 หมู่ 8 ต.ศรีราชา อ.ศรีราชา จ.ชลบุรี",
        "16/6 Moo 7, T. Na Kluea, A. Bang Lamung, Chon Buri 20150",
    ],
)
def test_address_from_house_number_to_postcode_is_masked(address: str) -> None:
    assert mask(f"ที่อยู่ {address} ค่ะ") == "ที่อยู่ [ที่อยู่] ค่ะ"


@pytest.mark.parametrize(
    "text",
    [
        "เสาหมายเลข 9/2375 และ 41/5882 ในเขตหมู่ที่ 4 แตกร้าว",
        "ครัวเรือนในหมู่ที่ 14 ต.โซ่ อ.โซ่พิสัย ยังไม่มีไฟ",
        "ไฟดับทั้งตำบลบางนางค่ะ",
    ],
)
def test_places_without_a_house_number_stay_visible(text: str) -> None:
    assert mask(text) == text


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ลค. นางนภาพร ศรีวงศ์ ขอให้โทรกลับ", "นางนภาพร ศรีวงศ์"),
        ("ชื่อ: นางสาว สุนิสา บุญมา\n", "นางสาว สุนิสา บุญมา"),
        ("ของ น.ส.นภาพร คำแก้ว เลขอ้างอิง", "น.ส.นภาพร คำแก้ว"),
        ("หลาน ด.ญ.ใบเตย โพธิ์ทอง ขอให้", "ด.ญ.ใบเตย โพธิ์ทอง"),
        ("ข้าพเจ้านายทองดี นาคสวัสดิ์ อยู่", "นายทองดี นาคสวัสดิ์"),
        ("นางสาวชุติมา แสงทองเลขบัตรประชาชน", "นางสาวชุติมา แสงทอง"),
        ("ผู้รับ คุณกอล์ฟ โทรมา", "คุณกอล์ฟ"),
        ("ลค. คุณเอกชัย แจ้งว่าบ้านปิดไว้", "คุณเอกชัย"),
        ("ติดต่อป้าสมศรี (ป้าของผู้ป่วย)", "ป้าสมศรี"),
        ("ผมชื่อสุรชัย คำแก้ว มิเตอร์", "สุรชัย คำแก้ว"),
        ("ติดต่อ คุณสมศรี พรหมมา ค่ะ", "คุณสมศรี พรหมมา"),
        ("ลค. นางปราณี มีสุข โทรมา", "นางปราณี มีสุข"),
    ],
)
def test_titled_thai_name_is_found(text: str, name: str) -> None:
    assert found(text) == [("name", name)]


@pytest.mark.parametrize(
    "text",
    [
        "ยิ้มแย้มเหมือนนางฟ้าเลย",
        "คุณภาพบริการแย่มากค่ะ",
        "ขอบคุณมากค่ะ คุณพนักงานคะ",
        "นายอำเภอมาเปิดงาน นายช่างมาตรวจ",
        "ลค. คุณยาย (อายุ 82) มากับหลาน",
        "ไฟดับแถวนางรอง ตรงข้ามตลาด",
        "ร้านครัวป้าศรี เปิดทุกวัน",
    ],
)
def test_words_that_start_like_titles_stay_visible(text: str) -> None:
    assert mask(text) == text


def test_name_is_replaced_by_a_label() -> None:
    assert mask("ผู้แจ้ง นายวรวุฒิ ศรีวงศ์ เบอร์") == "ผู้แจ้ง [ชื่อ] เบอร์"


def test_customer_known_name_is_masked_without_a_title() -> None:
    text = "สมชาย ใจดี โทรมาอีกแล้ว สมชายบอกว่าใจดีมาก"
    assert mask(text, known_names=["สมชาย ใจดี"]) == "[ชื่อ] โทรมาอีกแล้ว [ชื่อ]บอกว่าใจดีมาก"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Name: Mrs. Yuki Sato, tel", "Mrs. Yuki Sato"),
        ("sorry, I'm Kenji Tanaka, phone", "Kenji Tanaka"),
        ("Cheers, Sophie Laurent (sophie.laurent@example.com)", "Sophie Laurent"),
        ("Could someone call me? Piyanuch Kitcharoen, +66868632114", "Piyanuch Kitcharoen"),
    ],
)
def test_english_name_with_title_or_signature_is_found(text: str, name: str) -> None:
    assert ("name", name) in found(text)


def test_english_place_names_are_not_names() -> None:
    assert "name" not in kinds("villa at Chiang Mai 50200, near Chon Buri")


# --- masking mechanics --------------------------------------------------------------------


def test_mask_keeps_sara_am_composed() -> None:
    # NFKC would split ำ into ํ + า; NFC leaves it whole.
    text = "ค่าน้ำมัน 1,200 บาท"
    assert mask(text) == text
    assert "\u0e4d" not in mask(text)


def test_mask_normalises_input_to_nfc() -> None:
    assert mask("Cafe\u0301 ดี") == "Caf\u00e9 ดี"


def test_mask_text_joins_overlapping_spans_so_nothing_leaks() -> None:
    spans = [Span(3, 9, "address"), Span(0, 5, "name")]
    assert mask_text("abcdefghij", spans) == "[ที่อยู่]j"


def test_mask_text_clips_a_span_running_past_the_end() -> None:
    assert mask_text("abc", [Span(2, 10, "name")]) == "ab[ชื่อ]"


def test_detect_returns_sorted_spans_that_do_not_overlap() -> None:
    text = f"นายสมชาย ใจดี บัตร {NATIONAL_ID} โทร 0812345678 บัตร {OTHER_NATIONAL_ID}"
    spans = detect(text)
    assert [s.kind for s in spans] == ["name", "national_id", "phone", "national_id"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


# --- reference examples -------------------------------------------------------------------


def _covered(spans: list[dict[str, int]]) -> set[int]:
    return {i for s in spans for i in range(s["start"], s["end"])}


# Member and loyalty card numbers are masked (they name one person: see
# docs/decisions.md, "Masking on a fourth unseen set"); the reference set, written
# before that decision, marks these two as look-alikes (13 digits failing the ID check).
MEMBER_NUMBERS = frozenset({"pii-ex-012 invalid_id", "pii-ex-056 invalid_id"})


@pytest.mark.skipif(not EXAMPLES.exists(), reason=f"reference examples absent: {EXAMPLES}")
def test_reference_examples_meet_recall_and_precision_and_leak_no_decoy() -> None:
    hits = gold_total = masked_total = 0
    leaked: list[str] = []
    for line in EXAMPLES.read_text(encoding="utf-8").splitlines():
        example = json.loads(line)
        gold = _covered(example["pii"])
        masked = {i for s in detect(example["text"]) for i in range(s.start, s.end)}
        hits += len(gold & masked)
        gold_total += len(gold)
        masked_total += len(masked)
        leaked += [
            f"{example['id']} {d['kind']}" for d in example["decoys"] if _covered([d]) & masked
        ]
    assert hits / gold_total >= 0.99
    assert hits / masked_total >= 0.97
    assert [decoy for decoy in leaked if decoy not in MEMBER_NUMBERS] == []
