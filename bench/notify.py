"""Measure notify: notifications per second, and latency from case event to the provider.

Notify runs as in production (consumer, delivery log in the store, worker)
against a local SMTP sink (aiosmtpd) and a local server speaking LINE's push
format, both on loopback in a thread of their own. Privacy is a stand-in that
answers reply-handle look-ups in privacy's format from memory, so the figures
are notify's and the store's, not privacy's audit log. Half the customers are
on email, half on LINE (push), unless ``--channels`` says otherwise.

Two runs: a burst of ``--burst`` case events published at once (throughput),
then ``--paced`` events offered at ``--rate`` per second (latency under load).

    python bench/notify.py [--burst 2000] [--paced 500] [--rate 100] [--bus rabbitmq]

Without ``VOCDESK_MONGO_URL`` the embedded MongoDB-protocol server is used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request

from services.notify.app import create_app
from services.notify.settings import NotifySettings
from shared.bus.base import Bus
from shared.bus.inproc import InProcessBus
from shared.embedded import EmbeddedMongo
from shared.ids import new_id
from shared.messages import CaseEvent, CaseSnapshot, Envelope
from shared.runtime import Runtime, open_store
from shared.settings import Settings


class Arrivals:
    """When each customer's message reached its provider, by wall clock (thread-safe)."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self._lock = threading.Lock()

    def mark(self, customer: int) -> None:
        """Record the first arrival for ``customer``."""
        with self._lock:
            self.at.setdefault(customer, time.time())


class SmtpSink:
    """An aiosmtpd handler that notes which customer each mail was for."""

    def __init__(self, arrivals: Arrivals) -> None:
        self._arrivals = arrivals

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Mark the mail's recipient as reached."""
        for rcpt in envelope.rcpt_tos:
            self._arrivals.mark(int(rcpt.split("@")[0].removeprefix("c")))
        return "250 2.0.0 queued"


def providers(arrivals: Arrivals, mix: str) -> FastAPI:
    """Return LINE's push endpoint, privacy's reply-handle look-up, and the arrivals."""
    app = FastAPI()

    @app.post("/v2/bot/message/push")
    async def push(request: Request) -> dict[str, Any]:
        body = await request.json()
        arrivals.mark(int(body["to"][1:], 16))
        return {"sentMessages": [{"id": "1"}]}

    @app.get("/internal/v1/reply-handles/{handle}")
    async def reply_target(handle: str) -> dict[str, Any]:
        customer = int(handle.removeprefix("rh_"))
        if mix == "line" or (mix == "mixed" and customer % 2):
            return {
                "subject_ref": f"sub_{customer}",
                "channel": "line",
                "line_user_id": f"U{customer:032x}",
            }
        return {
            "subject_ref": f"sub_{customer}",
            "channel": "email",
            "email": f"c{customer}@bench.example",
            "name": "ผู้ใช้ไฟ ทดสอบ",
            "message_id": f"<m{customer}@bench.example>",
        }

    @app.get("/arrivals")
    async def arrived() -> dict[int, float]:
        return dict(arrivals.at)

    return app


