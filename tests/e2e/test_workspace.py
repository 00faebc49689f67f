"""The agent workspace in headless Chromium, on the five services as processes.

Each flow saves screenshots under the ``workspace`` artifacts folder.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from shared.clock import BANGKOK
from shared.ids import new_id
from tests.support.acting import acting_headers
from tests.support.app_client import find_case, post_app_contact
from tests.support.artifacts import artifact_dir
from tests.support.cluster import Cluster

pytestmark = pytest.mark.e2e

SHOTS = artifact_dir("workspace")
PASSWORD = "workspace-password-1"
PHONE_PREFIX = "0867"


def _contact(marker: str, phone: str, *, name: str = "ทดสอบ พื้นที่ทำงาน") -> dict[str, object]:
    return {
        "app_user_id": f"u-{marker}",
        "text": f"ไฟดับทั้งซอย มีกลิ่นไหม้ที่หม้อแปลง {marker}",
        "locale": "th-TH",
        "consent_to_disclose": True,
        "customer": {"name": name, "phone": phone},
    }


def _user(cluster: Cluster, prefix: str, role: str, unit: str | None = None) -> str:
    name = f"{prefix}{new_id()[-6:].lower()}"
    cluster.create_user(name, PASSWORD, role, unit)
    return name


def _log_in(page: Page, cluster: Cluster, username: str, path: str = "/") -> None:
    page.goto(cluster.url("console") + path)
    page.get_by_label("ชื่อผู้ใช้ / Username").fill(username)
    page.get_by_label("รหัสผ่าน / Password").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(page.locator("#who")).to_contain_text(username)


def _new_case(cluster: Cluster, **kwargs: str) -> tuple[dict[str, object], str, str]:
    marker = f"K{new_id()[-10:]}"
    phone = PHONE_PREFIX + str(int(new_id()[-6:], 36) % 1_000_000).zfill(6)
    assert post_app_contact(cluster, _contact(marker, phone, **kwargs)).status_code == 202
    return find_case(cluster, cluster.admin_token(), marker), marker, phone


def _fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


_tokens: dict[str, str] = {}


def _call(cluster: Cluster, user: str, method: str, path: str, **kwargs: Any) -> Any:
    """Call the console's API as ``user`` (as the page would) and return the answer's JSON."""
    if user not in _tokens:
        _tokens[user] = cluster.admin_token() if user == "admin" else cluster.token(user, PASSWORD)
    answer = httpx.request(
        method,
        cluster.url("console") + "/api/v1" + path,
        headers={"Authorization": f"Bearer {_tokens[user]}"},
        timeout=20,
        **kwargs,
    )
    assert answer.is_success, answer.text
    return answer.json() if answer.content else None


def _case(cluster: Cluster, case_id: str) -> dict[str, Any]:
    """Return the case as the server holds it now."""
    return dict(_call(cluster, "admin", "GET", f"/cases/{case_id}"))


def _until(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    """Return ``check()`` once it is truthy (the services work asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1366, "height": 768})
    yield opened
    opened.close()


def test_queue_views_counts_search_keyboard_and_small_screens(
    cluster: Cluster, page: Page, browser: Browser
) -> None:
    case, marker, phone = _new_case(cluster)
    named, _, _ = _new_case(cluster, name=f"คุณวิมลรัตน์ ทองดี{marker.lower()}")
    agent = _user(cluster, "q", "agent")
    _log_in(page, cluster, agent)
    expect(page.locator("#live")).to_have_attribute("data-state", "on")
    all_view = page.locator(".views button[data-view=all]")
    expect(all_view.locator(".count")).not_to_have_text("")
    assert int(all_view.locator(".count").inner_text()) >= 1
    expect(page.locator("#rows")).to_contain_text(str(case["number"]))
    expect(page.locator("#page-info")).to_contain_text("หน้า 1")
    # The new case is unread, urgent-looking cases carry their SLA countdown.
    row = page.locator("#rows tr", has_text=str(case["number"]))
    expect(row.locator(".dot")).to_be_visible()
    expect(row.locator(".badge[data-sla]")).to_be_visible()
    page.screenshot(path=str(SHOTS / "queue-1366.png"), full_page=True)

    # Search by the customer's phone goes through privacy's blind index.
    page.keyboard.press("/")
    expect(page.locator("#f-q")).to_be_focused()
    page.locator("#f-q").fill(phone)
    page.locator("#f-by").select_option("customer")
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    expect(page.locator("#rows tr")).to_have_count(1)
    expect(page.locator("#rows")).to_contain_text(str(case["number"]))
    # And by name, as the customer gave it, without the title.
    page.locator("#f-q").fill(f"วิมลรัตน์  ทองดี{marker.lower()}")
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    expect(page.locator("#rows tr")).to_have_count(1)
    expect(page.locator("#rows")).to_contain_text(str(named["number"]))
    page.locator("#f-q").fill(phone)
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    expect(page.locator("#rows")).to_contain_text(str(case["number"]))

    # j/k and Enter open the case on its own URL; Escape goes back to the list.
    page.locator("#f-q").blur()
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/cases/{case['id']}$"))
    expect(page.locator("#conversation")).to_contain_text(marker)
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#rows tr", has_text=str(case["number"])).locator(".dot")).to_have_count(0)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_contain_text("j / k")
    page.keyboard.press("Escape")

    # Mine is empty for a new agent; the view and its count say so.
    page.locator(".views button[data-view=mine]").click()
    expect(page.locator("#empty")).to_be_visible()

    small = browser.new_page(viewport={"width": 390, "height": 844})
    _log_in(small, cluster, agent)
    small.locator(".views button[data-view=all]").click()
    expect(small.locator("#rows")).to_contain_text(str(case["number"]))
    assert _fits(small), "the queue scrolls sideways at 390 px"
    small.screenshot(path=str(SHOTS / "queue-390.png"), full_page=True)
    small.close()


