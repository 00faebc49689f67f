"""Canary: personal data sent with consent withheld never gets past privacy in clear.

The services run as processes on RabbitMQ. Contacts on the app and LINE
channels carry a valid national ID, phones, an email and a card number, all
made up for this run. None of them may appear in any bus message after
privacy, in any document of privacy, routing, notify or console, in any log,
or in what a unit member is shown; an agent is shown them, and that reveal is
in the audit log.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from pymongo import MongoClient

from shared.bus.topology import EXCHANGE
from shared.ids import new_id
from tests.support.broker import private_vhost
from tests.support.cluster import APP_KEY, Cluster, running_cluster

pytestmark = pytest.mark.e2e

SERVICE_TOKEN = "svc-token-canary"
LINE_SECRET = "line-secret-canary"
SCREENED_BY = ("privacy", "routing", "notify", "console")


def _national_id(rng: random.Random) -> str:
    body = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
    total = sum(int(body[i]) * (13 - i) for i in range(12))
    return body + str((11 - total % 11) % 10)


def _card(rng: random.Random) -> str:
    body = "4" + "".join(str(rng.randint(0, 9)) for _ in range(14))
    digits = [int(d) for d in body]
    for i in range(len(digits) - 1, -1, -2):  # double every second digit from the right
        digits[i] = digits[i] * 2 - 9 if digits[i] > 4 else digits[i] * 2
    return body + str((10 - sum(digits) % 10) % 10)


class Canary:
    """Personal data made up for one run, and every written form it is sent in."""

    def __init__(self) -> None:
        rng = random.Random(new_id())
        self.marker = f"C{new_id()[-10:]}"
        self.national_id = _national_id(rng)
        self.mobile = "081" + "".join(str(rng.randint(0, 9)) for _ in range(7))
        self.landline = "02" + "".join(str(rng.randint(0, 9)) for _ in range(7))
        self.email = f"canary.{new_id().lower()}@example.com"
        self.card = _card(rng)
        self.line_user = "U" + hashlib.sha256(self.marker.encode()).hexdigest()[:32]
        nid, mobile, card = self.national_id, self.mobile, self.card
        self.nid_written = f"{nid[0]}-{nid[1:5]}-{nid[5:10]}-{nid[10:12]}-{nid[12]}"
        self.mobile_written = f"{mobile[:3]}-{mobile[3:6]}-{mobile[6:]}"
        self.card_written = " ".join(card[i : i + 4] for i in range(0, 16, 4))

    def text(self) -> str:
        """Return a complaint quoting every value in its written form."""
        return (
            f"ไฟดับทั้งซอย {self.marker} บัตรประชาชน {self.nid_written} "
            f"ติดต่อกลับ {self.mobile_written} หรือ {self.landline} อีเมล {self.email} "
            f"ชำระค่าไฟด้วยบัตรเครดิต {self.card_written} แล้วแต่ยังไม่ได้ใบเสร็จ"
        )

    def values(self) -> list[str]:
        """Return every clear form that must not get past privacy."""
        return [
            self.national_id,
            self.nid_written,
            self.mobile,
            self.mobile_written,
            self.mobile[1:],  # inside +66…
            self.landline,
            self.email,
            self.card,
            self.card_written,
            self.line_user,
        ]

    def leaks(self, text: str) -> list[str]:
        """Return the values found in ``text``."""
        return [value for value in self.values() if value in text]


@pytest.fixture(scope="module")
def amqp_url() -> Iterator[str]:
    with private_vhost("canary") as url:
        yield url


@pytest.fixture(scope="module")
def canary_cluster(
    mongo_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    with running_cluster(
        mongo_url,
        Path(tmp_path_factory.mktemp("canary")),
        VOCDESK_AMQP_URL=amqp_url,
        VOCDESK_SERVICE_TOKEN=SERVICE_TOKEN,
        VOCDESK_LINE_CHANNEL_SECRET=LINE_SECRET,
    ) as running:
        yield running


def _line_body(canary: Canary) -> bytes:
    event = {
        "type": "message",
        "message": {
            "type": "text",
            "id": str(random.randint(10**17, 10**18)),
            "text": canary.text(),
        },
        "webhookEventId": new_id(),
        "deliveryContext": {"isRedelivery": False},
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": canary.line_user},
        "replyToken": new_id().lower(),
        "mode": "active",
    }
    body = {"destination": "U" + "0" * 32, "events": [event]}
    return json.dumps(body, ensure_ascii=False).encode()


async def _send(cluster: Cluster, http: httpx.AsyncClient, canary: Canary) -> None:
    app = await http.post(
        cluster.url("intake") + "/v1/app/contacts",
        json={
            "app_user_id": f"u-{canary.marker}",
            "text": canary.text(),
            "locale": "th-TH",
            "consent_to_disclose": False,
            "customer": {"name": "สมหญิง นกขมิ้น", "phone": canary.mobile, "email": canary.email},
        },
        headers={"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": new_id()},
    )
    assert app.status_code == 202, app.text
    raw = _line_body(canary)
    signature = base64.b64encode(hmac.new(LINE_SECRET.encode(), raw, hashlib.sha256).digest())
    line = await http.post(
        cluster.url("intake") + "/v1/line/webhook",
        content=raw,
        headers={"x-line-signature": signature.decode(), "Content-Type": "application/json"},
    )
    assert line.status_code == 200, line.text


async def _cases(
    cluster: Cluster, http: httpx.AsyncClient, marker: str, contacts: int
) -> list[dict[str, Any]]:
    # The LINE message states the app customer's number, so privacy recognises
    # the same customer and routing may thread both contacts into one case.
    token = cluster.admin_token()
    items: list[dict[str, Any]] = []
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        answer = await http.get(
            cluster.url("console") + "/api/v1/cases",
            params={"q": marker},
            headers={"Authorization": f"Bearer {token}"},
        )
        answer.raise_for_status()
        items = answer.json()["items"]
        if sum(len(case["contacts"]) for case in items) >= contacts:
            return items
        await asyncio.sleep(0.3)
    raise AssertionError(f"no {contacts} contacts for {marker}: {items}\n{cluster.logs()[-3000:]}")


async def _privacy(
    cluster: Cluster, http: httpx.AsyncClient, method: str, path: str, role: str, **kw: Any
) -> httpx.Response:
    headers = {
        "X-Service-Token": SERVICE_TOKEN,
        "X-Acting-User": f"{role}-1",
        "X-Acting-Role": role,
    }
    return await http.request(
        method, cluster.url("privacy") + "/internal/v1" + path, headers=headers, **kw
    )


def _stored(cluster: Cluster, mongo_url: str) -> str:
    prefix = cluster.env["VOCDESK_MONGO_DB_PREFIX"]
    documents: list[Any] = []
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    with client:
        for service in SCREENED_BY:
            database = client[f"{prefix}_{service}"]
            for name in database.list_collection_names():
                documents += list(database[name].find())
    # Vault ciphertext is base64 and cannot hold a clear value, so every
    # document is read whole, ciphertext included.
    return json.dumps(documents, ensure_ascii=False, default=str)


async def _unit_sees_masked_and_agent_sees_audited(
    cluster: Cluster, http: httpx.AsyncClient, canary: Canary, case: dict[str, Any]
) -> None:
    request = {
        "case_id": case["id"],
        "consent": case["consent"],
        "contact_ids": [c["id"] for c in case["contacts"]],
        "purpose": "handle_case",
        "reason": "working the case",
    }
    unit = await _privacy(cluster, http, "POST", "/cases/view", "unit_member", json=request)
    assert unit.status_code == 200, unit.text
    assert canary.leaks(unit.text) == []

    agent = (await _privacy(cluster, http, "POST", "/cases/view", "agent", json=request)).json()
    written = (
        canary.nid_written,
        canary.mobile_written,
        canary.landline,
        canary.email,
        canary.card_written,
    )
    for shown in agent["contacts"]:
        assert [value for value in written if value not in shown["text"]] == []
    customer = agent["customers"][0]["identity"]
    assert (customer["phone"], customer["email"]) == (canary.mobile, canary.email)

    audit = await _privacy(cluster, http, "GET", "/audit", "dpo", params={"case_id": case["id"]})
    reveals = [(e["actor"], e["purpose"]) for e in audit.json()["items"]]
    assert ("agent-1", "handle_case") in reveals
    assert ("unit_member-1", "handle_case") not in reveals


async def test_withheld_personal_data_stays_inside_privacy(
    canary_cluster: Cluster, mongo_url: str, amqp_url: str
) -> None:
    cluster = canary_cluster  # its own, on a virtual host of its own
    canary = Canary()
    seen: list[tuple[str, str]] = []
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        tap = await channel.declare_queue(exclusive=True, auto_delete=True)
        await tap.bind(exchange, routing_key="#")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            seen.append((message.routing_key or "", message.body.decode(errors="replace")))

        await tap.consume(on_message, no_ack=True)
        async with httpx.AsyncClient(timeout=15) as http:
            await _send(cluster, http, canary)
            cases = await _cases(cluster, http, canary.marker, contacts=2)
            await asyncio.sleep(2)  # let notify and console take the case events too

            after_privacy = [body for key, body in seen if not key.startswith("contact.received")]
            assert any(canary.marker in body for body in after_privacy)
            assert [canary.leaks(body) for body in after_privacy if canary.leaks(body)] == []
            assert canary.leaks(_stored(cluster, mongo_url)) == []
            assert canary.leaks(cluster.logs()) == []
            assert all(case["consent"] != "granted" for case in cases)

            for case in cases:
                await _unit_sees_masked_and_agent_sees_audited(cluster, http, canary, case)
            verified = await _privacy(cluster, http, "GET", "/audit/verify", "dpo")
            assert verified.json()["ok"] is True
    finally:
        await connection.close()
