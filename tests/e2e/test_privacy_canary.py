"""Canary: personal data sent with consent withheld never gets past privacy in clear.

The services run as processes on RabbitMQ. Contacts on every channel (app,
LINE, phone, email, fax and walk-in) carry a valid national ID, phones, an
email and a card number, all made up for this run. None of them may appear
in any bus message after privacy, in any document of privacy, routing, notify
or console, in any log, or in what a unit member is shown through the console;
an agent is shown them, and that reveal is in the audit log.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import random
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any

import aio_pika
import aiosmtplib
import httpx
import pytest
from PIL import Image, ImageDraw, ImageFont
from pymongo import MongoClient

from shared.bus.topology import EXCHANGE
from shared.clock import BANGKOK
from shared.ids import new_id
from tests.support.acting import acting_headers
from tests.support.broker import private_vhost
from tests.support.cluster import APP_KEY, Cluster, running_cluster

pytestmark = pytest.mark.e2e

SERVICE_TOKEN = "svc-token-canary"
ACTING_KEY = "acting-key-canary"
LINE_SECRET = "line-secret-canary"
CTI_TOKEN = "cti-token-canary"
FAX_SECRET = "fax-secret-canary"
CHANNELS = frozenset({"app", "line", "phone", "email", "fax", "walk_in"})
NAME = "สมหญิง นกขมิ้น"
# Any Latin TrueType font does: the fax carries digits and Latin labels only.
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_SEPARATORS = re.compile(r"[\s.\-]")


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
        self.app_user = f"app-{new_id().lower()}"
        nid, mobile, card = self.national_id, self.mobile, self.card
        self.nid_written = f"{nid[0]}-{nid[1:5]}-{nid[5:10]}-{nid[10:12]}-{nid[12]}"
        self.nid_spaced = self.nid_written.replace("-", " ")
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
            self.nid_spaced,
            self.mobile,
            self.mobile_written,
            self.mobile[1:],  # inside +66…
            self.landline,
            self.landline[1:],
            self.email,
            self.card,
            self.card_written,
            self.line_user,
            self.app_user,
        ]

    def leaks(self, text: str) -> list[str]:
        """Return the values found in ``text``, also with separators taken out."""
        found = [value for value in self.values() if value in text]
        # OCR may space digit groups differently; the long numbers are still
        # recognisable with every separator gone.
        compact = _SEPARATORS.sub("", text)
        return found + [v for v in (self.national_id, self.card) if v in compact and v not in found]


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
        VOCDESK_ACTING_KEY=ACTING_KEY,
        VOCDESK_LINE_CHANNEL_SECRET=LINE_SECRET,
        VOCDESK_CTI_TOKENS=CTI_TOKEN,
        VOCDESK_FAX_HMAC_SECRET=FAX_SECRET,
    ) as running:
        yield running


async def _send_app(cluster: Cluster, http: httpx.AsyncClient, canary: Canary) -> None:
    answer = await http.post(
        cluster.url("intake") + "/v1/app/contacts",
        json={
            "app_user_id": canary.app_user,
            "text": canary.text(),
            "locale": "th-TH",
            "consent_to_disclose": False,
            "customer": {"name": NAME, "phone": canary.mobile, "email": canary.email},
        },
        headers={"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": new_id()},
    )
    assert answer.status_code == 202, answer.text


async def _send_line(cluster: Cluster, http: httpx.AsyncClient, canary: Canary) -> None:
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
    raw = json.dumps({"destination": "U" + "0" * 32, "events": [event]}, ensure_ascii=False)
    body = raw.encode()
    signature = base64.b64encode(hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest())
    answer = await http.post(
        cluster.url("intake") + "/v1/line/webhook",
        content=body,
        headers={"x-line-signature": signature.decode(), "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text


async def _send_phone(cluster: Cluster, http: httpx.AsyncClient, canary: Canary) -> None:
    # One answered call from the canary mobile, in which the customer keyed
    # their ID and a callback number into the IVR; intake writes the text.
    start = datetime.now(BANGKOK) - timedelta(minutes=3)
    call = {"callId": f"{int(start.timestamp())}.{random.randint(1000, 9999)}", "direction": "in"}
    call |= {"from": canary.mobile, "to": "1129", "queue": "outage"}
    # FreePBX names a recording after the caller: in-<caller>-<dialled>-<date>-<time>-<id>.
    recording = f"https://pbx.example/monitor/in-{canary.mobile}-1129-{start:%Y%m%d-%H%M%S}.wav"
    ivr = ["lang:th", "main:1:outage", f"idcard:{canary.national_id}", f"cb:{canary.landline}"]
    events = [
        {**call, "event": "newCall", "timestamp": start.isoformat(), "ivr_path": ivr},
        {**call, "event": "answer", "timestamp": (start + timedelta(seconds=40)).isoformat()}
        | {"user": "A1023"},
        {**call, "event": "hangup", "timestamp": (start + timedelta(seconds=160)).isoformat()}
        | {"user": "A1023", "cause": "normalClearing", "duration_s": 160, "talk_s": 120}
        | {"recording_url": recording},
    ]
    answer = await http.post(
        cluster.url("intake") + "/v1/phone/events",
        json=events,
        headers={"Authorization": f"Bearer {CTI_TOKEN}"},
    )
    assert answer.status_code == 202, answer.text
    assert len(answer.json()["contacts"]) == 1, answer.text


async def _send_email(cluster: Cluster, canary: Canary) -> None:
    message = EmailMessage()
    message["From"] = formataddr((NAME, canary.email))
    message["To"] = "complaints@pea-demo.example"
    message["Subject"] = f"ไฟดับ {canary.marker} โทร {canary.mobile_written}"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="mail.example.com")
    message.set_content(canary.text())
    # Customers name scans after what they show: the file name carries the ID too.
    message.add_attachment(
        b"%PDF-1.4\n",
        maintype="application",
        subtype="pdf",
        filename=f"บัตร_{canary.national_id}.pdf",
    )
    await aiosmtplib.send(message, hostname="127.0.0.1", port=cluster.ports["smtp"], timeout=15)


def _fax_page(canary: Canary) -> bytes:
    """Return a one-page G3 TIFF carrying the ID, phone and card, as a fax machine sends it."""
    lines = [
        f"National ID {canary.nid_written}",
        f"Tel {canary.mobile_written}",
        f"Credit card {canary.card_written}",
    ]
    font = ImageFont.truetype(str(FONT), 44)
    page = Image.new("1", (1728, 160 + 90 * len(lines)), 1)
    draw = ImageDraw.Draw(page)
    for number, line in enumerate(lines):
        draw.text((120, 80 + 90 * number), line, font=font, fill=0)
    out = io.BytesIO()
    page.save(out, format="TIFF", compression="group3", dpi=(204, 196))
    return out.getvalue()


async def _send_fax(cluster: Cluster, http: httpx.AsyncClient, canary: Canary) -> None:
    meta = {
        "id": f"fax-{canary.marker}",
        "num_pages": 1,
        "caller_id": canary.landline,
        "remote_station_id": f"+66{canary.landline[1:]}",  # a fax machine's TSI is its number
        "to_number": "053112233",
        "status": "received",
        "error": None,
        "received_at": datetime.now(BANGKOK).isoformat(),
    }
    # Built by hand so the signature covers exactly the bytes sent.
    boundary = f"canary{new_id()}"
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="fax"\r\n'
            f"Content-Type: application/json\r\n\r\n{json.dumps(meta)}\r\n".encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="fax.tiff"'
            "\r\nContent-Type: image/tiff\r\n\r\n".encode(),
            _fax_page(canary),
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    signature = hmac.new(FAX_SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = await http.post(
        cluster.url("intake") + "/v1/fax/inbound",
        content=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Fax-Signature": signature,
        },
    )
    assert answer.status_code == 202, answer.text


async def _send_walk_in(cluster: Cluster, http: httpx.AsyncClient, canary: Canary) -> None:
    now = datetime.now(BANGKOK)
    entry = {
        "branch_code": "B0101",
        "branch_name": "สาขาทดสอบ",
        "counter_no": 3,
        "queue_no": f"Q{canary.marker[-8:]}",
        "queued_at": (now - timedelta(minutes=10)).isoformat(),
        "served_at": now.isoformat(),
        "staff_id": "S1001",
        "customer": {
            "name": NAME,
            "phone": canary.mobile_written,
            "national_id": canary.nid_spaced,
            "email": canary.email,
        },
        "consent_to_disclose": False,
        "text": canary.text(),
    }
    answer = await http.post(
        cluster.url("console") + "/api/v1/contacts/walk-in",
        json=entry,
        headers={"Authorization": f"Bearer {cluster.admin_token()}"},
    )
    assert answer.status_code == 202, answer.text


async def _send(cluster: Cluster, http: httpx.AsyncClient, canary: Canary) -> None:
    await asyncio.gather(
        _send_app(cluster, http, canary),
        _send_line(cluster, http, canary),
        _send_phone(cluster, http, canary),
        _send_email(cluster, canary),
        _send_fax(cluster, http, canary),
        _send_walk_in(cluster, http, canary),
    )


async def _cases(cluster: Cluster, http: httpx.AsyncClient) -> list[dict[str, Any]]:
    # The cluster is this test's own, so every case in it is the canary's; the
    # contacts share identifiers, so routing may thread several into one case.
    token = cluster.admin_token()
    items: list[dict[str, Any]] = []
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        answer = await http.get(
            cluster.url("console") + "/api/v1/cases",
            params={"per_page": 200},
            headers={"Authorization": f"Bearer {token}"},
        )
        answer.raise_for_status()
        items = answer.json()["items"]
        if {c["channel"] for case in items for c in case["contacts"]} >= CHANNELS:
            return items
        await asyncio.sleep(0.3)
    raise AssertionError(f"not every channel has a case: {items}\n{cluster.logs()[-3000:]}")


def _stored(cluster: Cluster, mongo_url: str) -> str:
    prefix = cluster.env["VOCDESK_MONGO_DB_PREFIX"]
    documents: list[Any] = []
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    with client:
        # Intake's raw archive holds the payloads as received: it is intake's
        # own, kept under a retention class, and nothing downstream reads it.
        # Every other database of the cluster is read, whoever created it.
        names = [n for n in client.list_database_names() if n.startswith(f"{prefix}_")]
        assert {f"{prefix}_{service}" for service in ("privacy", "routing")} <= set(names)
        for name in names:
            if name == f"{prefix}_intake":
                continue
            database = client[name]
            for collection in database.list_collection_names():
                documents += list(database[collection].find())
    # Vault ciphertext is base64 and cannot hold a clear value, so every
    # document is read whole, ciphertext included.
    return json.dumps(documents, ensure_ascii=False, default=str)


async def _console_case(
    cluster: Cluster, http: httpx.AsyncClient, token: str, case_id: str
) -> httpx.Response:
    answer = await http.get(
        cluster.url("console") + f"/api/v1/cases/{case_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return answer


def _login(cluster: Cluster, role: str, unit: str | None = None) -> tuple[str, str]:
    """Create a console user with ``role`` and return its name and bearer token."""
    username = f"{role}-{new_id().lower()[-8:]}"
    password = f"pw-{new_id()}"
    cluster.create_user(username, password, role, unit)
    return username, cluster.token(username, password)


async def _unit_sees_masked(
    cluster: Cluster, http: httpx.AsyncClient, canary: Canary, cases: list[dict[str, Any]]
) -> set[str]:
    """Check every case as a member of its unit; return the members' names."""
    units = {str(case["unit"]) for case in cases}
    members = dict(
        zip(
            units,
            await asyncio.gather(
                *(asyncio.to_thread(_login, cluster, "unit_member", unit) for unit in units)
            ),
            strict=True,
        )
    )
    for case in cases:
        answer = await _console_case(cluster, http, members[case["unit"]][1], case["id"])
        assert canary.leaks(answer.text) == [], case["id"]
        assert all(c["identity"] is None for c in answer.json()["contacts"])
    return {name for name, _ in members.values()}