def test_case_page_conversation_composer_assign_and_resolve(
    cluster: Cluster, page: Page, browser: Browser
) -> None:
    case, marker, _ = _new_case(cluster)
    agent = _user(cluster, "c", "agent")
    colleague = _user(cluster, "m", "agent")
    _log_in(page, cluster, agent)
    page.goto(cluster.url("console") + f"/cases/{case['id']}")
    expect(page.locator("#d-title")).to_contain_text(str(case["number"]))
    expect(page.locator("#conversation")).to_contain_text(marker)
    expect(page.locator("#customer")).to_contain_text("ยินยอม")
    expect(page.locator("#identity")).not_to_contain_text("ทดสอบ พื้นที่ทำงาน")
    page.locator("#customer summary").click()
    page.locator("#reveal-reason").fill("โทรกลับแจ้งผลการซ่อม")
    page.locator("#customer form button").click()
    expect(page.locator("#identity")).to_contain_text("ทดสอบ พื้นที่ทำงาน")

    # A colleague with the case open shows as a collision on both pages.
    other = browser.new_page(viewport={"width": 1366, "height": 768})
    _log_in(other, cluster, colleague, f"/cases/{case['id']}")
    expect(page.locator("#collision")).to_contain_text(colleague)
    expect(other.locator("#collision")).to_contain_text(agent)

    # A canned response fills the case number in.
    page.locator("#canned").select_option(index=1)
    expect(page.locator("#composer-text")).to_have_value(re.compile(str(case["number"])))
    page.locator("#composer-text").fill(f"ช่างกำลังเดินทางไปค่ะ {marker}-reply")
    page.get_by_role("button", name="ส่งข้อความ / Send reply").click()
    expect(page.locator("#d-result")).to_contain_text("done")
    expect(page.locator(".msg.agent")).to_contain_text(f"{marker}-reply")

    # An internal note with a mention reaches the colleague live.
    page.locator("#tab-note").click()
    page.locator("#composer-text").fill(f"@{colleague} ช่วยโทรยืนยันด้วย {marker}-note")
    page.get_by_role("button", name="บันทึก / Add note").click()
    expect(page.locator(".msg.note")).to_contain_text(f"{marker}-note")
    expect(page.locator(".msg.note .mention")).to_have_text(f"@{colleague}")
    expect(other.locator("#toasts")).to_contain_text(agent, timeout=10_000)
    # The colleague's open view refreshed by itself with the note.
    expect(other.locator(".msg.note")).to_contain_text(f"{marker}-note", timeout=10_000)

    page.get_by_role("button", name="รับเป็นของฉัน").click()
    expect(page.locator("#d-assignee")).to_contain_text(agent)
    page.screenshot(path=str(SHOTS / "case-1366.png"), full_page=True)

    page.locator("#resolve-box summary").click()
    page.get_by_label("resolution summary").fill(f"เปลี่ยนฟิวส์แรงสูงแล้ว {marker}-done")
    page.locator("#d-resolve").click()
    expect(page.locator("#d-status")).to_have_text("แก้ไขแล้ว")
    expect(page.locator("#conversation")).to_contain_text(f"{marker}-done")
    other.close()

    small = browser.new_page(viewport={"width": 390, "height": 844})
    _log_in(small, cluster, agent, f"/cases/{case['id']}")
    expect(small.locator("#conversation")).to_contain_text(marker)
    assert _fits(small), "the case page scrolls sideways at 390 px"
    small.screenshot(path=str(SHOTS / "case-390.png"), full_page=True)
    small.close()


def test_an_expired_session_keeps_the_draft_and_sends_after_logging_in(
    cluster: Cluster, page: Page
) -> None:
    case, marker, _ = _new_case(cluster)
    agent = _user(cluster, "d", "agent")
    _log_in(page, cluster, agent, f"/cases/{case['id']}")
    expect(page.locator("#conversation")).to_contain_text(marker)
    page.locator("#composer-text").fill(f"ข้อความที่พิมพ์ค้างไว้ {marker}-draft")
    page.reload()
    expect(page.locator("#composer-text")).to_have_value(re.compile(f"{marker}-draft"))

    # The token stops working (as when it expires): the page asks to log in again.
    page.evaluate("sessionStorage.setItem('vocdesk.token', 'expired.token.value')")
    page.reload()
    expect(page.locator("#login")).to_be_visible()
    page.get_by_label("ชื่อผู้ใช้ / Username").fill(agent)
    page.get_by_label("รหัสผ่าน / Password").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(page.locator("#composer-text")).to_have_value(re.compile(f"{marker}-draft"))
    page.get_by_role("button", name="ส่งข้อความ / Send reply").click()
    expect(page.locator(".msg.agent")).to_contain_text(f"{marker}-draft")
    page.reload()
    expect(page.locator("#composer-text")).to_have_value("")


def test_session_expiry_mid_work_asks_to_log_in_over_the_page(cluster: Cluster, page: Page) -> None:
    case, marker, _ = _new_case(cluster)
    agent = _user(cluster, "e", "agent")
    _log_in(page, cluster, agent, f"/cases/{case['id']}")
    expect(page.locator("#conversation")).to_contain_text(marker)
    page.locator("#composer-text").fill(f"ตอบหลังหมดเวลา {marker}-late")
    # The token stops working while the agent types (as when it expires).
    page.evaluate("sessionStorage.setItem('vocdesk.token', 'expired.token.value')")
    page.get_by_role("button", name="ส่งข้อความ / Send reply").click()
    overlay = page.locator("#relogin")
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text("ข้อความที่พิมพ์ไว้ยังอยู่")
    overlay.get_by_label("ชื่อผู้ใช้ / Username").fill(agent)
    overlay.get_by_label("รหัสผ่าน / Password").fill(PASSWORD)
    overlay.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(page.locator(".msg.agent")).to_contain_text(f"{marker}-late")


