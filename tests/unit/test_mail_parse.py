"""Inbound mail parsing, over every sample mail and the oversize recipe."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
import unicodedata
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

import pytest

from services.intake.channels.mail import parse as mail_parse
from services.intake.channels.mail.decode import MAIL_POLICY, register_thai_codecs
from services.intake.channels.mail.parse import (
    MAX_MAIL_BYTES,
    ParsedMail,
    check_size,
    fax_gateway_attachment,
    find_case_tag,
    parse_mail,
)
from services.intake.channels.mail.quote import split_reply
from shared.errors import PayloadTooLarge

EMAIL_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "channels" / "email"
C1_CONTROLS = re.compile("[\u0080-\u009f]")

EXPECTED_KINDS = {
    "auto_reply.eml": "auto_reply",
    "bounce_dsn.eml": "bounce",
    "html_only.eml": "contact",
    "reply_thread_1.eml": "contact",
    "reply_thread_2.eml": "contact",
    "spam_like.eml": "bulk",
    "tis620.eml": "contact",
    "utf8_plain.eml": "contact",
    "windows874.eml": "contact",
    "with_attachments.eml": "contact",
}


def raw(name: str) -> bytes:
    """Return a sample mail exactly as it was received."""
    return (EMAIL_DIR / name).read_bytes()


def sample(name: str) -> ParsedMail:
    """Parse a sample mail."""
    return parse_mail(raw(name))


def build_eml(attachment_mib: float) -> bytes:
    """Build a mail with an attachment of the given size, per oversize_note.txt."""
    msg = EmailMessage()
    msg["From"] = Address("ผู้ทดสอบ", addr_spec="tester@example.com")
    msg["To"] = "contact1129@pea-demo.example"
    msg["Subject"] = "ส่งรูปหลักฐานไฟดับ (ไฟล์ใหญ่)"
    msg["Date"] = "Wed, 18 Nov 2026 09:00:00 +0700"
    msg["Message-ID"] = "<oversize-test-1@example.com>"
    msg.set_content("แนบวิดีโอหลักฐานมาด้วยค่ะ", charset="utf-8")
    n = int(attachment_mib * 1024 * 1024)
    payload = (bytes(range(256)) * (n // 256 + 1))[:n]
    msg.add_attachment(payload, maintype="video", subtype="mp4", filename="หลักฐาน.mp4")
    return msg.as_bytes(policy=email.policy.SMTP)


def test_every_sample_mail_has_an_expected_kind() -> None:
    assert {p.name for p in EMAIL_DIR.glob("*.eml")} == set(EXPECTED_KINDS)


@pytest.mark.parametrize(("name", "kind"), sorted(EXPECTED_KINDS.items()))
def test_sample_mail_is_classified_as_its_kind(name: str, kind: str) -> None:
    assert sample(name).kind == kind


@pytest.mark.parametrize("name", sorted(EXPECTED_KINDS))
def test_sample_mail_text_is_nfc_without_c1_controls(name: str) -> None:
    mail = sample(name)
    for text in (mail.subject, mail.text, mail.quoted, mail.from_name or ""):
        assert unicodedata.is_normalized("NFC", text)
        assert not C1_CONTROLS.search(text)


def test_utf8_plain_subject_body_and_sender_are_decoded_thai() -> None:
    mail = sample("utf8_plain.eml")
    assert mail.subject == "ร้องเรียนไฟตกและไฟกระพริบบ่อย ซอยศรีจันทร์ 5 ต.ในเมือง อ.เมือง จ.ขอนแก่น"
    assert mail.from_name == "วนิดา ศรีสุข"
    assert mail.from_address == "wanida.srisuk@example.com"
    assert mail.to == ("contact1129@pea-demo.example",)
    assert mail.text.startswith("เรียน เจ้าหน้าที่การไฟฟ้า")
    assert "วัดแรงดันที่ปลั๊กได้ประมาณ 185-190 โวลต์" in mail.text
    assert mail.message_id == "<Y3u8agCZhpufTWiuj2QuQU15xHnP@mail.example.com>"
    assert mail.date is not None
    assert mail.date.isoformat() == "2026-11-18T09:12:03+07:00"


def test_tis620_mail_decodes_to_correct_thai() -> None:
    mail = sample("tis620.eml")
    assert mail.subject == "ขอให้ตรวจสอบค่าไฟเดือนตุลาคม จดหน่วยผิด"
    assert mail.from_name == "บุญมี แสงทอง"
    assert "ผมได้รับใบแจ้งค่าไฟฟ้าประจำเดือนตุลาคม 2569 ยอด 2,746.52 บาท" in mail.text
    assert "จดหน่วยเกินจริงไปประมาณ 300 หน่วย" in mail.text
    assert "\ufffd" not in mail.text


def test_windows874_mail_keeps_curly_quotes_ellipsis_and_dash() -> None:
    mail = sample("windows874.eml")
    assert mail.subject == "“เติมน้ำมันไม่ครบ” ที่สถานีบริการ ถ.มิตรภาพ กม.12 – ขอให้ตรวจสอบ"
    assert mail.from_name == "สมศักดิ์ วงศ์ใหญ่"
    assert "“ตู้เพิ่งสอบเทียบมา ไม่มีปัญหา”" in mail.text
    assert "ไม่ถึงหนึ่งในสี่…" in mail.text
    assert "หัวจ่ายหมายเลข 4 – และ" in mail.text
    assert mail.to == ("contact1365@or-demo.example",)


def test_windows874_plain_part_is_preferred_over_its_html_alternative() -> None:
    text = sample("windows874.eml").text
    assert "<p" not in text
    assert "MsoNormal" not in text


def test_html_only_text_drops_hidden_preheader_and_keeps_hazard_words() -> None:
    text = sample("html_only.eml").text
    assert "แจ้งเหตุเสาไฟฟ้าล้ม ต.ท่าพระ" not in text  # the display:none preheader
    assert not text.startswith("แจ้งเหตุ\n")  # the <title>
    for hazard in ("เสาไฟฟ้าล้มขวางถนน", "สายไฟขาดพาดลงพื้นถนน", "ประกายไฟ"):
        assert hazard in text
    assert "(17 พ.ย. 2569) ประมาณ 23.00 น." in text  # &nbsp; became a space
    assert "\xa0" not in text
    assert "font-family" not in text
    assert "<" not in text


def test_html_only_table_rows_become_one_line_each() -> None:
    lines = sample("html_only.eml").text.splitlines()
    assert "พิกัด | 16.3912, 102.7954" in lines
    assert "ผู้แจ้ง | ธนพล มีสุข โทร 095-118-2244" in lines


def test_with_attachments_keeps_both_files_under_decoded_names_with_digests() -> None:
    mail = sample("with_attachments.eml")
    by_name = {a.name: a for a in mail.attachments}
    assert set(by_name) == {"bill_2026-10.pdf", "รูปมิเตอร์ชำรุด.jpg"}
    pdf, jpeg = by_name["bill_2026-10.pdf"], by_name["รูปมิเตอร์ชำรุด.jpg"]
    assert (pdf.content_type, jpeg.content_type) == ("application/pdf", "image/jpeg")
    assert pdf.data.startswith(b"%PDF")
    assert jpeg.data.startswith(b"\xff\xd8")
    for attachment in mail.attachments:
        assert attachment.sha256 == hashlib.sha256(attachment.data).hexdigest()
        assert attachment.size == len(attachment.data)
    assert "แนบรูปมิเตอร์และใบแจ้งค่าไฟฟ้าเดือนล่าสุดมาด้วยค่ะ" in mail.text


def test_reply_thread_2_threads_to_reply_thread_1() -> None:
    first, second = sample("reply_thread_1.eml"), sample("reply_thread_2.eml")
    assert first.message_id is not None
    assert second.in_reply_to == first.message_id
    assert first.message_id in second.references
    assert second.subject == "Re: " + first.subject


def test_reply_thread_2_text_holds_only_the_new_part() -> None:
    mail = sample("reply_thread_2.eml")
    assert "กิ่งต้นไม้ใหญ่ริมถนนพาดสายไฟอยู่ใกล้เสาหน้าโรงเรียน" in mail.text
    assert "เขียนว่า" not in mail.text
    assert ">" not in mail.text
    assert "ทำสวนทุเรียน" not in mail.text
    assert mail.quoted.startswith("เมื่อ อ. 17 พ.ย. 2569")
    assert "> ที่บ้านทำสวนทุเรียน" in mail.quoted


def test_auto_reply_is_kind_auto_reply_tagged_with_its_case() -> None:
    mail = sample("auto_reply.eml")
    assert mail.kind == "auto_reply"
    assert mail.kind_reason == "Auto-Submitted: auto-replied"
    assert mail.case_tag == "VOC-2026-000125"
    assert mail.in_reply_to == "<voc-2026-000125.ack.1@pea-demo.example>"


def test_display_name_split_across_encoded_words_has_no_stray_space() -> None:
    assert sample("auto_reply.eml").from_name == "กิตติพงษ์ อินทร์แก้ว"  # CPython gh-128110


def test_bounce_dsn_reports_5_1_1_and_the_original_ack_message_id() -> None:
    mail = sample("bounce_dsn.eml")
    assert mail.kind == "bounce"
    assert mail.bounce is not None
    assert mail.bounce.status == "5.1.1"
    assert mail.bounce.permanent
    assert mail.bounce.action == "failed"
    assert mail.bounce.recipient == "somchai.tongdee@example.com"
    assert mail.bounce.original_message_id == "<voc-2026-000124.ack.1@pea-demo.example>"
    assert mail.bounce.diagnostic is not None
    assert "User unknown" in mail.bounce.diagnostic
    assert mail.attachments == ()


def test_spam_like_is_bulk() -> None:
    mail = sample("spam_like.eml")
    assert mail.kind == "bulk"
    assert mail.reply_to == ("no-reply@mailer.solarsave.example",)


def test_oversize_message_is_refused_by_check_size_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    over = build_eml(19)
    assert len(over) == 27_263_917
    with pytest.raises(PayloadTooLarge) as refused:
        check_size(len(over), MAX_MAIL_BYTES)
    assert str(MAX_MAIL_BYTES) in refused.value.reason

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the oversize message reached the parser")

    monkeypatch.setattr(mail_parse, "BytesParser", no_parsing)
    with pytest.raises(PayloadTooLarge):
        parse_mail(over)


def test_message_just_under_the_limit_keeps_its_attachment() -> None:
    under = build_eml(17)
    assert len(under) == 24_394_129
    check_size(len(under), MAX_MAIL_BYTES)
    (video,) = parse_mail(under).attachments
    assert video.name == "หลักฐาน.mp4"
    assert video.size == 17 * 1024 * 1024


def test_size_limit_is_25_mib() -> None:
    assert MAX_MAIL_BYTES == 25 * 1024 * 1024


def test_registered_codecs_let_policy_default_read_windows_874() -> None:
    register_thai_codecs()
    register_thai_codecs()  # a second call must not register twice
    assert b"\x93\x85\x94".decode("windows-874") == "“…”"
    msg = email.message_from_bytes(raw("windows874.eml"), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    assert "ไม่ถึงหนึ่งในสี่…" in body.get_content()


@pytest.mark.parametrize("charset", [b"tis-620", b"TIS620", b"iso-8859-11", b"windows-874"])
def test_part_labelled_with_a_thai_charset_is_decoded_as_cp874(charset: bytes) -> None:
    # 0x93 0x94 0x96 0x85 are “ ” – … in cp874 and C1 controls in Python's tis_620.
    mail = (
        b"From: a@example.com\nSubject: =?" + charset + b"?b?k+S/tNG6lA==?=\n"
        b"MIME-Version: 1.0\nContent-Type: text/plain; charset=" + charset + b"\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + "“ไฟดับ” – …\n".encode("cp874")
    )
    part = email.message_from_bytes(mail, policy=MAIL_POLICY)
    assert isinstance(part, EmailMessage)
    assert part.get_content() == "“ไฟดับ” – …\n"
    parsed = parse_mail(mail)
    assert parsed.subject == "“ไฟดับ”"
    assert parsed.text == "“ไฟดับ” – …"


def test_unlabelled_8bit_thai_is_read_as_utf8_or_cp874() -> None:
    utf8 = "Subject: ไฟดับ\n\nไฟดับค่ะ\n".encode()
    cp874 = "Subject: ไฟดับ\n\nไฟดับค่ะ\n".encode("cp874")
    for mail in (utf8, cp874):
        parsed = parse_mail(mail)
        assert (parsed.subject, parsed.text) == ("ไฟดับ", "ไฟดับค่ะ")


@pytest.mark.parametrize(
    ("subject", "tag"),
    [
        ("Re: [VOC-2026-000123] ไฟดับ", "VOC-2026-000123"),
        ("ติดตามเรื่อง VOC-2026-000123 ค่ะ", "VOC-2026-000123"),
        ("เรื่องที่ voc-2026-000123", "VOC-2026-000123"),
        ("XVOC-2026-000123", None),
        ("VOC-2026-1234", None),
        ("ไฟดับ", None),
    ],
)
def test_case_tag_is_found_in_the_subject(subject: str, tag: str | None) -> None:
    assert find_case_tag(subject) == tag


def fax_mail(sender: str) -> bytes:
    """Build a fax-to-email mail with a cover note and a TIFF page."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "contact1129@pea-demo.example"
    msg["Subject"] = "Fax from 053491228"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("1 page received")
    msg.add_attachment(b"II*\x00fake", maintype="image", subtype="tiff", filename="fax.tif")
    return msg.as_bytes()


