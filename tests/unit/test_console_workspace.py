"""The workspace's pure rules: what a search box holds, canned placeholders, attachment sniffing."""

from __future__ import annotations

import pytest

from services.console.attachments import safe_name, sniff
from services.console.workspace import check_placeholders, search_terms
from shared.errors import Invalid


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("081-234-5678", {"phone": "081-234-5678"}),
        ("+66 81 234 5678", {"phone": "+66 81 234 5678"}),
        ("somchai@example.co.th", {"email": "somchai@example.co.th"}),
        ("1-1020-30405-06-1", {"national_id": "1102030405061"}),
        ("สมชาย ใจดี", {"name": "สมชาย ใจดี"}),
        ("1129", {"name": "1129"}),  # too short to be a phone
    ],
)
def test_a_search_box_becomes_privacys_search_fields(typed: str, expected: dict[str, str]) -> None:
    assert search_terms(typed) == expected


def test_canned_text_names_known_placeholders_only() -> None:
    check_placeholders("เรียน {customer} เรื่อง {case_number} โทร {hotline}")
    with pytest.raises(Invalid, match=r"\{phone\}"):
        check_placeholders("โทรกลับที่ {phone}")


@pytest.mark.parametrize(
    ("head", "media"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"II*\x00\x08\x00", "image/tiff"),
    ],
)
def test_files_are_known_by_their_first_bytes(head: bytes, media: str) -> None:
    assert sniff(head)[0] == media


@pytest.mark.parametrize("head", [b"MZ\x90\x00", b"<html><script>", b"PK\x03\x04", b""])
def test_other_files_are_refused_whatever_they_are_called(head: bytes) -> None:
    with pytest.raises(Invalid):
        sniff(head)


def test_download_names_lose_paths_and_take_the_true_extension() -> None:
    assert safe_name("../../etc/passwd.pdf", "png") == "passwd.png"
    assert safe_name('a"b;c.png', "png") == "a_b_c.png"
    assert safe_name(None, "pdf") == "file.pdf"
