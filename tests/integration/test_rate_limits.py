"""Rate limits per source and per customer: a backend's burst passes, one customer is held."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.bus.amqp import AmqpBus
from shared.bus.inproc import InProcessBus
from shared.ids import new_id
from tests.support.broker import private_vhost
from tests.support.intake import IntakeUnderTest, running_intake

pytestmark = pytest.mark.integration

KEY = "app-key-rate-test"
LINE_SECRET = "line-secret-rate-test"
# More than the old fixed allowance of one app key (a burst of 100 at 20/s).
BACKEND_BURST = 250


@pytest.fixture(scope="module")
def amqp_url() -> Iterator[str]:
    with private_vhost("rate") as url:
        yield url


def contact(app_user: str) -> dict[str, Any]:
    return {
        "app_user_id": app_user,
        "text": "ไฟดับทั้งซอย",
        "locale": "th-TH",
        "consent_to_disclose": False,
        "customer": {"name": "สมหญิง", "phone": "0812457730", "email": "s@example.com"},
    }


def submit(intake: IntakeUnderTest, app_user: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": new_id()}
    return intake.client.post("/v1/app/contacts", json=contact(app_user), headers=headers)


def test_mobile_backend_burst_is_accepted_on_the_real_broker(mongo_url: str, amqp_url: str) -> None:
    with running_intake(mongo_url, AmqpBus(amqp_url), app_api_keys=[KEY]) as intake:
        answers = [submit(intake, f"u-{n}") for n in range(BACKEND_BURST)]
    assert [a.status_code for a in answers] == [202] * BACKEND_BURST


def test_one_app_user_flooding_gets_429_with_retry_after_and_others_pass(mongo_url: str) -> None:
    settings = {"app_api_keys": [KEY], "rate_app_user_burst": 3, "rate_app_user_per_s": 0.01}
    with running_intake(mongo_url, InProcessBus(), **settings) as intake:
        flooding = [submit(intake, "u-flood") for _ in range(5)]
        neighbour = submit(intake, "u-calm")
        published = intake.published()
    assert [a.status_code for a in flooding] == [202, 202, 202, 429, 429]
    assert int(flooding[3].headers["Retry-After"]) >= 1
    assert "customer" in flooding[3].json()["reason"]
    assert neighbour.status_code == 202
    assert len(published) == 4  # nothing refused reached the bus


def test_app_key_allowance_comes_from_settings(mongo_url: str) -> None:
    settings = {"app_api_keys": [KEY], "rate_app_burst": 2, "rate_app_per_s": 0.01}
    with running_intake(mongo_url, InProcessBus(), **settings) as intake:
        codes = [submit(intake, f"u-{n}").status_code for n in range(3)]
    assert codes == [202, 202, 429]


def line_body(user: str) -> bytes:
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": 1_776_000_000_000,
        "source": {"type": "user", "userId": user},
        "webhookEventId": "01" + secrets.token_hex(12).upper(),
        "deliveryContext": {"isRedelivery": False},
        "message": {"id": str(secrets.randbelow(10**17)), "type": "text", "text": "ไฟดับ"},
        "replyToken": secrets.token_hex(16),
    }
    return json.dumps({"destination": "U" + "0" * 32, "events": [event]}).encode()


def post_line(intake: IntakeUnderTest, body: bytes) -> httpx.Response:
    digest = hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()
    headers = {"x-line-signature": base64.b64encode(digest).decode()}
    return intake.client.post("/v1/line/webhook", content=body, headers=headers)


def test_one_line_user_flooding_is_refused_and_another_user_passes(mongo_url: str) -> None:
    settings = {
        "line_channel_secret": LINE_SECRET,
        "rate_line_user_burst": 2,
        "rate_line_user_per_s": 0.01,
    }
    flood, calm = "U" + secrets.token_hex(16), "U" + secrets.token_hex(16)
    with running_intake(mongo_url, InProcessBus(), **settings) as intake:
        codes = [post_line(intake, line_body(flood)).status_code for _ in range(3)]
        other = post_line(intake, line_body(calm))
        published = intake.published()
    assert codes == [200, 200, 429]
    assert other.status_code == 200
    assert sorted(c.customer.line_user_id or "" for c in published) == sorted([flood, flood, calm])