def serve_providers(http_port: int, smtp_port: int, mix: str) -> None:
    """Run the SMTP sink and the HTTP stand-ins in this process until killed."""
    arrivals = Arrivals()
    smtp = Controller(SmtpSink(arrivals), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    uvicorn.run(providers(arrivals, mix), port=http_port, log_level="warning", lifespan="off")


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def case_opened(customer: int) -> Envelope:
    """Return a ``case.opened`` event for ``customer``."""
    case = CaseSnapshot(
        id=f"case-{customer}",
        number=f"VOC-2026-{customer:06d}",
        org="pea",
        status="new",
        channel="line" if customer % 2 else "email",
        subject_ref=f"sub_{customer}",
        reply_handle=f"rh_{customer}",
    )
    return Envelope.of(CaseEvent(type="case.opened", seq=1, at=datetime.now(UTC), case=case))


async def run(
    bus: Bus, customers: range, rate: float | None, local: httpx.AsyncClient
) -> dict[str, float]:
    """Publish one event per customer (all at once, or at ``rate``) and wait for every send."""
    published: dict[int, float] = {}
    start = time.time()
    for n, customer in enumerate(customers):
        if rate:
            await asyncio.sleep(max(0.0, start + n / rate - time.time()))
        published[customer] = time.time()
        await bus.publish(case_opened(customer))
    deadline = time.time() + 600
    arrived: dict[int, float] = {}
    while time.time() < deadline:
        arrived = {int(k): v for k, v in (await local.get("/arrivals")).json().items()}
        if all(c in arrived for c in customers):
            break
        await asyncio.sleep(0.2)
    done = [c for c in customers if c in arrived]
    latencies = sorted(arrived[c] - published[c] for c in done)
    return {
        "sent": len(done),
        "per_s": len(done) / (max(arrived[c] for c in done) - start),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


async def bench(args: argparse.Namespace, mongo_url: str, local: str, smtp_port: int) -> None:
    """Start notify, run the burst and the paced run, print the figures."""
    settings = Settings(
        env="test",
        mongo_db_prefix=f"bench{new_id().lower()[-8:]}",
        service_token="bench-service-token",  # type: ignore[arg-type]  # noqa: S106
        privacy_url=local,  # type: ignore[arg-type]
        line_api_base=local,  # type: ignore[arg-type]
        line_channel_token="bench-line-token",  # type: ignore[arg-type]  # noqa: S106
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",  # type: ignore[arg-type]
        mail_from="ศูนย์บริการ 1129 <care@pea.example>",
    )
    bus: Bus
    if args.bus == "rabbitmq":
        from shared.bus.amqp import AmqpBus

        bus = AmqpBus(os.environ.get("VOCDESK_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"))
    else:
        bus = InProcessBus()
    store = open_store(settings, "notify", mongo_url)
    runtime = Runtime(service="notify", settings=settings, bus=bus, store=store)
    notify = NotifySettings(notify_rate_limit=1000, notify_concurrency=args.concurrency)
    pool = args.concurrency * 2
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    async with (
        httpx.AsyncClient(timeout=10, limits=limits) as http,
        httpx.AsyncClient(base_url=local, timeout=10) as probe,
    ):
        app = create_app(runtime, settings=notify, http=http)
        async with app.router.lifespan_context(app):
            for _ in range(600):
                if (await runtime.readiness())["ready"]:
                    break
                await asyncio.sleep(0.1)
            burst = await run(bus, range(args.burst), None, probe)
            offset = args.burst
            paced = await run(bus, range(offset, offset + args.paced), args.rate, probe)
            await store.client.drop_database(store.db.name)
    store_kind = "embedded" if args.embedded else "VOCDESK_MONGO_URL"
    print(f"store: {store_kind}, bus: {bus.kind}, channels: {args.channels}")
    print(f"{'run':<22}{'sent':>7}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for name, row in ((f"burst of {args.burst}", burst), (f"paced {args.rate:g}/s", paced)):
        print(
            f"{name:<22}{row['sent']:>7.0f}{row['per_s']:>9.1f}"
            f"{row['p50_ms']:>9.0f}{row['p99_ms']:>9.0f}"
        )


def main() -> None:
    """Parse arguments, start the store and the providers, run the benchmark."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--paced", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--bus", choices=("in-process", "rabbitmq"), default="in-process")
    parser.add_argument("--channels", choices=("mixed", "email", "line"), default="mixed")
    parser.add_argument("--serve-providers", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_providers:
        serve_providers(*args.serve_providers, args.channels)
        return
    mongo_url = os.environ.get("VOCDESK_MONGO_URL")
    args.embedded = mongo_url is None
    http_port, smtp_port = free_port(), free_port()
    # The providers get a process of their own so they do not share notify's CPU time.
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve-providers",
            str(http_port),
            str(smtp_port),
            "--channels",
            args.channels,
        ]
    )
    with tempfile.TemporaryDirectory() as tmp:
        embedded = EmbeddedMongo(Path(tmp) / "mongo") if mongo_url is None else None
        try:
            url = embedded.start() if embedded else str(mongo_url)
            for _ in range(100):
                with contextlib.suppress(httpx.HTTPError):
                    httpx.get(f"http://127.0.0.1:{http_port}/arrivals", timeout=1)
                    break
                time.sleep(0.1)
            asyncio.run(bench(args, url, f"http://127.0.0.1:{http_port}", smtp_port))
        finally:
            child.terminate()
            child.wait()
            if embedded:
                embedded.stop()


if __name__ == "__main__":
    main()
