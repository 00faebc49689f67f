"""A LINE outage shows in the console as one banner while notify's circuit is open, gone after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.cluster import Cluster, running_cluster
from tests.support.line import FakeLine, running_line_api, send_text

pytestmark = pytest.mark.e2e

LINE_SECRET = "line-secret-banner"
ADMIN_PASSWORD = "Banner-Khon-Kaen-5821-zq"


@pytest.fixture(scope="module")
def line_api() -> Iterator[FakeLine]:
    with running_line_api(up=False) as line:  # down until the test brings it back
        yield line


@pytest.fixture(scope="module")
def desk(
    mongo_url: str, line_api: FakeLine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    env = {
        "VOCDESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "VOCDESK_LINE_CHANNEL_SECRET": LINE_SECRET,
        "VOCDESK_LINE_CHANNEL_TOKEN": "line-token-banner",
        "VOCDESK_LINE_API_BASE": line_api.url,
        "VOCDESK_NOTIFY_BREAKER_FAILURES": "1",
        "VOCDESK_NOTIFY_BREAKER_OPEN_S": "1",
        "VOCDESK_NOTIFY_BREAKER_OPEN_MAX_S": "2",
        "VOCDESK_NOTIFY_RETRY_MIN_S": "0.5",
        "VOCDESK_NOTIFY_RETRY_BASE_S": "0.5",
    }
    with running_cluster(mongo_url, Path(tmp_path_factory.mktemp("banner")), **env) as running:
        yield running


def line_message(desk: Cluster) -> None:
    send_text(desk.url("intake"), LINE_SECRET, "ไฟดับทั้งซอย")


def test_line_outage_is_one_banner_while_open_and_gone_when_closed(
    desk: Cluster, line_api: FakeLine
) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(desk.url("console") + "/")
        page.get_by_label("ชื่อผู้ใช้ / Username").fill("admin")
        page.get_by_label("รหัสผ่าน / Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="เข้าสู่ระบบ").click()
        banner = page.locator("#provider-banner")
        expect(banner).to_be_hidden(timeout=30_000)

        for _ in range(3):  # several customers' messages fail: still one banner
            line_message(desk)
        expect(banner).to_be_visible(timeout=90_000)
        expect(banner).to_contain_text("line")
        line_message(desk)  # more failures while open change nothing on the page
        page.wait_for_timeout(6_000)  # one more poll of the status
        assert banner.inner_text().count("line") == 1

        line_api.up = True
        expect(banner).to_be_hidden(timeout=90_000)
        browser.close()
    assert line_api.requests >= 2  # refused while down, accepted once back
