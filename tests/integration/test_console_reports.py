"""The console's report downloads and page on the whole app, in front of routing.

The figures come from routing over its internal API; the console renders the
CSV, XLSX and committee PDF itself and serves the managers' page.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.routing.cases.store import CASES
from tests.integration.test_reports_periods import _generate, _in
from tests.support.console import ConsoleUnderTest, running_console

pytestmark = pytest.mark.integration

OCTOBER = "/api/v1/reports/monthly/2026/10"


@pytest.fixture(scope="module")
async def console(
    mongo_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ConsoleUnderTest]:
    async with running_console(mongo_url, tmp_path_factory.mktemp("console-reports")) as running:
        yield running


@pytest.fixture(scope="module")
async def generated(console: ConsoleUnderTest) -> list[dict[str, Any]]:
    cases = _generate(seed=1129)
    await console.desk.runtimes["routing"].store[CASES].insert_many([dict(c) for c in cases])
    return cases


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


async def test_manager_downloads_the_thai_pdf_by_default_and_english_on_request(
    console: ConsoleUnderTest, generated: list[dict[str, Any]], tmp_path: Path
) -> None:
    count = len(_in(generated, 2026, 10))
    thai = await console.client.get(
        OCTOBER, params={"format": "pdf"}, headers=console.headers("manager")
    )
    assert thai.status_code == 200, thai.text
    assert thai.headers["content-type"] == "application/pdf"
    assert 'filename="vocdesk-pea-2026-10-th.pdf"' in thai.headers["content-disposition"]
    text = _text(thai.content, tmp_path)
    assert "ตุลาคม 2569" in text
    assert re.search(rf"(?m)\b{count}\s+{len(_in(generated, 2026, 9))}\s", text)

    english = await console.client.get(
        OCTOBER, params={"format": "pdf", "lang": "en"}, headers=console.headers("supervisor")
    )
    assert english.status_code == 200
    assert re.search(rf"(?m)^Cases\s+{count}\s", _text(english.content, tmp_path))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "pdf", "lang": "fr"}, "lang"),
        ({"org": "or"}, "org"),
        ({"format": "doc"}, "format"),
    ],
)
async def test_bad_requests_get_a_clear_refusal(
    console: ConsoleUnderTest, params: dict[str, str], field: str
) -> None:
    answer = await console.client.get(OCTOBER, params=params, headers=console.headers("manager"))
    assert answer.status_code in {400, 422}
    assert field in answer.text


async def test_agents_get_no_report_file(console: ConsoleUnderTest) -> None:
    answer = await console.client.get(
        OCTOBER, params={"format": "pdf"}, headers=console.headers("agent")
    )
    assert answer.status_code == 403


async def test_report_page_is_served_with_its_organisation_and_a_strict_policy(
    console: ConsoleUnderTest,
) -> None:
    page = await console.client.get("/reports")
    assert page.status_code == 200
    assert '<meta name="vocdesk-org" content="pea">' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy
    assert "unsafe-inline" not in policy


async def test_report_page_fonts_are_the_shipped_thai_fonts_only(console: ConsoleUnderTest) -> None:
    font = await console.client.get("/reports/fonts/NotoSansThai-Regular.ttf")
    assert font.status_code == 200
    assert font.headers["content-type"] == "font/ttf"
    assert font.content[:4] == b"\x00\x01\x00\x00"  # a TrueType font
    other = await console.client.get("/reports/fonts/OFL.txt")
    assert other.status_code == 404
