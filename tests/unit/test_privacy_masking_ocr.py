"""Masking a number OCR misread: its letter stand-ins for digits are masked like the digits."""

from __future__ import annotations

import pytest

from services.privacy.masking import mask


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("โทร O8l-234-5567 ด่วน", "โทร O8x-xxx-5567 ด่วน"),
        ("ติดต่อ 08l 234 5567", "ติดต่อ 08x xxx 5567"),
    ],
)
def test_letters_read_for_digits_do_not_stay_visible(text: str, masked: str) -> None:
    assert mask(text) == masked


def test_words_beside_a_number_keep_their_letters() -> None:
    assert mask("ไฟดับที่ Lotus โทร 081-234-5567").startswith("ไฟดับที่ Lotus")
