"""The detector on the sixth evaluation set, held out whole, and on the rules added with it.

Each case of a new rule is one the detector before it missed; the look-alikes beside
them are kept by both.
"""

from __future__ import annotations

import pytest

from services.privacy.detect import detect
from tests.support.pii_eval import FIXTURES, masked, score

SIXTH = FIXTURES / "pii_eval_sixth.jsonl"
SIXTH_FLOOR = 0.88
SIXTH_KEPT_FLOOR = 0.98


def test_sixth_set_keeps_the_measured_floor() -> None:
    # Measured once after its own round at 0.852 (0.716 before; look-alikes 0.969),
    # see docs/decisions.md, "Masking on a sixth unseen set". Its misses became
    # tuning data with the seventh set, and it was rebuilt with real tabs where
    # it had "\t": 0.8875 and 0.980 of look-alikes since, so it is no longer
    # unseen text ("Masking on a seventh unseen set").
    hidden, kept = score(SIXTH, "holdout")
    assert hidden >= SIXTH_FLOOR
    assert kept >= SIXTH_KEPT_FLOOR


def kinds(text: str) -> list[tuple[str, str]]:
    """Return (kind, text) for each detected span."""
    return [(s.kind, text[s.start : s.end]) for s in detect(text)]


# --- LINE ids without a cue word ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "handle"),
    [
        ('{"line_id": "kwan.jai99", "ca": "020012345678"}', "kwan.jai99"),
        ('{"lineid":"tong_2531","meter":"22014479"}', "tong_2531"),
        ("ชื่อ,LINE,CA\nอรทัย,orathai_k,020019988776", "orathai_k"),
        ("| ลำดับ | ID LINE |\n|---|---|\n| 1 | benz.pp |", "benz.pp"),
        ("Field | Value\nLINE | praew_2540\nCA | 020011122233", "praew_2540"),
        ("ไลน์ somsri๒๕๑๒ ค่ะ", "somsri๒๕๑๒"),
    ],
)
def test_a_line_id_under_a_key_or_in_a_line_column_is_masked(text: str, handle: str) -> None:
    found = kinds(text)
    assert ("line_id", handle) in found
    # The CA or meter number beside it stays.
    assert not [value for kind, value in found if value.startswith(("0200", "2201"))]


def test_a_table_of_ids_and_statuses_keeps_its_other_columns() -> None:
    # The LINE column comes last: a "line" header right before another header
    # still reads that header as an id (see docs/decisions.md, what is left).
    text = "status\tamount\tline\nopen\t1,250.00\tnoi.sw"
    assert masked(text) == ["noi.sw"]


def test_two_headers_side_by_side_are_not_a_labelled_name() -> None:
    assert masked("ชื่อ\tโทร\nสมร\t0812223344") == ["สมร", "0812223344"]


# --- names in forms, signatures and chats ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("มิเตอร์หน้าบ้านหมุนเร็วผิดปกติครับ\n\nส่งจาก iPhone ของ Ratchada", "Ratchada"),
        ("ok ค่ะ\n\nส่งจาก iPad ของ Tanya", "Tanya"),
        ("see below\n\nSent from my Galaxy S23\n\nKanda Wong", "Kanda Wong"),
    ],
)
def test_the_owner_a_phone_signature_names_is_masked(text: str, name: str) -> None:
    assert name in masked(text)


def test_a_phone_signature_without_a_name_stays() -> None:
    assert masked("ไฟดับครับ\n\nSent from my iPhone") == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (
            "2026.11.02 Monday\n10:01\tPloy Ratana\tสวัสดีค่ะ\n10:02\tPEA Contact Center\tรับทราบ",
            "Ploy Ratana",
        ),
        ("18:01 Kung: ไฟดับค่ะ\n18:02 แอดมิน: รับทราบค่ะ", "Kung"),
        ("09:00 Bee unsent a message\n09:01 Bee: ขอโทษค่ะ", "Bee"),
    ],
)
def test_a_saved_line_chat_masks_its_senders_not_the_account(text: str, name: str) -> None:
    found = masked(text)
    assert name in found
    assert not [value for value in found if value in ("PEA Contact Center", "แอดมิน")]


def test_turn_labels_of_a_transcript_are_not_senders() -> None:
    assert masked("[00:00:03] Agent: สวัสดีค่ะ\n[00:00:07] Customer: ไฟดับครับ") == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("form=7&name=Supaporn+Kaewmanee&tel=-", "Supaporn+Kaewmanee"),
        ("name=อนุชา%20พรหมมา status=open", "อนุชา%20พรหมมา"),
        ('{"display_name": "Pond Pongsakorn"}', "Pond Pongsakorn"),
        ('{"first": "วราภรณ์", "amount": 3000}', "วราภรณ์"),
        ("submitted_by: ศิรดา\nsubject: ขอบิล", "ศิรดา"),
        ("ผู้ยื่นคำขอ : กวินท์ ดีเลิศ\n", "กวินท์ ดีเลิศ"),
        ("* ชื่อ **กวินท์ ดีเลิศ**\n* ยอด 1,200", "กวินท์ ดีเลิศ"),
        ("- ผู้แจ้ง: `ศิรดา`", "ศิรดา"),
    ],
)
def test_names_in_query_strings_json_keys_and_markdown_are_masked(text: str, name: str) -> None:
    found = masked(text)
    assert name in found
    # The next key, the status and the amount stay.
    assert not [value for value in found if "status" in value or "1,200" in value]


