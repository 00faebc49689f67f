"""The console in a real headless Chromium: log in, see cases, watch a new one arrive live."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from shared.ids import new_id
from tests.support.app_client import find_case, post_app_contact
from tests.support.cluster import ADMIN_PASSWORD, Cluster

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags that keep Chromium from reaching out to the network it does not have.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _contact(marker: str) -> dict[str, object]:
    return {
        "app_user_id": f"u-{marker}",
        "text": f"ไฟดับทั้งหมู่บ้าน {marker}",
        "locale": "th-TH",
        "consent_to_disclose": False,
        "customer": {"name": "ทดสอบ เบราว์เซอร์", "phone": "0899990000"},
    }


def _log_in(page: Page, cluster: Cluster) -> None:
    page.goto(cluster.url("console") + "/")
    page.get_by_label("ชื่อผู้ใช้ / Username").fill("admin")
    page.get_by_label("รหัสผ่าน / Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()


def test_agent_logs_in_and_sees_cases_and_a_new_case_arrives_live(
    cluster: Cluster, browser: Browser
) -> None:
    first = f"B{new_id()[-10:]}"
    assert post_app_contact(cluster, _contact(first)).status_code == 202
    case = find_case(cluster, cluster.admin_token(), first)

    page = browser.new_page()
    _log_in(page, cluster)
    expect(page.locator("#who")).to_contain_text("admin")
    expect(page.locator("#rows")).to_contain_text(str(case["number"]))
    expect(page.locator("#live")).to_contain_text("live")

    second = f"B{new_id()[-10:]}"
    assert post_app_contact(cluster, _contact(second)).status_code == 202
    expect(page.locator("#rows")).to_contain_text(second, timeout=20_000)
    page.close()


def test_wrong_password_shows_an_error_and_no_cases(cluster: Cluster, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(cluster.url("console") + "/")
    page.get_by_label("ชื่อผู้ใช้ / Username").fill("admin")
    page.get_by_label("รหัสผ่าน / Password").fill("wrong-password")
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(page.locator("#error")).to_contain_text("Login failed")
    expect(page.locator("#cases")).to_be_hidden()
    page.close()


def test_manager_sees_the_months_statistics(cluster: Cluster, browser: Browser) -> None:
    marker = f"S{new_id()[-10:]}"
    assert post_app_contact(cluster, _contact(marker)).status_code == 202
    find_case(cluster, cluster.admin_token(), marker)
    page = browser.new_page()
    _log_in(page, cluster)
    expect(page.locator("#report")).to_be_visible()
    page.get_by_role("button", name="แสดง").click()
    expect(page.locator("#r-rows")).to_contain_text("เรื่องทั้งหมด / cases")
    expect(page.locator("#r-rows")).to_contain_text("app")
    page.close()
