"""The agent workspace in headless Chromium, on the five services as processes.

Each flow saves screenshots under the ``workspace`` artifacts folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from shared.ids import new_id
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
    page.locator("#merge-into").fill(str(first["number"]))
    page.locator("#merge-reason").fill("ลูกค้ารายเดียวกัน แจ้งเรื่องเดิมซ้ำ")
    page.locator("#actions form button", has_text="รวมเรื่องซ้ำ").click()
    expect(page).to_have_url(re.compile(rf"/cases/{first['id']}$"))
    expect(page.locator("#conversation")).to_contain_text(marker)
    expect(page.locator(".msg.system[data-type='case.merged']")).to_be_visible()
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
