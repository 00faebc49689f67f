"""The managers' report page in a real headless Chromium, on a data set of known answers.

The generated cases go straight into the running routing's store; the page
must show the counts recomputed here from the raw cases, draw its bars and
hand over the committee PDF. A screenshot and the PDF are kept as artifacts.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pymongo import MongoClient

from services.routing.cases.store import CASES
from shared.ids import new_id
from tests.e2e.test_console_browser import _log_in
from tests.integration.test_reports_periods import _generate, _in
from tests.support.artifacts import artifact_dir
from tests.support.cluster import Cluster

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def generated(cluster: Cluster) -> list[dict[str, Any]]:
    """The known-answer cases in the running routing's own database."""
    cases = _generate(seed=1129)

    # Playwright's sync API runs an event loop here already: the plain client, then.
    client: MongoClient[dict[str, Any]] = MongoClient(cluster.env["VOCDESK_MONGO_URL"])
    try:
        prefix = cluster.env["VOCDESK_MONGO_DB_PREFIX"]
        client[f"{prefix}_routing"][CASES].insert_many([dict(c) for c in cases])
    finally:
        client.close()
    return cases


def _cells(page: Page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(f"{selector} td").all_inner_texts()]


def test_manager_reads_the_month_sees_bars_and_downloads_the_pdf(
    cluster: Cluster, browser: Browser, generated: list[dict[str, Any]]
) -> None:
    manager = f"mgr{new_id()[-6:].lower()}"
    cluster.create_user(manager, "manager-password-1", "manager")
    october, september = _in(generated, 2026, 10), _in(generated, 2026, 9)
    last_year = _in(generated, 2025, 10)
    page = browser.new_page(accept_downloads=True, viewport={"width": 1200, "height": 900})
    _log_in(page, cluster, manager, "manager-password-1")
    expect(page.locator("#who")).to_contain_text(manager)

    page.goto(cluster.url("console") + "/reports")
    expect(page.get_by_label("organisation")).to_have_value("pea")
    page.get_by_label("month", exact=True).fill("2026-10")
    page.get_by_role("button", name="แสดง / Show").click()

    summary = '#summary tr[data-group="cases"]'
    expect(page.locator(summary)).to_be_visible()
    assert _cells(page, summary)[1:] == [str(len(c)) for c in (october, september, last_year)]
    topics = [Counter(c["topic"] for c in period) for period in (october, september, last_year)]
    for topic in topics[0]:
        row = _cells(page, f'#dim-by_topic tr[data-group="{topic}"]')
        assert row == [topic, *(str(counts[topic]) for counts in topics)]
    bars = page.locator("#chart-by_topic svg rect.bar")
    assert bars.count() == 3 * len(set(topics[0]) | set(topics[1]) | set(topics[2]))
    shown = {
        bar.get_attribute("data-label"): int(bar.get_attribute("data-value") or 0)
        for bar in bars.all()
        if bar.get_attribute("data-series", timeout=1000) == "งวดนี้ / This period"
    }
    assert shown == dict(topics[0])
    widths = [float(bar.get_attribute("width") or 0) for bar in bars.all()]
    assert max(widths) > 100  # the largest group's bar spans most of the chart

    out = artifact_dir("reports")
    page.screenshot(path=str(out / "report-page-2026-10.png"), full_page=True)
    page.get_by_label("PDF language").select_option("th")
    with page.expect_download() as info:
        page.get_by_role("button", name="PDF", exact=True).click()
    download = info.value
    assert download.suggested_filename == "vocdesk-pea-2026-10-th.pdf"
    saved = out / "report-page-download-2026-10-th.pdf"
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", str(saved), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "ตุลาคม 2569" in text
    assert str(len(october)) in text
    page.close()


def test_an_agent_is_told_the_reports_are_for_managers(cluster: Cluster, browser: Browser) -> None:
    agent = f"agt{new_id()[-6:].lower()}"
    cluster.create_user(agent, "agent-password-1", "agent")
    page = browser.new_page()
    _log_in(page, cluster, agent, "agent-password-1")
    expect(page.locator("#who")).to_contain_text(agent)
    page.goto(cluster.url("console") + "/reports")
    expect(page.locator("#error")).to_contain_text("managers")
    expect(page.locator("#controls")).to_be_hidden()
    page.close()
