"""The committee PDF on a generated data set: rendered, its fonts embedded, its figures readable.

Every expected figure is recomputed here from the raw cases. poppler-utils
renders the pages (``pdftoppm``), lists the embedded fonts (``pdffonts``) and
extracts the text (``pdftotext``); the rendered pages are kept as artifacts.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from services.cli import main
from services.routing.cases.store import CASES
from services.routing.reports.labels import group_name
from services.routing.reports.pdf import to_pdf
from services.routing.reports.periods import DIMENSIONS, period_report
from shared.store import Store
from tests.integration.test_reports_periods import NOW, ORG, _generate, _in, cli_store
from tests.support.artifacts import artifact_dir

pytestmark = pytest.mark.integration

FIELDS = {
    "by_category": "category",
    "by_topic": "topic",
    "by_channel": "channel",
    "by_unit": "unit",
    "by_urgency": "urgency",
}


@pytest.fixture
async def generated(store: Store) -> list[dict[str, Any]]:
    cases = _generate(seed=1129)
    await store[CASES].insert_many([dict(c) for c in cases])
    return cases


def _group(case: dict[str, Any], dimension: str) -> str:
    if dimension == "by_area":
        return str(case["area"]["province"])
    return str(case[FIELDS[dimension]])


def _expected_rows(
    cases: list[dict[str, Any]], months: list[tuple[int, int]], dimension: str
) -> dict[str, tuple[int, int, int]]:
    """Per group: cases this period, the previous period and the same period last year."""
    periods = [[c for y, m in span for c in _in(cases, y, m)] for span in _spans(months)]
    counts = [Counter(_group(c, dimension) for c in period) for period in periods]
    groups = set().union(*counts)
    return {g: (counts[0][g], counts[1][g], counts[2][g]) for g in groups}


def _spans(months: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """The period's months, the previous period's and last year's (same length)."""
    n = len(months)
    first_year, first_month = months[0]
    index = first_year * 12 + first_month - 1
    previous = [((index - n + i) // 12, (index - n + i) % 12 + 1) for i in range(n)]
    last_year = [(y - 1, m) for y, m in months]
    return [months, previous, last_year]


def _poppler(tool: str, *args: str) -> str:
    done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def _render(pdf: bytes, name: str, tmp_path: Path) -> tuple[str, str, list[Path]]:
    """Write the PDF, render its pages to PNG artifacts; return its text, fonts and pages."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    out = artifact_dir("reports")
    for old in out.glob(f"{name}-*.png"):
        old.unlink()
    _poppler("pdftoppm", "-png", "-r", "60", str(path), str(out / name))
    (out / f"{name}.pdf").write_bytes(pdf)
    pages = sorted(out.glob(f"{name}-*.png"))
    return _poppler("pdftotext", "-layout", str(path), "-"), _poppler("pdffonts", str(path)), pages


def _ink(page: Path) -> float:
    """Return the share of the page's pixels that are not near-white."""
    image = Image.open(page).convert("L")
    histogram = image.histogram()
    return sum(histogram[:200]) / (image.width * image.height)


def _embedded(fonts: str, family: str) -> bool:
    """Tell whether ``pdffonts`` lists ``family`` as embedded (the ``emb`` column says yes)."""
    return any(
        line.split()[0].endswith(f"+{family}") and line.split()[-5] == "yes"
        for line in fonts.splitlines()[2:]
        if line.strip()
    )


def _rows_shown(text: str, rows: dict[str, tuple[int, int, int]]) -> list[str]:
    """Return the groups whose three counts are not on one line of the text, in order."""
    lines = text.splitlines()
    missing = []
    for group, (now, before, last) in rows.items():
        pattern = re.compile(rf"(?<![\d.,%]){now:,}\s+{before:,}\s+{last:,}\s*$")
        if not any(pattern.search(line) for line in lines):
            missing.append(group)
    return missing


async def test_thai_monthly_pdf_embeds_thai_font_dates_in_buddhist_era_and_shows_counts(
    store: Store,
    generated: list[dict[str, Any]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    report = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        pdf = to_pdf(report, "th", now=NOW)
    assert not [r for r in caplog.records if "missing" in r.getMessage()]  # no tofu boxes

    text, fonts, pages = _render(pdf, "monthly-2026-10-th", tmp_path)

    assert pdf.startswith(b"%PDF-")
    assert _embedded(fonts, "NotoSansThai"), fonts
    assert pages
    assert all(_ink(page) > 0.01 for page in pages)  # every page has something on it
    assert "ตุลาคม 2569" in text  # October 2026 in the Buddhist era
    assert "กันยายน 2569" in text  # the previous month
    assert "ตุลาคม 2568" in text  # the same month last year
    assert "15 พฤศจิกายน 2569" in text  # prepared and frozen on
    assert "2026" not in text
    october = _in(generated, 2026, 10)
    totals = (len(october), len(_in(generated, 2026, 9)), len(_in(generated, 2025, 10)))
    assert not _rows_shown(text, {"cases": totals})
    for dimension in DIMENSIONS:
        rows = _expected_rows(generated, [(2026, 10)], dimension)
        assert not _rows_shown(text, rows), dimension
    for issue in report["recurring"]:
        assert f"{issue['district']}" in text
    scores = [c["closure"]["score"] for c in october if c["closure"] and c["closure"]["score"]]
    resolved = sum(1 for c in october if c["resolution"])
    assert f"{len(scores) / resolved * 100:.1f}%" in text  # the response rate


async def test_english_pdf_dates_in_gregorian_with_taxonomy_names(
    store: Store, generated: list[dict[str, Any]], tmp_path: Path
) -> None:
    report = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)

    text, fonts, pages = _render(to_pdf(report, "en", now=NOW), "monthly-2026-10-en", tmp_path)

    assert _embedded(fonts, "NotoSans"), fonts
    assert all(_ink(page) > 0.01 for page in pages)
    assert "Monthly complaints report October 2026" in text
    assert "September 2026" in text
    assert "2569" not in text
    rows = _expected_rows(generated, [(2026, 10)], "by_topic")
    for topic, (now, before, last) in rows.items():
        label = group_name("by_topic", topic, "en", ORG)
        assert re.search(rf"^{re.escape(label)}\s+{now}\s+{before}\s+{last}\s*$", text, re.M), topic


async def test_quarterly_pdf_names_the_quarter_and_counts_its_three_months(
    store: Store, generated: list[dict[str, Any]], tmp_path: Path
) -> None:
    report = await period_report(store, org=ORG, kind="quarterly", year=2026, number=4, now=NOW)

    text, fonts, pages = _render(to_pdf(report, "th", now=NOW), "quarterly-2026-Q4-th", tmp_path)

    assert _embedded(fonts, "NotoSansThai")
    assert "ไตรมาสที่ 4/2569" in text
    assert "ไตรมาสที่ 3/2569" in text  # the previous quarter
    assert "ตัวเลขอาจเปลี่ยนได้" in text  # the quarter has not ended on 15 November
    quarter = [(2026, 10), (2026, 11), (2026, 12)]
    rows = _expected_rows(generated, quarter, "by_channel")
    assert not _rows_shown(text, rows)
    assert pages


def test_report_command_writes_the_pdf_thai_by_default_english_on_request(
    mongo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = cli_store(mongo_url, tmp_path, monkeypatch, seed=2569)
    args = ["report", "monthly", "--month", "2026-10", "--org", "pea", "--format", "pdf"]
    thai, english = tmp_path / "th.pdf", tmp_path / "en.pdf"

    assert main([*args, "--out", str(thai)]) == 0
    assert main([*args, "--lang", "en", "--out", str(english)]) == 0

    count = len(_in(cases, 2026, 10))
    thai_text = _poppler("pdftotext", "-layout", str(thai), "-")
    english_text = _poppler("pdftotext", "-layout", str(english), "-")
    assert "ตุลาคม 2569" in thai_text
    assert "October 2026" in english_text
    assert re.search(rf"^Cases\s+{count}\s", english_text, re.M)
    with pytest.raises(SystemExit) as refused:
        main([*args, "--lang", "fr"])
    assert refused.value.code == 2  # argparse refuses a language it does not know


def test_period_names_and_dates() -> None:
    from services.routing.reports.labels import date_name, period_name

    assert period_name("2026-10", "th") == "ตุลาคม 2569"
    assert period_name("2026-10", "en") == "October 2026"
    assert period_name("2027-01", "th") == "มกราคม 2570"
    assert period_name("2026-Q1", "en").startswith("Q1 2026 (January - March 2026)")
    assert period_name("2026-Q4", "th").startswith("ไตรมาสที่ 4/2569 (ตุลาคม - ธันวาคม 2569)")
    # 31 December 17:30 UTC is already New Year's Day in Bangkok.
    late = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert date_name(late, "th") == "1 มกราคม 2570"
    assert date_name(late, "en") == "1 January 2027"