async def _agent_sees_clear(
    cluster: Cluster, http: httpx.AsyncClient, canary: Canary, cases: list[dict[str, Any]]
) -> str:
    """Check that an agent is shown every value on every channel; return the agent's name."""
    agent, token = await asyncio.to_thread(_login, cluster, "agent")
    shown: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        answer = (await _console_case(cluster, http, token, case["id"])).json()
        for contact in answer["contacts"]:
            assert contact["revealed"] is True, contact
            shown.setdefault(contact["channel"], []).append(contact)
    written = [
        canary.nid_written,
        canary.mobile_written,
        canary.landline,
        canary.email,
        canary.card_written,
    ]
    for channel in ("app", "line", "email", "walk_in"):
        for contact in shown[channel]:
            assert [v for v in written if v not in contact["text"]] == [], (channel, contact)
    # The fax text is what OCR read off the page; the ID and phone come out exactly.
    fax = " ".join(c["text"] for c in shown["fax"])
    assert [v for v in (canary.nid_written, canary.mobile_written) if v not in fax] == [], fax
    assert {c["identity"]["phone"] for c in shown["fax"]} == {"+66" + canary.landline[1:]}
    assert {c["identity"]["phone"] for c in shown["phone"]} == {"+66" + canary.mobile[1:]}
    assert {c["identity"]["email"] for c in shown["email"]} == {canary.email}
    walk_in = shown["walk_in"][0]["identity"]
    assert (walk_in["national_id"], walk_in["email"]) == (canary.nid_spaced, canary.email)
    return agent


