"""Every log line is masked: phones, national ids, emails, LINE user ids and cards never get out."""

from __future__ import annotations

import json
import logging

import pytest

from shared.logging import JsonFormatter, mask_pii

WRITTEN_FORMS = [
    # Thai phones in every written form
    "0812457730",
    "081-245-7730",
    "081 245 7730",
    "081.245.7730",
    "(081) 245-7730",
    "+66812457730",
    "+66 81 245 7730",
    "+66-81-245-7730",
    "66812457730",
    "02-123-4567",
    "(02) 123 4567",
    "044251873",
    "๐๘๑-๒๔๕-๗๗๓๐",
    "๐๘๑๒๔๕๗๗๓๐",
    # national ids
    "3301500123457",
    "3-3015-00123-45-7",
    "3 3015 00123 45 7",
    "3.3015.00123.45.7",
    "๓๓๐๑๕๐๐๑๒๓๔๕๗",
    "๓-๓๐๑๕-๐๐๑๒๓-๔๕-๗",
    # emails
    "somying@example.com",
    "first.last+tag@mail.example.co.th",
    # LINE user ids
    "U1baf63efed4f2e5260de17fca23e8fca",
    "U1BAF63EFED4F2E5260DE17FCA23E8FCA",
    # card numbers
    "4111111111111111",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "3782 822463 10005",
]


def _line(message: str, **extra: object) -> str:
    record = logging.makeLogRecord({"msg": message, "levelname": "INFO", "name": "t", **extra})
    return JsonFormatter("privacy").format(record)


@pytest.mark.parametrize("value", WRITTEN_FORMS)
def test_personal_data_in_a_log_message_is_masked(value: str) -> None:
    line = _line(f"customer called back from {value} about the bill")
    assert value not in line
    assert "[masked]" in line
    assert json.loads(line)["msg"].startswith("customer called back from [masked]")


@pytest.mark.parametrize("value", ["0812457730", "somying@example.com", "3301500123457"])
def test_personal_data_in_log_extras_is_masked(value: str) -> None:
    line = _line("contact screened", contact={"phone": value, "note": f"โทร{value}"})
    assert value not in line


@pytest.mark.parametrize(
    "kept",
    [
        "2026-11-18T08:02:11.123456+00:00",
        "hotline 1129",
        "bill 3,480 baht",
        "contract account 020011457823",
        "duration 411 s, port 5672",
        "case VOC-2026-000123",
        "contact 01JH5K2M9X4T7Q8R3Z6W1V0N2B",
    ],
)
def test_what_is_not_personal_data_stays_readable(kept: str) -> None:
    assert mask_pii(kept) == kept