def test_language_switch_logout_and_skip_link(cluster: Cluster, page: Page) -> None:
    agent = _user(cluster, "l", "agent")
    _log_in(page, cluster, agent)
    page.locator("#lang").click()
    expect(page.locator(".views button[data-view=mine]")).to_contain_text("Mine")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#lang").click()
    expect(page.locator(".views button[data-view=mine]")).to_contain_text("ของฉัน")
    # The first Tab on a page reaches the skip link, which moves focus to the content.
    page.reload()
    expect(page.locator("#who")).to_contain_text(agent)
    page.keyboard.press("Tab")
    expect(page.locator("#skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    page.locator("#logout").click()
    expect(page.locator("#login")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('vocdesk.token')") is None


def test_supervisor_sees_load_and_reassigns(cluster: Cluster, page: Page) -> None:
    case, _, _ = _new_case(cluster)
    supervisor = _user(cluster, "s", "supervisor")
    _log_in(page, cluster, supervisor, "/supervisor")
    unit_row = page.locator(f"#sup-units tr[data-unit='{case['unit']}']")
    expect(unit_row).to_be_visible()
    assert int(unit_row.locator("td").nth(1).inner_text()) >= 1
    page.screenshot(path=str(SHOTS / "supervisor.png"), full_page=True)
    token = cluster.token(supervisor, PASSWORD)
    members = httpx.get(
        cluster.url("console") + "/api/v1/units",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    member = next(u for u in members if u["id"] == case["unit"])["members"][0]["user"]
    page.goto(cluster.url("console") + f"/cases/{case['id']}")
    page.locator("#actions summary", has_text="มอบหมาย").click()
    page.locator("#assign-user").select_option(member)
    page.locator("#actions form button", has_text="มอบหมาย").first.click()
    expect(page.locator("#d-assignee")).to_contain_text(member)


def test_admin_creates_a_user_and_a_canned_response(cluster: Cluster, page: Page) -> None:
    admin = _user(cluster, "a", "admin")
    _log_in(page, cluster, admin, "/admin/users")
    newcomer = f"n{new_id()[-6:].lower()}"
    page.locator("#new-username").fill(newcomer)
    page.locator("#new-password").fill("newcomer-password-1")
    page.locator("#new-role").select_option("agent")
    page.locator("#user-form button[type=submit]").click()
    expect(page.locator(f"#users tr[data-user='{newcomer}']")).to_be_visible()
    page.locator(f"#users tr[data-user='{newcomer}'] button", has_text="ระงับ").click()
    expect(page.locator(f"#users tr[data-user='{newcomer}']")).to_contain_text("✗")

    page.goto(cluster.url("console") + "/admin/canned")
    page.locator("#canned-key").fill("bad")
    page.locator("#canned-title").fill("ผิด")
    page.locator("#canned-text").fill("เรียน {nobody}")
    page.locator("#canned-form button[type=submit]").click()
    expect(page.locator("#admin-result")).to_contain_text("nobody")
    key = f"k{new_id()[-6:].lower()}"
    page.locator("#canned-key").fill(key)
    page.locator("#canned-title").fill(f"ทดสอบ {key}")
    page.locator("#canned-text").fill("เรื่อง {case_number} โทร {hotline}")
    page.locator("#canned-form button[type=submit]").click()
    expect(page.locator(f"#canned-list tr[data-key='{key}']")).to_be_visible()
    page.screenshot(path=str(SHOTS / "admin-canned.png"), full_page=True)

    case, _, _ = _new_case(cluster)
    page.goto(cluster.url("console") + f"/cases/{case['id']}")
    page.locator("#canned").select_option(label=f"ทดสอบ {key}")
    expect(page.locator("#composer-text")).to_have_value(f"เรื่อง {case['number']} โทร 1129")


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def test_an_agent_attaches_a_photo_and_a_disguised_file_is_refused(
    cluster: Cluster, page: Page
) -> None:
    case, marker, _ = _new_case(cluster)
    agent = _user(cluster, "f", "agent")
    _log_in(page, cluster, agent, f"/cases/{case['id']}")
    expect(page.locator("#conversation")).to_contain_text(marker)
    page.locator("#attach").set_input_files(
        files=[{"name": "../../meter photo.png", "mimeType": "image/png", "buffer": PNG}]
    )
    expect(page.locator("#d-result")).to_contain_text("แนบไฟล์แล้ว")
    item = page.locator("#attachments li")
    expect(item).to_contain_text("meter photo.png")
    expect(page.locator(".msg.note")).to_contain_text("📎 PNG")
    with page.expect_download() as info:
        item.locator("button").click()
    assert info.value.suggested_filename == "meter photo.png"
    assert info.value.path().read_bytes() == PNG

    page.locator("#attach").set_input_files(
        files=[{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00exe"}]
    )
    expect(page.locator("#d-result")).to_contain_text("PDF, PNG")
    expect(page.locator("#attachments li")).to_have_count(1)

    # Over the cap: refused before the body is read, nothing stored.
    token = cluster.token(agent, PASSWORD)
    big = httpx.post(
        cluster.url("console") + f"/api/v1/cases/{case['id']}/attachments",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("big.pdf", b"%PDF-" + b"0" * (12 * 1024 * 1024), "application/pdf")},
        timeout=30,
    )
    assert big.status_code == 413
    assert "MB" in big.json()["reason"]


def test_admin_changes_holidays_and_members_and_reads_the_change_log(
    cluster: Cluster, page: Page
) -> None:
    admin = _user(cluster, "r", "admin")
    _log_in(page, cluster, admin, "/admin/calendars")
    office = page.locator("[data-calendar='pea-office']")
    office.locator("input[type=date]").fill("2027-11-19")
    office.locator("input:not([type=date])").fill("วันหยุดพิเศษตามมติ ครม.")
    office.locator("button[type=submit]").click()
    expect(page.locator("#admin-result")).to_contain_text("done")
    expect(office.locator("li")).to_contain_text("2027-11-19")
    page.screenshot(path=str(SHOTS / "admin-calendars.png"), full_page=True)
    # A 24x7 calendar offers no holiday form at all.
    expect(page.locator("[data-calendar='pea-24x7'] form")).to_have_count(0)

    page.goto(cluster.url("console") + "/admin/units")
    billing = page.locator("form[data-unit='pea-billing']")
    billing.locator("textarea").fill(f"billing.orawan\nbilling.new{admin[-4:]}:5")
    billing.locator("button[type=submit]").click()
    expect(page.locator("#admin-result")).to_contain_text("done")
    expect(page.locator("form[data-unit='pea-billing'] h2")).to_contain_text("✎")
    page.locator("form[data-unit='pea-billing'] textarea").fill("not a user!")
    page.locator("form[data-unit='pea-billing'] button[type=submit]").click()
    expect(page.locator("#admin-result")).to_contain_text("ไม่สำเร็จ")

    page.goto(cluster.url("console") + "/admin/changes")
    log = page.locator("#changes")
    expect(log).to_contain_text("pea-office")
    expect(log).to_contain_text("pea-billing")
    expect(log).to_contain_text(admin)

    page.goto(cluster.url("console") + "/admin/calendars")
    office.locator("li button").click()
    expect(office.locator("li")).to_have_count(0)

    page.goto(cluster.url("console") + "/admin/units")
    page.locator("form[data-unit='pea-billing'] button", has_text="กลับไปใช้").click()
    expect(page.locator("form[data-unit='pea-billing'] h2")).not_to_contain_text("✎")


def test_filters_narrow_the_queue_and_a_duplicate_is_merged(cluster: Cluster, page: Page) -> None:
    first, marker, _ = _new_case(cluster)
    duplicate, _, _ = _new_case(cluster)
    agent = _user(cluster, "g", "agent")
    _log_in(page, cluster, agent)
    page.locator("#f-topic").fill(str(first["topic"]))
    page.locator("#f-urgency").select_option(str(first["urgency"]))
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    expect(page.locator("#rows")).to_contain_text(str(first["number"]))
    other = page.locator("#rows tr td:nth-child(6)", has_not_text=str(first["topic"]))
    expect(other).to_have_count(0)
    page.locator("#f-topic").fill("no-such-topic")
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    expect(page.locator("#empty")).to_be_visible()

    page.goto(cluster.url("console") + f"/cases/{duplicate['id']}")
    page.locator("#actions summary", has_text="รวมเรื่องซ้ำ").click()
    # A number that is no case is refused on the page; nothing moves.
    page.locator("#merge-into").fill("VOC-2099-999999")
    page.locator("#merge-reason").fill("ลูกค้ารายเดียวกัน แจ้งเรื่องเดิมซ้ำ")
    page.locator("#actions form button", has_text="รวมเรื่องซ้ำ").click()
    expect(page.locator("#d-result")).to_contain_text("ไม่สำเร็จ")
    expect(page).to_have_url(re.compile(rf"/cases/{duplicate['id']}$"))
    assert _case(cluster, duplicate["id"])["merged_into"] is None
    page.locator("#merge-into").fill(str(first["number"]))
    page.locator("#actions form button", has_text="รวมเรื่องซ้ำ").click()
    expect(page).to_have_url(re.compile(rf"/cases/{first['id']}$"))
    expect(page.locator("#conversation")).to_contain_text(marker)
    expect(page.locator(".msg.system[data-type='case.merged']")).to_be_visible()
    held = _case(cluster, first["id"])
    assert held["merged_cases"] == [duplicate["id"]]
    assert duplicate["id"] in held["related_cases"]
    gone = _case(cluster, duplicate["id"])
    assert (gone["status"], gone["merged_into"]) == ("closed", first["id"])
    page.goto(cluster.url("console") + f"/cases/{duplicate['id']}")
    expect(page.locator("#d-status")).to_have_text("ปิดแล้ว")


def test_request_info_resolve_and_reopen_from_the_case_page(cluster: Cluster, page: Page) -> None:
    case, marker, _ = _new_case(cluster)
    agent = _user(cluster, "i", "agent")
    _log_in(page, cluster, agent, f"/cases/{case['id']}")
    expect(page.locator("#conversation")).to_contain_text(marker)
    page.locator("#actions summary", has_text="ขอข้อมูลเพิ่มเติม").click()
    page.locator("#info-question").fill(f"ขอหมายเลขผู้ใช้ไฟฟ้า (CA) ด้วยค่ะ {marker}-q")
    page.locator("#actions form button", has_text="ขอข้อมูลเพิ่มเติม").click()
    expect(page.locator("#d-status")).to_have_text("รอข้อมูลลูกค้า")
    expect(page.locator(".msg.agent")).to_contain_text(f"{marker}-q")
    page.locator("#resolve-box summary").click()
    page.get_by_label("resolution summary").fill("ตรวจสอบแล้ว ไฟกลับมาใช้ได้")
    page.locator("#d-resolve").click()
    expect(page.locator("#d-status")).to_have_text("แก้ไขแล้ว")
    page.locator("#actions summary", has_text="เปิดเรื่องอีกครั้ง").click()
    page.locator("#reopen-reason").fill("ลูกค้าแจ้งว่าไฟยังดับอยู่")
    page.locator("#actions form button", has_text="เปิดเรื่องอีกครั้ง").click()
    expect(page.locator("#d-status")).not_to_have_text("แก้ไขแล้ว")
    expect(page.locator(".msg.system[data-type='case.reopened']")).to_be_visible()


def test_a_wrongly_threaded_contact_is_split_into_a_case_of_its_own(
    cluster: Cluster, page: Page
) -> None:
    case, marker, phone = _new_case(cluster)
    # The same customer writes again about something else: threading joins it to the open case.
    later = {**_contact(marker, phone), "text": f"ขอสอบถามค่าไฟเดือนนี้ แพงผิดปกติ {marker}-bill"}
    assert post_app_contact(cluster, later).status_code == 202
    joined = _until(
        lambda: (held := _case(cluster, case["id"]))["contacts"][1:] and held,
        "the second contact joined the case",
    )
    moved = joined["contacts"][1]["id"]
    agent = _user(cluster, "p", "agent")
    _log_in(page, cluster, agent, f"/cases/{case['id']}")
    wrong = page.locator(".msg.customer", has_text=f"{marker}-bill")
    expect(wrong).to_be_visible()
    expect(page.locator(".msg.customer")).to_have_count(2)
    wrong.locator("summary", has_text="แยกเป็นเรื่องใหม่").click()
    wrong.get_by_label("เหตุผลที่แยก").fill("ลูกค้าถามเรื่องค่าไฟ คนละเรื่องกับไฟดับ")
    wrong.get_by_role("button", name="แยกเป็นเรื่องใหม่").click()

    # The page moves to the new case, which holds only that contact.
    expect(page).not_to_have_url(re.compile(rf"/cases/{case['id']}$"))
    expect(page.locator(".msg.customer")).to_have_count(1)
    expect(page.locator(".msg.customer")).to_contain_text(f"{marker}-bill")
    split_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#d-title")).not_to_contain_text(str(case["number"]))
    # Same customer: the original is listed as a previous case, a link away.
    previous = page.locator("#customer li", has_text=str(case["number"]))
    expect(previous).to_be_visible()
    page.screenshot(path=str(SHOTS / "case-split.png"), full_page=True)
    previous.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case['id']}$"))
    expect(page.locator(".msg.customer")).to_have_count(1)
    expect(page.locator("#conversation")).not_to_contain_text(f"{marker}-bill")
    expect(page.locator(".msg.system[data-type='case.split']")).to_be_visible()
    # One contact left: nothing more to split off.
    expect(page.locator(".msg.customer summary")).to_have_count(0)

    source, split = _case(cluster, case["id"]), _case(cluster, split_id)
    assert [c["id"] for c in source["contacts"]] == [joined["contacts"][0]["id"]]
    assert [c["id"] for c in split["contacts"]] == [moved]
    assert (split["split_from"], split["subject_ref"]) == (case["id"], case["subject_ref"])
    assert [e["detail"]["target"] for e in source["timeline"] if e["type"] == "case.split"] == [
        split_id
    ]
    page.locator("#back").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#rows")).to_contain_text(str(split["number"]))


STATUS_EN = {"routed": "Routed", "acknowledged": "Acknowledged", "in_progress": "In progress"}


def test_acknowledge_transfer_mention_and_the_conversation_in_bangkok_time(
    cluster: Cluster, page: Page
) -> None:
    case, marker, _ = _new_case(cluster)
    agent = _user(cluster, "t", "agent")
    colleague = _user(cluster, "tm", "agent")
    _log_in(page, cluster, agent, f"/cases/{case['id']}")
    # Times are Bangkok's, on the Thai calendar; events carry Thai labels.
    received = datetime.fromisoformat(str(case["contacts"][0]["received_at"])).astimezone(BANGKOK)
    meta = page.locator(".msg.customer .meta")
    expect(meta).to_contain_text(received.strftime("%H:%M"))
    expect(meta).to_contain_text(str(received.year + 543))
    expect(page.locator(".msg.system[data-type='case.opened']")).to_contain_text("เปิดเรื่อง")
    expect(page.locator(".msg.system[data-type='case.routed']")).to_contain_text(str(case["unit"]))
    expect(page.locator("#d-status")).to_have_text("ส่งต่อแล้ว")

    page.locator("#d-ack").click()
    expect(page.locator("#d-status")).to_have_text("รับเรื่องแล้ว")
    expect(page.locator("#d-ack")).to_have_count(0)
    expect(page.locator(".msg.system[data-type='case.acknowledged']")).to_contain_text(agent)
    assert _case(cluster, case["id"])["status"] == "acknowledged"

    page.locator("#actions summary", has_text="โอนไปหน่วยงาน").click()
    page.locator("#transfer-unit").select_option("pea-billing")
    page.locator("#transfer-reason").fill(f"ลูกค้าแจ้งว่าเป็นเรื่องค่าไฟ {marker}-moved")
    page.locator("#actions form button", has_text="โอนไปหน่วยงาน").click()
    expect(page.locator(".case-head")).to_contain_text("กองบริหารรายได้")
    expect(page.locator(".msg.system[data-type='case.transferred']")).to_contain_text(
        f"{marker}-moved"
    )
    held = _case(cluster, case["id"])
    assert held["unit"] == "pea-billing"

    # Typing @ and the start of a name offers the colleague; picking them writes the name.
    page.locator("#tab-note").click()
    page.locator("#composer-text").fill(f"@{colleague[:-2]}")
    page.locator(".suggest button", has_text=colleague).click()
    expect(page.locator("#composer-text")).to_have_value(f"@{colleague} ")
    page.locator("#composer-text").press("End")
    page.keyboard.type(f"โอนให้แล้ว {marker}-fyi")
    page.get_by_role("button", name="บันทึก / Add note").click()
    expect(page.locator(".msg.note .mention")).to_have_text(f"@{colleague}")
    notes = [e for e in _case(cluster, case["id"])["timeline"] if e["type"] == "case.note_added"]
    assert [f"{marker}-fyi" in n["detail"]["text"] for n in notes] == [True]
    page.screenshot(path=str(SHOTS / "case-transferred.png"), full_page=True)

    # In English the same page reads in English, still in Bangkok time.
    page.locator("#lang").click()
    expect(page.locator("#d-status")).to_have_text(STATUS_EN[held["status"]])
    expect(page.locator(".msg.system[data-type='case.transferred']")).to_contain_text("Transferred")
    expect(meta).to_contain_text(received.strftime("%H:%M"))
    expect(meta).to_contain_text(str(received.year))
    expect(meta).not_to_contain_text(str(received.year + 543))


def _edit_policy(form: Locator, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the policy's JSON in its form, as an admin types it, and save."""
    text = form.locator("textarea")
    policy = json.loads(text.input_value())
    change(policy)
    text.fill(json.dumps(policy, ensure_ascii=False, indent=2))
    form.locator("button[type=submit]").click()


def _policy_in_force(cluster: Cluster, policy_id: str) -> dict[str, Any]:
    policies = _call(cluster, "admin", "GET", "/admin/routing/sla-policies")
    return dict(next(p for p in policies["policies"] if p["id"] == policy_id))


def test_a_tightened_sla_policy_turns_badges_amber_and_red_and_the_supervisor_reassigns(
    cluster: Cluster, page: Page, browser: Browser
) -> None:
    admin = _user(cluster, "y", "admin")
    _log_in(page, cluster, admin, "/admin/sla")
    form = page.locator("form[data-policy='hazard']")
    try:
        _edit_policy(form, lambda p: p["targets"].update(resolution=0))
        expect(page.locator("#admin-result")).to_contain_text("must be positive")
        assert _policy_in_force(cluster, "hazard")["targets"]["resolution"] > 0
        # A warning step a few seconds in: the next case will be at risk almost at once.
        _edit_policy(
            form,
            lambda p: p.update(
                targets={"first_response": 7200, "unit_ack": 7200, "resolution": 3600},
                escalation=[[0.001, "supervisor", "resolution"]],
            ),
        )
        expect(form.locator("h2")).to_contain_text("✎")
        _until(
            lambda: _policy_in_force(cluster, "hazard")["targets"]["resolution"] == 3600,
            "the warning policy is in force",
        )
        warned, _, _ = _new_case(cluster)
        # Then a resolution time of seconds: the case after that breaches at once.
        _edit_policy(form, lambda p: p.update(targets={"resolution": 3}, escalation=[]))
        _until(
            lambda: _policy_in_force(cluster, "hazard")["targets"] == {"resolution": 3},
            "the breaching policy is in force",
        )
        late, _, _ = _new_case(cluster)
        page.screenshot(path=str(SHOTS / "admin-sla.png"), full_page=True)
        form.locator("button", has_text="กลับไปใช้").click()
        expect(form.locator("h2")).not_to_contain_text("✎")
    finally:
        _call(cluster, "admin", "DELETE", "/admin/routing/sla-policies/hazard")
    assert (
        "hazard" not in _call(cluster, "admin", "GET", "/admin/routing/sla-policies")["overridden"]
    )
    assert (warned["sla"]["policy"], late["sla"]["policy"]) == ("hazard", "hazard")

    agent = _user(cluster, "z", "agent")
    queue = browser.new_page(viewport={"width": 1366, "height": 768})
    _log_in(queue, cluster, agent)
    queue.locator(".views button[data-view=at_risk]").click()
    amber = queue.locator("#rows tr", has_text=str(warned["number"])).locator(".badge[data-sla]")
    expect(amber).to_have_attribute("data-sla", "amber", timeout=20_000)
    queue.locator(".views button[data-view=breached]").click()
    red = queue.locator("#rows tr", has_text=str(late["number"])).locator(".badge[data-sla]")
    expect(red).to_have_attribute("data-sla", "red", timeout=20_000)
    expect(red).to_contain_text("เกิน")
    counts = _call(cluster, agent, "GET", "/cases/counts")
    for view in ("at_risk", "breached"):
        expect(queue.locator(f".views button[data-view={view}] .count")).to_have_text(
            str(counts[view])
        )
    queue.screenshot(path=str(SHOTS / "queue-breached.png"), full_page=True)
    # The case pages tell what the SLA did, in Thai.
    queue.goto(cluster.url("console") + f"/cases/{warned['id']}")
    (step,) = [e for e in _case(cluster, warned["id"])["timeline"] if e["type"] == "case.escalated"]
    expect(queue.locator(".msg.system[data-type='case.escalated']")).to_contain_text(
        f"ยกระดับ · sla · → {step['detail']['to']['user']} · แจ้งหัวหน้างาน · แก้ไขเสร็จ 0.1%"
    )
    queue.goto(cluster.url("console") + f"/cases/{late['id']}")
    expect(queue.locator(".msg.system[data-type='case.sla.breached']")).to_contain_text("เกิน SLA")
    expect(queue.locator(".msg.system[data-type='case.sla.breached']")).to_contain_text("แก้ไขเสร็จ")
    queue.close()

    supervisor = _user(cluster, "sv", "supervisor")
    page.locator("#logout").click()
    _log_in(page, cluster, supervisor, "/supervisor")
    at_risk = page.locator(f"#sup-at-risk tr[data-case-id='{warned['id']}']")
    expect(at_risk).to_contain_text("แจ้งหัวหน้างาน · แก้ไขเสร็จ 0.1%")
    expect(at_risk.locator(".badge[data-sla]")).to_have_attribute("data-sla", "amber")
    breached = page.locator(f"#sup-breached tr[data-case-id='{late['id']}']")
    expect(breached.locator(".badge[data-sla]")).to_have_attribute("data-sla", "red")
    # Load per unit and per member is what the server counts.
    overview = _call(cluster, supervisor, "GET", "/supervisor/overview")
    load = next(u for u in overview["units"] if u["unit"] == late["unit"])
    unit_row = page.locator(f"#sup-units tr[data-unit='{load['unit']}']")
    cells = [str(load[k]) for k in ("open", "unassigned", "at_risk", "breached")]
    expect(unit_row.locator("td").nth(1)).to_have_text(cells[0])
    expect(unit_row.locator("td").nth(3)).to_have_text(cells[2])
    expect(unit_row.locator("td").nth(4)).to_have_text(cells[3])
    for member in load["members"]:
        expect(unit_row).to_contain_text(f"{member['user']}: {member['open']}")
    page.screenshot(path=str(SHOTS / "supervisor-sla.png"), full_page=True)

    # The supervisor gives the breached case to another member of its unit.
    before = _case(cluster, late["id"])["assignee"]
    # Neither the assignee nor the select's first option (what a redrawn select that
    # forgot would show), read from the page itself.
    select = breached.get_by_label(f"มอบหมายใหม่ {late['number']}")
    options = select.locator("option").evaluate_all("os => os.map((o) => o.value)")
    chosen = next(m for m in options[1:] if m != before)
    select.select_option(chosen)
    # A case arriving meanwhile redraws the table; the member picked stays picked.
    breached.evaluate("row => { row.dataset.drawn = 'before'; }")
    _new_case(cluster)
    redrawn = page.locator(f"#sup-breached tr[data-case-id='{late['id']}']:not([data-drawn])")
    expect(redrawn).to_have_count(1)
    expect(redrawn.get_by_label(f"มอบหมายใหม่ {late['number']}")).to_have_value(chosen)
    redrawn.get_by_role("button", name="มอบหมายใหม่").click()
    # The assignee cell, not the member list of the select, shows the new member.
    row = page.locator(f"#sup-breached tr[data-case-id='{late['id']}']")
    expect(row.locator("td").nth(3)).to_have_text(chosen)
    assert _case(cluster, late["id"])["assignee"] == chosen


def test_a_closure_taken_for_the_customer_waits_for_a_supervisor_to_certify(
    cluster: Cluster, page: Page
) -> None:
    case, marker, _ = _new_case(cluster)
    agent = _user(cluster, "w", "agent")
    supervisor = _user(cluster, "v", "supervisor")
    # The agent resolved the case and took the customer's thanks over the phone.
    resolved = {"summary": f"เปลี่ยนหม้อแปลงแล้ว {marker}-fixed"}
    _call(cluster, agent, "POST", f"/cases/{case['id']}/resolve", json=resolved)
    thanks = {"channel": "phone", "note": "ลูกค้ารับทราบผลทางโทรศัพท์"}
    _call(cluster, agent, "POST", f"/cases/{case['id']}/acknowledge-on-behalf", json=thanks)

    _log_in(page, cluster, supervisor, "/supervisor")
    waiting = page.locator("#sup-closures li", has_text=str(case["number"]))
    expect(waiting).to_be_visible()
    page.screenshot(path=str(SHOTS / "supervisor-closures.png"), full_page=True)
    waiting.get_by_role("button", name="รับรองการปิดเรื่อง").click()
    expect(page.locator("#sup-closures li", has_text=str(case["number"]))).to_have_count(0)
    held = _case(cluster, case["id"])
    assert held["status"] == "closed"
    assert (held["closure"]["recorded_by"], held["closure"]["certified_by"]) == (agent, supervisor)
    assert held["pending_closure"] is None

    page.goto(cluster.url("console") + f"/cases/{case['id']}")
    expect(page.locator("#d-status")).to_have_text("ปิดแล้ว")
    expect(page.locator(".msg.system[data-type='case.closed']")).to_contain_text(supervisor)
    expect(page.locator("#certify")).to_have_count(0)


def _privacy_audit(cluster: Cluster, **params: str) -> list[dict[str, Any]]:
    """Return privacy's audit entries, read as the data protection officer."""
    secrets = json.loads((Path(cluster.env["VOCDESK_DATA_DIR"]) / "secrets.json").read_text())
    headers = acting_headers(
        audience="privacy",
        token=secrets["service_token"],
        role="dpo",
        user="dpo-e2e",
        acting_key=secrets["acting_key"],
    )
    answer = httpx.get(
        cluster.url("privacy") + "/internal/v1/audit", params=params, headers=headers, timeout=10
    )
    assert answer.is_success, answer.text
    return list(answer.json()["items"])


def _numbers(page: Page) -> list[str]:
    return page.locator("#rows tr .num").all_inner_texts()


def test_queue_pages_sorts_filters_and_finds_cases_by_number_text_and_customer(
    cluster: Cluster, page: Page
) -> None:
    marker = f"Q{new_id()[-10:]}"
    phones = [f"0869{int(new_id()[-5:], 36) % 10_000:04d}{i:02d}" for i in range(26)]
    for i, phone in enumerate(phones):
        assert post_app_contact(cluster, _contact(f"{marker}-{i:02d}", phone)).status_code == 202
    walk_in = {
        "branch_code": "B0101",
        "counter_no": 2,
        "queue_no": f"Q{marker[-8:]}",
        "queued_at": datetime.now(BANGKOK).isoformat(),
        "staff_id": "S1001",
        "consent_to_disclose": True,
        "text": f"ไฟดับทั้งซอย มีกลิ่นไหม้ที่หม้อแปลง แจ้งที่สำนักงาน {marker}-counter",
    }
    _call(cluster, "admin", "POST", "/contacts/walk-in", json=walk_in)
    ours = _until(
        lambda: (
            (got := _call(cluster, "admin", "GET", "/cases", params={"q": marker, "per_page": 50}))[
                "total"
            ]
            == 27
            and got["items"]
        ),
        "27 cases opened",
        timeout=60,
    )
    by_number = sorted(str(c["number"]) for c in ours)
    newest = max(ours, key=lambda c: (c["created_at"], c["number"]))
    counter = next(c for c in ours if c["channel"] == "walk_in")
    home = str(next(c for c in ours if c["channel"] == "app")["unit"])
    agent = _user(cluster, "h", "agent", home)
    _log_in(page, cluster, agent)

    # 27 cases of the marker: 25 a page, in the order asked for.
    page.locator("#f-q").fill(marker)
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    page.locator("#f-sort").select_option("number")
    expect(page.locator("#page-info")).to_have_text("หน้า 1 จาก 2 · 27 เรื่อง")
    expect(page.locator("#rows tr .num")).to_have_text(by_number[:25])
    expect(page.locator("#prev")).to_be_disabled()
    page.locator("#next").click()
    # Later pages follow the list's cursor; their total may be an estimate.
    expect(page.locator("#page-info")).to_contain_text("หน้า 2")
    expect(page.locator("#rows tr .num")).to_have_text(by_number[25:])
    expect(page.locator("#next")).to_be_disabled()
    # Another order starts again at its first page.
    page.locator("#f-sort").select_option("-created_at")
    expect(page.locator("#page-info")).to_have_text("หน้า 1 จาก 2 · 27 เรื่อง")
    expect(page.locator("#rows tr .num").first).to_have_text(str(newest["number"]))

    # Channel: the counter visit is the one walk-in, with its icon; the rest came by app.
    page.locator("#f-channel").select_option("walk_in")
    expect(page.locator("#rows tr .num")).to_have_text([str(counter["number"])])
    expect(page.locator("#rows tr .chan")).to_have_attribute("title", "ติดต่อที่สำนักงาน")
    expect(page.locator("#rows tr .chan")).to_have_text("🏢")
    page.locator("#f-channel").select_option("app")
    expect(page.locator("#page-info")).to_contain_text("26 เรื่อง")
    expect(page.locator("#rows tr .chan[title='แอป']")).to_have_count(25)
    page.locator("#f-channel").select_option("")

    # Status and assignee, after colleagues acted on two of them.
    acked, taken = [c for c in ours if c["id"] != counter["id"]][:2]
    _call(cluster, agent, "POST", f"/cases/{acked['id']}/acknowledge")
    _call(cluster, agent, "POST", f"/cases/{taken['id']}/assign", json={"user": agent})
    page.locator("#f-status").select_option("acknowledged")
    expect(page.locator("#rows tr .num")).to_have_text([str(acked["number"])])
    page.locator("#f-status").select_option("")
    mine = [
        str(c["number"])
        for c in (_case(cluster, acked["id"]), _case(cluster, taken["id"]))
        if c["assignee"] == agent
    ]
    assert str(taken["number"]) in mine
    page.locator("#f-assignee").fill(agent)
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    expect(page.locator("#rows tr .num")).to_have_count(len(mine))
    assert sorted(_numbers(page)) == sorted(mine)
    page.locator("#f-assignee").fill("")
    page.get_by_role("button", name="ค้นหา", exact=True).click()

    # Unit: only the unit's cases, and as many as the server holds there.
    unit = str(counter["unit"])
    page.locator("#f-unit").select_option(unit)
    expect(page.locator("#rows tr .num")).to_have_count(
        min(25, sum(1 for c in ours if c["unit"] == unit))
    )
    unit_name = next(u["name"] for u in _call(cluster, agent, "GET", "/units") if u["id"] == unit)
    expect(page.locator("#rows tr td:nth-child(7)", has_not_text=unit_name)).to_have_count(0)
    page.locator("#f-unit").select_option("")

    # My unit, Mine and Unassigned, with the counts the server gives.
    # Moved to a unit whose members pick cases themselves, the case waits unassigned.
    moved = {"unit": "pea-region-north", "reason": "พื้นที่ภาคเหนือ"}
    _call(cluster, "admin", "POST", f"/cases/{acked['id']}/transfer", json=moved)
    counts = _call(cluster, agent, "GET", "/cases/counts")
    page.locator(".views button[data-view=unit]").click()
    home_name = next(u["name"] for u in _call(cluster, agent, "GET", "/units") if u["id"] == home)
    expect(page.locator(".views button[data-view=unit] .count")).to_have_text(str(counts["unit"]))
    at_home = [c for c in ours if c["unit"] == home and c["id"] != acked["id"]]
    expect(page.locator("#rows tr")).to_have_count(min(25, len(at_home)))
    expect(page.locator("#rows tr td:nth-child(7)", has_not_text=home_name)).to_have_count(0)
    page.locator(".views button[data-view=mine]").click()
    expect(page.locator("#rows")).to_contain_text(str(taken["number"]))
    expect(page.locator(".views button[data-view=mine] .count")).to_have_text(str(counts["mine"]))
    page.locator(".views button[data-view=unassigned]").click()
    expect(page.locator("#rows tr .num")).to_have_text([str(acked["number"])])
    expect(page.locator(".views button[data-view=unassigned] .count")).to_have_text(
        str(counts["unassigned"])
    )
    page.screenshot(path=str(SHOTS / "queue-unassigned.png"), full_page=True)
    page.locator(".views button[data-view=all]").click()

    # A number finds its case; a customer's phone finds theirs, and privacy audits the search.
    page.locator("#f-q").fill(str(taken["number"]))
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    expect(page.locator("#rows tr .num")).to_have_text([str(taken["number"])])
    page.locator("#f-q").fill(f"{marker}-counter")
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    expect(page.locator("#rows tr .num")).to_have_text([str(counter["number"])])
    (fifth,) = [c for c in ours if f"{marker}-05" in str(c["contacts"][0]["text"])]
    page.locator("#f-by").select_option("customer")
    page.locator("#f-q").fill(phones[5])
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    expect(page.locator("#rows tr .num")).to_have_text([str(fifth["number"])])
    lookups = _privacy_audit(cluster, subject_ref=str(fifth["subject_ref"]), action="lookup")
    assert [(e["actor"], e["purpose"]) for e in lookups] == [(agent, "handle_case")]


# Records what the page sends and gets on its live socket; while ``__offline`` is set, new sockets
# carry a ticket the console refuses, as when the network or the console is away.
SOCKET_SPY = """
(() => {
  const Real = window.WebSocket;
  window.__sent = [];
  window.__received = [];
  window.__sockets = [];
  window.__offline = false;
  window.WebSocket = class extends Real {
    constructor(url, protocols) {
      const refused = String(url).replace(/ticket=[^&]*/, "ticket=refused");
      super(window.__offline ? refused : url, protocols);
      window.__sockets.push(this);
      this.addEventListener("message", (e) => window.__received.push(String(e.data)));
    }
    send(data) { window.__sent.push(String(data)); super.send(data); }
  };
})();
"""


def test_a_page_back_from_a_lost_connection_gets_what_it_missed(
    cluster: Cluster, page: Page, browser: Browser
) -> None:
    case, marker, _ = _new_case(cluster)
    agent = _user(cluster, "o", "agent")
    colleague = _user(cluster, "oc", "agent")
    page.add_init_script(SOCKET_SPY)
    _log_in(page, cluster, agent, f"/cases/{case['id']}")
    expect(page.locator("#live")).to_have_attribute("data-state", "on")
    note = {"text": f"รับเรื่องต่อแล้ว {marker}-seen", "mentions": []}
    _call(cluster, colleague, "POST", f"/cases/{case['id']}/notes", json=note)
    expect(page.locator(".msg.note")).to_contain_text(f"{marker}-seen")

    # The connection drops; the last event the page saw is where it will resume.
    seen = page.evaluate(
        "() => { window.__offline = true; window.__sockets.at(-1).close();"
        " return Number(sessionStorage.getItem('vocdesk.cursor')); }"
    )
    assert seen > 0
    expect(page.locator("#live")).to_have_attribute("data-state", "off")
    expect(page.locator("#live")).to_contain_text("ออฟไลน์")
    # Meanwhile the colleague replies; a page still connected shows it, this one cannot.
    watcher = browser.new_page(viewport={"width": 1366, "height": 768})
    _log_in(watcher, cluster, colleague, f"/cases/{case['id']}")
    expect(watcher.locator("#live")).to_have_attribute("data-state", "on")
    expect(watcher.locator(".msg.note")).to_contain_text(f"{marker}-seen")
    reply = {"text": f"ช่างถึงหน้างานแล้ว {marker}-missed"}
    _call(cluster, colleague, "POST", f"/cases/{case['id']}/replies", json=reply)
    expect(watcher.locator(".msg.agent")).to_contain_text(f"{marker}-missed")
    watcher.close()
    expect(page.locator(".msg.agent")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "live-offline.png"), full_page=True)

    page.evaluate("window.__offline = false")
    expect(page.locator("#live")).to_have_attribute("data-state", "on", timeout=30_000)
    expect(page.locator(".msg.agent")).to_contain_text(f"{marker}-missed")
    sent = [json.loads(m) for m in page.evaluate("window.__sent")]
    assert {"type": "resume", "after": seen} in sent
    # What it missed came as a replay after that cursor, not as a reset of the page.
    got = [json.loads(m) for m in page.evaluate("window.__received")]
    assert "reset" not in [m.get("type") for m in got]
    mine = [m for m in got if isinstance(m.get("case"), dict) and m["case"]["id"] == case["id"]]
    assert [m for m in mine if m["cursor"] > seen], got


def test_a_failing_service_shows_a_plain_banner_and_the_pages_recover_by_themselves(
    cluster: Cluster, page: Page
) -> None:
    case, marker, _ = _new_case(cluster)
    agent = _user(cluster, "b", "agent")
    _log_in(page, cluster, agent)
    expect(page.locator("#rows")).to_contain_text(str(case["number"]))
    internal = f"{cluster.url('routing')}/internal/v1/cases"
    failing = re.compile(r"/api/v1/cases\?")
    page.route(
        failing,
        lambda route: route.fulfill(
            status=502, json={"error": "Unavailable", "reason": f"{internal} did not answer"}
        ),
    )
    page.locator(".views button[data-view=unit]").click()
    banner = page.locator("#banner")
    expect(banner).to_contain_text("บริการไม่พร้อมชั่วคราว")
    expect(banner).not_to_contain_text("127.0.0.1")
    expect(banner).not_to_contain_text("internal")
    page.screenshot(path=str(SHOTS / "banner-unavailable.png"), full_page=True)
    page.unroute(failing)
    expect(banner).to_be_hidden(timeout=15_000)

    # Opening a case while the network is down: the page says so, then shows the case.
    detail = re.compile(rf"/api/v1/cases/{case['id']}$")
    page.route(detail, lambda route: route.abort())
    page.goto(cluster.url("console") + f"/cases/{case['id']}")
    expect(banner).to_contain_text("บริการไม่พร้อมชั่วคราว")
    page.unroute(detail)
    expect(page.locator("#conversation")).to_contain_text(marker, timeout=15_000)
    expect(banner).to_be_hidden()
    # A case that does not exist is an answer, not an outage.
    page.goto(cluster.url("console") + "/cases/VOC-2099-999999")
    expect(page.locator("h1")).to_contain_text("VOC-2099-999999")
    expect(banner).to_be_hidden()


def _users(cluster: Cluster) -> dict[str, dict[str, Any]]:
    return {u["username"]: u for u in _call(cluster, "admin", "GET", "/admin/users")["items"]}


def test_admin_changes_a_role_disables_a_user_and_edits_rules_and_canned_responses(
    cluster: Cluster, page: Page, browser: Browser
) -> None:
    admin = _user(cluster, "x", "admin")
    member = _user(cluster, "u", "agent")
    _log_in(page, cluster, admin, "/admin/users")
    row = page.locator(f"#users tr[data-user='{member}']")
    row.get_by_label(f"เปลี่ยนบทบาท {member}").select_option("supervisor")
    row.get_by_role("button", name="เปลี่ยนบทบาท").click()
    expect(page.locator("#admin-result")).to_contain_text("done")
    assert _users(cluster)[member]["role"] == "supervisor"
    theirs = browser.new_page(viewport={"width": 1366, "height": 768})
    _log_in(theirs, cluster, member)
    expect(theirs.locator("#who")).to_contain_text("supervisor")
    expect(theirs.locator("#nav")).to_contain_text("หัวหน้างาน")

    # Disabled, the open page has to log in again and cannot; enabled, it can.
    row.get_by_role("button", name="ระงับ").click()
    expect(row.locator("td").nth(3)).to_have_text("✗")
    assert _users(cluster)[member]["active"] is False
    theirs.reload()
    theirs.get_by_label("ชื่อผู้ใช้ / Username").fill(member)
    theirs.get_by_label("รหัสผ่าน / Password").fill(PASSWORD)
    theirs.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(theirs.locator("#error")).to_contain_text("Login failed")
    row.get_by_role("button", name="เปิดใช้").click()
    expect(row.locator("td").nth(3)).to_have_text("✓")
    theirs.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(theirs.locator("#who")).to_contain_text(member)
    theirs.close()

    # Routing rules: a rule naming no unit is refused with the reason; a good one routes.
    page.goto(cluster.url("console") + "/admin/rules")
    text = page.locator("#rules-text")
    rules = json.loads(text.input_value())["rules"]
    rule = {"id": f"e2e-hazard-{admin[-4:]}", "when": {"topic": ["hazard"]}, "unit": "pea-nowhere"}
    try:
        text.fill(json.dumps({"rules": [rule, *rules]}, ensure_ascii=False, indent=2))
        page.locator("#rules-form button[type=submit]").click()
        expect(page.locator("#admin-result")).to_contain_text("ไม่สำเร็จ")
        expect(page.locator("#admin-result")).to_contain_text("pea-nowhere")
        assert rule["id"] not in [
            r["id"] for r in _call(cluster, admin, "GET", "/admin/rules")["rules"]
        ]
        rule["unit"] = "pea-cc"
        page.locator("#rules-text").fill(json.dumps({"rules": [rule, *rules]}, ensure_ascii=False))
        page.locator("#rules-form button[type=submit]").click()
        expect(page.locator("#admin-result")).to_contain_text("done")
        held = _call(cluster, admin, "GET", "/admin/rules")
        assert (held["rules"][0]["id"], held["updated_by"]) == (rule["id"], admin)
        routed, _, _ = _new_case(cluster)
        steps = [e["detail"] for e in _case(cluster, routed["id"])["timeline"]]
        assert (routed["unit"], steps[1]["rule"]) == ("pea-cc", rule["id"])
        page.get_by_role("button", name="กลับไปใช้กฎจากไฟล์").click()
        expect(page.locator("#rules-text")).not_to_have_value(re.compile(str(rule["id"])))
    finally:
        _call(cluster, admin, "DELETE", "/admin/rules")
    assert _call(cluster, admin, "GET", "/admin/rules")["source"] == "file"
    page.goto(cluster.url("console") + "/admin/changes")
    expect(page.locator("#changes tr", has_text=admin).filter(has_text="rules")).to_have_count(2)

    # A canned response is added, edited from its row, and deleted; each change is audited.
    page.goto(cluster.url("console") + "/admin/canned")
    key = f"e{new_id()[-6:].lower()}"
    page.locator("#canned-key").fill(key)
    page.locator("#canned-title").fill(f"นัดช่าง {key}")
    page.locator("#canned-text").fill("เรื่อง {case_number}: ช่างจะติดต่อกลับภายในวันนี้")
    page.locator("#canned-form button[type=submit]").click()
    line = page.locator(f"#canned-list tr[data-key='{key}']")
    line.get_by_role("button", name="แก้ไข").click()
    expect(page.locator("#canned-title")).to_have_value(f"นัดช่าง {key}")
    page.locator("#canned-title").fill(f"นัดช่างเข้าพื้นที่ {key}")
    page.locator("#canned-form button[type=submit]").click()
    expect(line).to_contain_text(f"นัดช่างเข้าพื้นที่ {key}")
    titles = {i["key"]: i["title"] for i in _call(cluster, admin, "GET", "/canned")["items"]}
    assert titles[key] == f"นัดช่างเข้าพื้นที่ {key}"
    page.screenshot(path=str(SHOTS / "admin-canned-edit.png"), full_page=True)
    line.get_by_role("button", name="ลบ").click()
    expect(line).to_have_count(0)
    assert key not in {i["key"] for i in _call(cluster, admin, "GET", "/canned")["items"]}
    audit = _call(cluster, admin, "GET", "/admin/canned-audit")["items"]
    assert [(a["actor"], a["action"]) for a in audit if a["key"] == key] == [
        (admin, "canned.delete"),
        (admin, "canned.put"),
        (admin, "canned.put"),
    ]


# Visible form controls that no label, aria-label or text names (every folded form opened).
UNNAMED = """() => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  const named = (el) => (el.labels && el.labels.length) || el.getAttribute("aria-label")
    || el.getAttribute("aria-labelledby") || el.title
    || (el.tagName === "BUTTON" && el.textContent.trim());
  return [...document.querySelectorAll("input, select, textarea, button")]
    .filter((el) => el.type !== "hidden" && el.getClientRects().length && !named(el))
    .map((el) => el.outerHTML.slice(0, 160));
}"""
LOADED_FONTS = """async () => {
  await document.fonts.ready;
  const loaded = [...document.fonts].filter((f) => f.status === "loaded");
  return loaded.map((f) => f.family.replaceAll('"', ""));
}"""
PAGES = {
    "/": "#rows tr",
    "/supervisor": "#sup-units tr",
    "/admin/users": "#users tr",
    "/admin/canned": "#canned-list tr",
    "/admin/rules": "#rules-text",
    "/admin/units": "form[data-unit]",
    "/admin/calendars": "[data-calendar]",
    "/admin/sla": "form[data-policy]",
    "/admin/changes": "#changes",
}


def test_every_page_names_its_controls_shows_thai_fonts_and_fits_a_phone(
    cluster: Cluster, browser: Browser
) -> None:
    case, marker, _ = _new_case(cluster)
    admin = _user(cluster, "k", "admin")
    small = browser.new_page(viewport={"width": 390, "height": 844})
    _log_in(small, cluster, admin, f"/cases/{case['id']}")
    expect(small.locator("#conversation")).to_contain_text(marker)
    assert "Noto Sans Thai" in small.evaluate(LOADED_FONTS)
    # Keyboard: the skip link, then the first thing in the content.
    small.reload()
    expect(small.locator("#conversation")).to_contain_text(marker)
    small.keyboard.press("Tab")
    expect(small.locator("#skip")).to_be_focused()
    small.keyboard.press("Enter")
    small.keyboard.press("Tab")
    expect(small.locator("#back")).to_be_focused()
    assert small.evaluate(UNNAMED) == []
    assert _fits(small), "the case page with its forms open scrolls sideways at 390 px"
    for path, ready in PAGES.items():
        small.goto(cluster.url("console") + path)
        expect(small.locator(ready).first).to_be_visible()
        assert small.evaluate(UNNAMED) == [], path
        assert _fits(small), f"{path} scrolls sideways at 390 px"
        small.screenshot(path=str(SHOTS / f"narrow{path.replace('/', '-')}.png"), full_page=True)
    small.close()
