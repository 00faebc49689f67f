"""A LINE outage shows in the console as one banner while notify's circuit is open, gone after."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.cluster import Cluster, running_cluster

pytestmark = pytest.mark.e2e

LINE_SECRET = "line-secret-banner"
ADMIN_PASSWORD = "Banner-Khon-Kaen-5821-zq"


class LineApi(BaseHTTPRequestHandler):
    """LINE's push endpoint, up or down as the test says."""

    up = False
    requests = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        LineApi.requests += 1
        status, body = (200, b'{"sentMessages":[{"id":"1"}]}') if LineApi.up else (503, b"{}")
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def line_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), LineApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def desk(
    mongo_url: str, line_api: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    env = {
        "VOCDESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "VOCDESK_LINE_CHANNEL_SECRET": LINE_SECRET,
        "VOCDESK_LINE_CHANNEL_TOKEN": "line-token-banner",
        "VOCDESK_LINE_API_BASE": line_api,
        "VOCDESK_NOTIFY_BREAKER_FAILURES": "1",
        "VOCDESK_NOTIFY_BREAKER_OPEN_S": "1",
        "VOCDESK_NOTIFY_BREAKER_OPEN_MAX_S": "2",
        "VOCDESK_NOTIFY_RETRY_MIN_S": "0.5",
        "VOCDESK_NOTIFY_RETRY_BASE_S": "0.5",
    }
    with running_cluster(mongo_url, Path(tmp_path_factory.mktemp("banner")), **env) as running:
        yield running


def line_message(desk: Cluster) -> None:
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": "U" + secrets.token_hex(16)},
        "webhookEventId": "01" + secrets.token_hex(12).upper(),
        "deliveryContext": {"isRedelivery": False},
        "message": {"id": str(secrets.randbelow(10**17)), "type": "text", "text": "ไฟดับทั้งซอย"},
    }
    body = json.dumps({"destination": "U" + "0" * 32, "events": [event]}).encode()
    signature = base64.b64encode(hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest())
    answer = httpx.post(
        desk.url("intake") + "/v1/line/webhook",
        content=body,
        headers={"x-line-signature": signature.decode(), "content-type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def test_line_outage_is_one_banner_while_open_and_gone_when_closed(desk: Cluster) -> None:
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

        LineApi.up = True
        expect(banner).to_be_hidden(timeout=90_000)
        browser.close()
    assert LineApi.requests >= 2  # refused while down, accepted once back
