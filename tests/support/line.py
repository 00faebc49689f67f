"""LINE in tests: a customer's message signed as LINE signs it, and LINE's message API faked.

The fake answers the push and reply endpoints as LINE documents them
(200 with ``sentMessages``), or 503 while it is set down, and keeps each
request's JSON body for the test to read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


def signed_webhook(
    channel_secret: str, text: str, *, reply_token: bool = False
) -> tuple[bytes, dict[str, str]]:
    """Return the body and headers LINE sends for one customer's text message."""
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": "U" + secrets.token_hex(16)},
        "webhookEventId": "01" + secrets.token_hex(12).upper(),
        "deliveryContext": {"isRedelivery": False},
        "message": {"id": str(secrets.randbelow(10**17)), "type": "text", "text": text},
    }
    if reply_token:
        event["replyToken"] = secrets.token_hex(16)
    body = json.dumps({"destination": "U" + "0" * 32, "events": [event]}).encode()
    signature = base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest())
    return body, {"x-line-signature": signature.decode(), "content-type": "application/json"}


def send_text(intake_url: str, channel_secret: str, text: str) -> None:
    """Send one customer's text message to intake's LINE webhook; assert it was taken."""
    body, headers = signed_webhook(channel_secret, text)
    answer = httpx.post(intake_url + "/v1/line/webhook", content=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text


@dataclass
class FakeLine:
    """What the fake LINE API was asked, and whether it answers."""

    url: str = ""
    up: bool = True
    requests: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def texts(self) -> list[str]:
        """Return the text of every message sent to LINE so far."""
        return [m.get("text", "") for body in list(self.bodies) for m in body.get("messages", [])]


@contextmanager
def running_line_api(*, up: bool = True) -> Iterator[FakeLine]:
    """Serve LINE's message endpoints on a free local port until the block ends."""
    line = FakeLine(up=up)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            line.requests += 1
            line.bodies.append(json.loads(raw or b"{}"))
            status, body = (200, b'{"sentMessages":[{"id":"1"}]}') if line.up else (503, b"{}")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    line.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield line
    finally:
        server.shutdown()
