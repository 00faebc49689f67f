"""The console in a real headless Chromium: log in, see cases, watch a new one arrive live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from shared.ids import new_id
from tests.support.app_client import find_case, post_app_contact
from tests.support.cluster import ADMIN_PASSWORD, Cluster

pytestmark = pytest.mark.e2e


def _contact(marker: str) -> dict[str, object]:
    return {
        "app_user_id": f"u-{marker}",
        "text": f"ไฟดับทั้งหมู่บ้าน {marker}",
        "locale": "th-TH",
        "consent_to_disclose": False,
        "customer": {"name": "ทดสอบ เบราว์เซอร์", "phone": "0899990000"},
    }


def _log_in(
    page: Page, cluster: Cluster, username: str = "admin", password: str = ADMIN_PASSWORD
) -> None:
    page.goto(cluster.url("console") + "/")
    page.get_by_label("ชื่อผู้ใช้ / Username").fill(username)
    page.get_by_label("รหัสผ่าน / Password").fill(password)
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
    expect(page.locator("#live")).to_have_attribute("data-state", "on")

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


def test_manager_finds_the_reports_from_the_console(cluster: Cluster, browser: Browser) -> None:
    manager = f"mgr{new_id()[-6:].lower()}"
    cluster.create_user(manager, "manager-password-1", "manager")
    page = browser.new_page()
    _log_in(page, cluster, manager, "manager-password-1")
    page.get_by_role("link", name="รายงาน").click()
    expect(page).to_have_url(cluster.url("console") + "/reports")
    expect(page.get_by_label("organisation")).to_have_value("pea")
    page.close()


def test_agent_opens_a_case_sees_the_customer_replies_and_resolves_it(
    cluster: Cluster, browser: Browser
) -> None:
    marker = f"W{new_id()[-10:]}"
    assert post_app_contact(cluster, _contact(marker)).status_code == 202
    case = find_case(cluster, cluster.admin_token(), marker)
    agent = f"agent{new_id()[-6:].lower()}"
    cluster.create_user(agent, "agent-password-1", "agent")
    page = browser.new_page()
    _log_in(page, cluster, agent, "agent-password-1")
    page.locator("#rows tr", has_text=str(case["number"])).click()
    expect(page.locator("#d-title")).to_contain_text(str(case["number"]))
    expect(page.locator("#conversation")).to_contain_text(marker)
    page.get_by_label("reply", exact=True).fill("เจ้าหน้าที่กำลังเดินทางไปตรวจสอบค่ะ")
    page.get_by_role("button", name="ส่งข้อความ / Send reply").click()
    expect(page.locator("#d-result")).to_contain_text("done")
    expect(page.locator(".msg.agent")).to_contain_text("เจ้าหน้าที่กำลังเดินทางไปตรวจสอบค่ะ")
    page.locator("#resolve-box summary").click()
    page.get_by_label("resolution summary").fill("เปลี่ยนฟิวส์แรงสูงแล้ว ไฟกลับมาใช้ได้ตามปกติ")
    page.locator("#d-resolve").click()
    expect(page.locator("#d-status")).to_have_text("แก้ไขแล้ว")
    expect(page.locator("#conversation")).to_contain_text("เปลี่ยนฟิวส์แรงสูงแล้ว")
    page.close()
