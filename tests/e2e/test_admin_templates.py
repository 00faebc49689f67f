"""An admin edits a customer message in the browser; the next case's customer gets the new text.

The five services run as processes with LINE pointed at a local server that
records every message notify sends. Screenshots go under the ``workspace``
artifacts folder.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from shared.ids import new_id
from tests.support.app_client import find_case
from tests.support.artifacts import artifact_dir
from tests.support.cluster import Cluster, running_cluster
from tests.support.line import FakeLine, running_line_api, send_text

pytestmark = pytest.mark.e2e

SHOTS = artifact_dir("workspace")
PASSWORD = "templates-password-1"
LINE_SECRET = "line-secret-templates"
SLOT = "th/acknowledged.short"


@pytest.fixture(scope="module")
def line_api() -> Iterator[FakeLine]:
    with running_line_api() as line:
        yield line


@pytest.fixture(scope="module")
def desk(
    mongo_url: str, line_api: FakeLine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    env = {
        "VOCDESK_LINE_CHANNEL_SECRET": LINE_SECRET,
        "VOCDESK_LINE_CHANNEL_TOKEN": "line-token-templates",
        "VOCDESK_LINE_API_BASE": line_api.url,
    }
    with running_cluster(mongo_url, Path(tmp_path_factory.mktemp("templates")), **env) as c:
        yield c


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1366, "height": 900})
    yield opened
    opened.close()


def line_message(desk: Cluster, text: str) -> None:
    """Send a customer's LINE message to intake, signed as LINE signs it."""
    send_text(desk.url("intake"), LINE_SECRET, text)


def wait_for_text(desk: Cluster, line: FakeLine, wanted: str, timeout: float = 60) -> list[str]:
    """Wait until a message holding ``wanted`` reached LINE; return the ones that did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [text for text in line.texts() if wanted in text]
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"nothing with {wanted!r} sent: {line.texts()}\n{desk.logs()[-3000:]}")


def slot_on_server(desk: Cluster, token: str) -> dict[str, Any]:
    """Return the slot as notify holds it, through the console's API."""
    answer = httpx.get(
        desk.url("console") + "/api/v1/admin/templates",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()
    data = answer.json()
    return {"sample": data["sample"], **next(s for s in data["slots"] if s["name"] == SLOT)}


def changes_on_server(desk: Cluster, token: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        desk.url("console") + "/api/v1/admin/templates/changes",
        params={"slot": SLOT},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return list(answer.json()["items"])


def test_an_admin_edits_previews_and_saves_a_text_the_next_customer_receives(
    desk: Cluster, line_api: FakeLine, page: Page
) -> None:
    admin = f"tpl{new_id()[-6:].lower()}"
    desk.create_user(admin, PASSWORD, "admin")
    token = desk.token(admin, PASSWORD)
    before = slot_on_server(desk, token)
    assert before["override"] is None
    sample_number = before["sample"]["case_number"]
    marker = f"T{new_id()[-8:]}"
    text = f"รับเรื่อง {{{{ case_number }}}} แล้วค่ะ {marker}"

    page.goto(desk.url("console") + "/admin/templates")
    page.get_by_label("ชื่อผู้ใช้ / Username").fill(admin)
    page.get_by_label("รหัสผ่าน / Password").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(page.locator("#who")).to_contain_text(admin)
    expect(page.get_by_role("link", name="ข้อความแจ้งลูกค้า")).to_have_attribute("aria-current", "page")

    # The slot is picked with the keyboard; the editor shows the default it replaces.
    cell = page.locator(f'button[data-slot="{SLOT}"]')
    expect(cell).to_have_attribute("data-state", "default")
    cell.focus()
    page.keyboard.press("Enter")
    source = page.get_by_label("ข้อความที่จะส่ง (Jinja2)")
    expect(source).to_be_focused()
    expect(page.locator("#tpl-default")).to_have_value(before["default"])
    expect(source).to_have_value(before["default"])

    # A preview renders the draft with the sample case and saves nothing.
    source.fill(text)
    page.get_by_role("button", name="ดูตัวอย่าง").click()
    expected_sample = f"รับเรื่อง {sample_number} แล้วค่ะ {marker}"
    expect(page.locator('#tpl-shown .tpl-render[data-channel="line"]')).to_contain_text(
        expected_sample
    )
    page.screenshot(path=str(SHOTS / "admin-templates-preview.png"), full_page=True)
    assert slot_on_server(desk, token)["override"] is None
    assert changes_on_server(desk, token) == []

    page.get_by_role("button", name="บันทึก", exact=True).click()
    expect(page.locator("#tpl-result")).to_contain_text("บันทึกแล้ว")
    expect(cell).to_have_attribute("data-state", "edited")
    expect(page.locator(f'#tpl-changes tr[data-slot="{SLOT}"]').first).to_contain_text(admin)
    assert slot_on_server(desk, token)["override"] == text
    page.screenshot(path=str(SHOTS / "admin-templates-saved.png"), full_page=True)

    # A case opened afterwards is acknowledged to its customer with the new text.
    complaint = f"ไฟดับทั้งซอยตั้งแต่หัวค่ำ {marker.lower()}"
    line_message(desk, complaint)
    case = find_case(desk, token, marker.lower())
    [sent] = wait_for_text(desk, line_api, marker)
    assert sent == f"รับเรื่อง {case['number']} แล้วค่ะ {marker}"

    # A template that does not parse is refused in the page, naming the slot and line.
    source.fill(f"รับเรื่องแล้ว {marker}\n{{{{ case_number ")
    page.get_by_role("button", name="บันทึก", exact=True).click()
    error = page.locator("#tpl-error")
    expect(error).to_contain_text(SLOT)
    expect(error).to_contain_text("line 2")
    expect(page.locator("#tpl-result")).to_have_text("")
    expect(source).to_have_value(f"รับเรื่องแล้ว {marker}\n{{{{ case_number ")  # kept to fix
    page.screenshot(path=str(SHOTS / "admin-templates-refused.png"), full_page=True)
    assert slot_on_server(desk, token)["override"] == text
    [change] = changes_on_server(desk, token)
    assert (change["by"], change["action"], change["after"]) == (admin, "set", text)

    # The English texts are a language away; the Thai edit did not touch them.
    page.get_by_label("ภาษาของข้อความ").select_option("en")
    expect(page.locator('button[data-slot="en/acknowledged.short"]')).to_have_attribute(
        "data-state", "default"
    )