# --- Thai names: glued, spaced, kin and regional words -------------------------------------


def test_a_name_glued_after_khun_in_running_text_is_masked() -> None:
    assert masked("ฝากถามคุณวราภรณ์ ว่าได้รับบิลไหม") == ["คุณวราภรณ์"]


@pytest.mark.parametrize("text", ["ขอบคุณสมาชิกทุกท่าน", "บุญคุณสมชายมีมาก", "คุณภาพไฟตกมาก"])
def test_khun_inside_a_word_is_not_a_title(text: str) -> None:
    assert masked(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ลูกค้าชื่อ กวินท์ แก้ว มณี โทรมา", "กวินท์ แก้ว มณี"),
        ("เจ้าหน้าที่: ขอทราบชื่อค่ะ\nลูกค้า: ภู ริชญ์ ค่ะ", "ภู ริชญ์"),
    ],
)
def test_a_name_spaced_apart_is_joined_while_the_lists_know_it(text: str, name: str) -> None:
    assert masked(text) == [name]


def test_grandparents_and_regional_kin_words_title_a_listed_name() -> None:
    assert masked("ตา บุญมี ฝากบอกว่าไฟดับ") == ["ตา บุญมี"]
    assert masked("อุ้ย กวินท์ เจ้า") == ["อุ้ย กวินท์"]


@pytest.mark.parametrize("text", ["ตาบอดข้างหนึ่งมองไม่เห็นมิเตอร์", "ปู่ย่าตายายอยู่บ้าน", "ย่านบางนาไฟดับ"])
def test_kin_words_in_ordinary_words_stay(text: str) -> None:
    assert masked(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ข้อยชื่อ สมหมาย เด้อ", "สมหมาย"),
        ("ฉาน ญาณิศา ครับ", "ญาณิศา"),
        ("ชื่อ ธีร์ ค่ะ", "ธีร์"),
    ],
)
def test_regional_pronouns_and_names_closed_by_a_particle_are_masked(text: str, name: str) -> None:
    assert masked(text) == [name]


@pytest.mark.parametrize("text", ["ข้อยบ่ฮู้เด้อ", "ชื่อ เดิม ค่ะ", "ชื่อในบิลสะกดผิดค่ะ"])
def test_a_pronoun_or_a_particle_alone_names_no_one(text: str) -> None:
    assert masked(text) == []


def test_a_teacher_is_a_title_but_not_the_head_teacher() -> None:
    assert masked("ครูสมพงษ์ ใจบุญ แจ้งไฟดับที่โรงเรียน") == ["ครูสมพงษ์ ใจบุญ"]
    assert masked("ครูใหญ่โทรมาแจ้งว่าไฟดับ") == []


def test_a_surname_cut_to_its_initial_is_kept_with_the_name_not_a_house_label() -> None:
    assert masked("โอนจาก นาย สมศักดิ์ ก. ยอด 500") == ["นาย สมศักดิ์ ก."]
    found = masked("คุณสมชาย บ. 12 หมู่ 3 ต.บางพลี อ.บางพลี")
    assert found == ["คุณสมชาย", "บ. 12 หมู่ 3 ต.บางพลี อ.บางพลี"]


def test_a_name_in_brackets_after_a_number_is_its_owner() -> None:
    assert masked("พร้อมเพย์ 0899998888 (มาลี) ค่ะ") == ["0899998888", "มาลี"]
    assert masked("โทร 0899998888 (มือถือ) หรือ 0899998887 (ลูกสาว)") == [
        "0899998888",
        "0899998887",
    ]


def test_a_name_answering_a_timed_transcript_turn_is_masked() -> None:
    text = "[00:01:00] Agent: ขอทราบชื่อด้วยค่ะ\n[00:01:04] Customer: อ๋อ ชไมพร ค่ะ"
    assert masked(text) == ["ชไมพร"]


# --- addresses, e-mail and English -----------------------------------------------------------


def test_a_condominium_named_after_the_room_is_part_of_the_address() -> None:
    text = "ผมอยู่ห้อง 1605 ชั้น 16 ไลฟ์ ลาดพร้าว วัลเลย์ ไฟดับครับ"
    assert masked(text) == ["ห้อง 1605 ชั้น 16 ไลฟ์ ลาดพร้าว วัลเลย์"]


@pytest.mark.parametrize("text", ["ไฟดับที่ลุมพินี วิลล์ ทั้งตึก", "ห้องประชุม ชั้น 3 ศุภาลัย ไฟดับ"])
def test_a_condominium_or_a_meeting_room_alone_stays(text: str) -> None:
    assert masked(text) == []


def test_an_english_room_in_lower_case_is_an_address() -> None:
    text = "hi, my condo room 1811, Noble Remix Sukhumvit 36 has no power"
    assert masked(text) == ["room 1811, Noble Remix Sukhumvit 36"]
    assert masked("the meeting room 3 is dark") == []


def test_an_email_read_out_with_a_thai_mail_host_is_masked() -> None:
    assert kinds("อีเมล pornthip แอท จีเมล ดอท คอม ค่ะ") == [("email", "pornthip แอท จีเมล ดอท คอม")]
    assert masked("ส่งทางจีเมลแล้วค่ะ") == []


def test_a_signer_after_regards_in_lower_case_is_masked() -> None:
    assert "Anna Kowalski" in masked("many thanks, regards Anna Kowalski")