def test_fax_gateway_attachment_is_the_tiff_from_a_configured_gateway() -> None:
    parsed = parse_mail(fax_mail("Fax Gateway <FAX@gateway.pea-demo.example>"))
    page = fax_gateway_attachment(parsed, ["fax@gateway.pea-demo.example"])
    assert page is not None
    assert (page.name, page.content_type, page.data) == ("fax.tif", "image/tiff", b"II*\x00fake")


def test_fax_attachment_from_any_other_sender_is_not_a_fax() -> None:
    parsed = parse_mail(fax_mail("someone@example.com"))
    assert fax_gateway_attachment(parsed, ["fax@gateway.pea-demo.example"]) is None


@pytest.mark.parametrize(
    "history",
    [
        "On Tue, 17 Nov 2026 at 20:15, Suphaporn <suphaporn.k@example.org> wrote:\n> old",
        "On Tue, 17 Nov 2026 at 20:15, Suphaporn <\nsuphaporn.k@example.org> wrote:\n> old",
        "-----Original Message-----\nFrom: PEA 1129\nSent: Tuesday\nold",
        "________________________________\nจาก: PEA 1129\nส่ง: 17 พ.ย. 2569\nold",
    ],
)
def test_reply_headers_start_the_quoted_history(history: str) -> None:
    new, quoted = split_reply("new text\n\n" + history)
    assert new == "new text"
    assert quoted.endswith("old")