async def _reveals_audited(
    cluster: Cluster,
    http: httpx.AsyncClient,
    cases: list[dict[str, Any]],
    *,
    agent: str,
    members: set[str],
) -> None:
    """Check that the agent's reveals, and only those, are in an intact audit log."""
    headers = acting_headers(
        audience="privacy", token=SERVICE_TOKEN, role="dpo", user="dpo-1", acting_key=ACTING_KEY
    )
    audit = await http.get(cluster.url("privacy") + "/internal/v1/audit", headers=headers)
    reveals = {
        (e["actor"], e["case_id"], e["purpose"])
        for e in audit.json()["items"]
        if e["action"] == "reveal"
    }
    assert {(agent, case["id"], "handle_case") for case in cases} <= reveals
    assert not {actor for actor, _, _ in reveals} & members
    verified = await http.get(cluster.url("privacy") + "/internal/v1/audit/verify", headers=headers)
    assert verified.json()["ok"] is True


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
        async with httpx.AsyncClient(timeout=30) as http:
            await _send(cluster, http, canary)
            cases = await _cases(cluster, http)
            await asyncio.sleep(2)  # let notify and console take the case events too

            received = {key for key, _ in seen if key.startswith("contact.received.")}
            assert received >= {f"contact.received.{c}" for c in CHANNELS}, received
            after_privacy = [body for key, body in seen if not key.startswith("contact.received")]
            assert any(canary.marker in body for body in after_privacy)
            assert [canary.leaks(body) for body in after_privacy if canary.leaks(body)] == []
            assert canary.leaks(_stored(cluster, mongo_url)) == []
            assert canary.leaks(cluster.logs()) == []
            assert all(case["consent"] != "granted" for case in cases)

            members = await _unit_sees_masked(cluster, http, canary, cases)
            agent = await _agent_sees_clear(cluster, http, canary, cases)
            await _reveals_audited(cluster, http, cases, agent=agent, members=members)
    finally:
        await connection.close()