def test_text_written_below_a_quote_stays_new() -> None:
    new, quoted = split_reply("On Tue, X <x@example.org> wrote:\n> old question\n\nmy answer")
    assert new == "my answer"
    assert quoted == "On Tue, X <x@example.org> wrote:\n> old question"


def test_forward_with_nothing_new_keeps_the_forwarded_text() -> None:
    forwarded = "-----Original Message-----\nFrom: น้องสาว\nSent: Tuesday\nไฟดับทั้งซอยค่ะ"
    assert split_reply(forwarded) == (forwarded, "")


def test_letter_heading_with_from_and_date_is_not_taken_for_history() -> None:
    letter = "ข้อความใหม่\nจาก: นายสมชาย ใจดี\nวันที่: 17 พ.ย. 2569\nไฟดับบ่อย"
    assert split_reply(letter) == (letter, "")


def test_html_blockquote_history_is_quoted() -> None:
    mail = (
        "From: a@example.com\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
        '<div dir="ltr">ไฟยังดับอยู่ค่ะ</div><div class="gmail_quote">'
        "<div>On Tue, 17 Nov 2026 at 20:15 X &lt;x@example.org&gt; wrote:<br></div>"
        "<blockquote>ไฟดับบ่อยมาก<br>หมู่ 3</blockquote></div>"
    ).encode()
    parsed = parse_mail(mail)
    assert parsed.text == "ไฟยังดับอยู่ค่ะ"
    assert parsed.quoted.endswith("> ไฟดับบ่อยมาก\n> หมู่ 3")
