"""End to end under load: contacts over LINE, the app and email into the five services as processes.

    python bench/e2e.py [--rate 200] [--duration 60] [--burst-rate 0] [--burst-duration 0]
                        [--drain-timeout 300] [--out var/bench]

The services run as ``vocdesk run`` processes on the real RabbitMQ (a virtual
host of the run's own) and the embedded store. A local fake LINE API takes
notify's messages. The load is a third each of LINE webhooks, app contacts
and SMTP mail, sent at a fixed rate; a burst phase may follow. Reported:
accepted rate, intake→case (first case event on the bus) and intake→console
(the case on the console's live websocket) latency p50/p95/p99, queue depth
over time, CPU and RSS per process, store operations per contact (the
store's own op counters, less the idle rate of health checks). Writes
``e2e-<time>.json``, ``.md`` and ``.png`` under ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aio_pika
import aiosmtplib
import httpx
import psutil
import websockets
from pymongo import MongoClient

from shared.bus.topology import QUEUES
from shared.embedded import EmbeddedMongo
from tests.support.cluster import APP_KEY, running_cluster
from tests.support.line import signed_webhook

# Secrets of a throwaway install the bench starts and removes.
LINE_SECRET = "bench-line-secret"  # noqa: S105
ADMIN_PASSWORD = "Bench-Ubon-Ratchathani-7419"  # noqa: S105
MARK = re.compile(r"BENCH[0-9a-f]{12}")
OPS = ("insert", "query", "update", "delete", "getmore", "command")
TOP_KINDS = ("insert", "queries", "update", "remove", "getmore", "commands")


class _FakeLine(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = b'{"sentMessages":[{"id":"1"}]}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def fake_line() -> str:
    """Start a LINE Messaging API that accepts everything; return its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeLine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def percentiles(values: list[float]) -> dict[str, float | None]:
    """Return p50, p95 and p99 of ``values`` in seconds."""
    if len(values) < 2:
        return {"p50": values[0] if values else None, "p95": None, "p99": None, "n": len(values)}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98], "n": len(values)}


class Load:
    """Send contacts and remember when each marker went out and whether it was accepted."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.sent: dict[str, float] = {}
        self.accepted: dict[str, float] = {}
        self.refused: dict[str, int] = {}
        self.http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200))
        self.in_flight = asyncio.Semaphore(200)
        self.n = 0

    async def one(self) -> None:
        marker = "BENCH" + secrets.token_hex(6)
        kind = ("line", "app", "mail")[self.n % 3]
        self.n += 1
        text = f"ไฟดับทั้งซอย หม้อแปลงระเบิด {marker}"
        async with self.in_flight:
            self.sent[marker] = time.monotonic()
            try:
                ok = await getattr(self, f"_{kind}")(marker, text)
            except Exception as exc:  # a refusal is a figure, not a crash
                ok = False
                self.refused[type(exc).__name__] = self.refused.get(type(exc).__name__, 0) + 1
            if ok:
                self.accepted[marker] = time.monotonic()

    def _count(self, status: int) -> bool:
        if status < 300:
            return True
        self.refused[str(status)] = self.refused.get(str(status), 0) + 1
        return False

    async def _line(self, marker: str, text: str) -> bool:
        body, headers = signed_webhook(LINE_SECRET, text, reply_token=True)
        answer = await self.http.post(
            self.cluster.url("intake") + "/v1/line/webhook", content=body, headers=headers
        )
        return self._count(answer.status_code)

    async def _app(self, marker: str, text: str) -> bool:
        body = {
            "app_user_id": f"u-{marker}",
            "text": text,
            "locale": "th-TH",
            "consent_to_disclose": False,
            "customer": {"name": "ผู้ทดสอบ"},
        }
        answer = await self.http.post(
            self.cluster.url("intake") + "/v1/app/contacts",
            json=body,
            headers={"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": marker},
        )
        return self._count(answer.status_code)

    async def _mail(self, marker: str, text: str) -> bool:
        message = EmailMessage()
        message["From"] = f"{marker.lower()}@customer.example"
        message["To"] = "care@pea-demo.example"
        message["Subject"] = f"ไฟดับ {marker}"
        message["Message-ID"] = f"<{marker}@customer.example>"
        message.set_content(text)
        port = self.cluster.ports["smtp"]
        await aiosmtplib.send(message, hostname="127.0.0.1", port=port, timeout=30)
        return True

    async def run(self, rate: float, duration: float) -> float:
        """Send at ``rate`` a second for ``duration`` seconds; return the seconds it took."""
        started = time.monotonic()
        tasks: set[asyncio.Task[None]] = set()
        total = int(rate * duration)
        for i in range(total):
            due = started + i / rate
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            task = asyncio.create_task(self.one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        return time.monotonic() - started


class Watch:
    """Follow the bus, the console's websocket, queue depths and the processes."""

    def __init__(self, cluster: Any, amqp_url: str, store: EmbeddedMongo, mongo_url: str) -> None:
        self.cluster = cluster
        self.amqp_url = amqp_url
        self.published: dict[str, float] = {}  # marker -> contact.received seen
        self.correlation: dict[str, str] = {}  # correlation id -> marker
        self.case_at: dict[str, float] = {}  # marker -> first case event
        self.case_of: dict[str, str] = {}  # case id -> marker
        self.console_at: dict[str, float] = {}  # marker -> case on the websocket
        self.pending_console: dict[str, float] = {}  # case id -> websocket time, marker unknown
        self.depth: list[dict[str, Any]] = []
        self.procs: list[dict[str, Any]] = []
        self.ops: list[tuple[float, dict[str, int]]] = []
        self.store = store
        self.mongo = MongoClient(mongo_url)
        self.stop = asyncio.Event()

    def store_ops(self) -> dict[str, int]:
        counters = self.mongo.admin.command("serverStatus")["opcounters"]
        return {k: int(counters.get(k, 0)) for k in OPS}

    def store_top(self) -> dict[str, tuple[int, int]]:
        """Return the store's (commands, microseconds) so far per collection and kind (``top``).

        Keys are ``<database>.<collection>/<kind>``: insert, queries, update,
        remove, getmore or commands.
        """
        totals = self.mongo.admin.command("top")["totals"]
        return {
            f"{ns}/{kind}": (int(v[kind]["count"]), int(v[kind]["time"]))
            for ns, v in totals.items()
            if isinstance(v, dict)
            for kind in TOP_KINDS
            if kind in v
        }

    async def spy(self) -> None:
        connection = await aio_pika.connect_robust(self.amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=500)
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
            for key in ("contact.received.*", "case.#"):
                await queue.bind("vocdesk.events", routing_key=key)
            async with queue.iterator() as messages:
                async for message in messages:
                    now = time.monotonic()
                    await message.ack()
                    self._seen(message.type or "", message.correlation_id or "", message.body, now)
                    if self.stop.is_set():
                        break

    def _seen(self, kind: str, correlation: str, body: bytes, now: float) -> None:
        if kind == "contact.received":
            found = MARK.search(body.decode("utf-8", "replace"))
            if found:
                self.published.setdefault(found.group(), now)
                self.correlation[correlation] = found.group()
            return
        marker = self.correlation.get(correlation)
        if marker is None or not kind.startswith("case."):
            return
        self.case_at.setdefault(marker, now)
        case_id = json.loads(body)["data"]["case"]["id"]
        self.case_of.setdefault(case_id, marker)
        if case_id in self.pending_console:
            self.console_at.setdefault(marker, self.pending_console.pop(case_id))

    async def console(self) -> None:
        base = self.cluster.url("console")
        async with httpx.AsyncClient(timeout=30) as http:
            token = (
                await http.post(
                    base + "/api/v1/auth/token",
                    data={"username": "admin", "password": ADMIN_PASSWORD},
                )
            ).json()["access_token"]
            ticket = (
                await http.post(
                    base + "/api/v1/live/ticket", headers={"Authorization": f"Bearer {token}"}
                )
            ).json()["ticket"]
        url = base.replace("http://", "ws://") + f"/api/v1/live?ticket={ticket}"
        async with websockets.connect(url, max_queue=None) as socket:
            async for raw in socket:
                now = time.monotonic()
                case = json.loads(raw).get("case") or {}
                case_id = case.get("id")
                if not case_id:
                    continue
                marker = self.case_of.get(case_id)
                if marker is None:
                    self.pending_console.setdefault(case_id, now)
                else:
                    self.console_at.setdefault(marker, now)

    async def sample(self, started: float) -> None:
        handles = {name: psutil.Process(p.pid) for name, p in self.cluster.processes.items()}
        handles["store"] = psutil.Process(self.store._process.pid)
        for handle in handles.values():
            handle.cpu_percent()
        connection = await aio_pika.connect_robust(self.amqp_url)
        async with connection:
            channel = await connection.channel()
            while not self.stop.is_set():
                await asyncio.sleep(1.0)
                at = round(time.monotonic() - started, 1)
                # Ready messages only (RabbitMQ's count); what consumers hold
                # unacknowledged shows in "in_pipeline": published, not yet a case.
                depth: dict[str, Any] = {"t": at}
                for name in QUEUES:
                    queue = await channel.declare_queue(name, passive=True)
                    depth[name] = int(queue.declaration_result.message_count or 0)
                depth["in_pipeline"] = len(self.published) - len(self.case_at)
                self.depth.append(depth)
                self.procs.append(
                    {
                        "t": at,
                        **{
                            name: {
                                "cpu": h.cpu_percent(),
                                "rss_mib": round(h.memory_info().rss / 2**20, 1),
                            }
                            for name, h in handles.items()
                        },
                    }
                )
                self.ops.append((at, await asyncio.to_thread(self.store_ops)))


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    line_base = fake_line()
    tmp = Path(tempfile.mkdtemp(prefix="vocdesk-e2e-"))
    store = EmbeddedMongo(tmp / "store")
    mongo_url = store.start()
    env = {
        "VOCDESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "VOCDESK_LINE_CHANNEL_SECRET": LINE_SECRET,
        "VOCDESK_LINE_CHANNEL_TOKEN": "bench-line-token",
        "VOCDESK_LINE_API_BASE": line_base,
        "VOCDESK_LOG_LEVEL": "WARNING",
        # One bench client is every customer's backend: the per-source buckets
        # must take the whole offered rate; customers are all distinct.
        "VOCDESK_RATE_APP_PER_S": "100000",
        "VOCDESK_RATE_APP_BURST": "100000",
        "VOCDESK_RATE_LINE_PER_S": "100000",
        "VOCDESK_RATE_LINE_BURST": "100000",
    }
    try:
        with running_cluster(mongo_url, tmp, **env) as cluster:
            watch = Watch(cluster, cluster.env["VOCDESK_AMQP_URL"], store, mongo_url)
            started = time.monotonic()
            watchers = (watch.spy(), watch.console(), watch.sample(started))
            tasks = [asyncio.create_task(c) for c in watchers]
            await asyncio.sleep(5)  # idle: the health checks' own store traffic
            idle_from = watch.store_ops()
            await asyncio.sleep(5)
            idle = sum(watch.store_ops().values()) - sum(idle_from.values())
            idle_rate = idle / 5
            load = Load(cluster)
            ops_before, t_before = watch.store_ops(), time.monotonic()
            top_before = watch.store_top()
            load_started = time.monotonic() - started
            phases = [{"rate": args.rate, "duration": args.duration}]
            if args.burst_rate and args.burst_duration:
                phases.append({"rate": args.burst_rate, "duration": args.burst_duration})
            for phase in phases:
                phase["took_s"] = await load.run(phase["rate"], phase["duration"])
                phase["sent"] = len(load.sent)
                phase["accepted"] = len(load.accepted)
            sending_s = time.monotonic() - t_before
            deadline = time.monotonic() + args.drain_timeout
            while time.monotonic() < deadline:
                if all(m in watch.case_at for m in load.accepted):
                    break
                await asyncio.sleep(0.5)
            drained_s = time.monotonic() - t_before
            await asyncio.sleep(2)
            ops_after, t_after = watch.store_ops(), time.monotonic()
            top_after = watch.store_top()
            watch.stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await load.http.aclose()
    finally:
        store.stop()
    accepted = load.accepted
    delta = {k: ops_after[k] - ops_before[k] for k in OPS}
    background = idle_rate * (t_after - t_before)
    total_ops = sum(delta.values()) - background
    to_case = [watch.case_at[m] - load.sent[m] for m in accepted if m in watch.case_at]
    to_console = [watch.console_at[m] - load.sent[m] for m in accepted if m in watch.console_at]
    cases = len([m for m in accepted if m in watch.case_at])
    by_collection = _by_collection(top_before, top_after, len(accepted))
    return {
        "at": datetime.now(UTC).isoformat(),
        "phases": phases,
        "sent": len(load.sent),
        "accepted": len(accepted),
        "refused": load.refused,
        "accepted_rate_per_s": round(len(accepted) / sending_s, 1),
        "cases_seen": cases,
        "not_cased_at_end": len(accepted) - cases,
        "drained_in_s": round(drained_s, 1),
        "load_started_at_s": round(load_started, 1),
        "intake_to_case_s": percentiles(to_case),
        "intake_to_console_s": percentiles(to_console),
        "store_ops": delta,
        "store_ops_idle_per_s": round(idle_rate, 1),
        "store_ops_per_contact": round(total_ops / max(1, len(accepted)), 1),
        # Round trips (commands) and store time per contact, by service and collection,
        # as the store's ``top`` counts them; idle traffic is not subtracted here.
        "store_by_collection": by_collection,
        "queue_depth": watch.depth,
        "processes": watch.procs,
    }


def _service_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Return the Markdown table of store commands and time per contact, by service."""
    services: dict[str, list[float]] = {}
    for row in rows:
        total = services.setdefault(row["service"], [0.0, 0.0])
        total[0] += row["commands_per_contact"]
        total[1] += row["store_ms_per_contact"]
    lines = ["| service | store commands per contact | store ms per contact |", "|---|---|---|"]
    lines += [
        f"| {name} | {n:.1f} | {ms:.1f} |"
        for name, (n, ms) in sorted(services.items(), key=lambda kv: -kv[1][1])
    ]
    lines += ["", "| service | collection / kind | commands per contact | ms per contact |"]
    lines += ["|---|---|---|---|"]
    lines += [
        f"| {r['service']} | {r['collection']} | {r['commands_per_contact']} |"
        f" {r['store_ms_per_contact']} |"
        for r in rows[:20]
    ]
    return lines


def _by_collection(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], contacts: int
) -> list[dict[str, Any]]:
    """Return commands and store milliseconds per contact for each collection that was used."""
    rows = []
    for ns, (count, micros) in after.items():
        count0, micros0 = before.get(ns, (0, 0))
        if count - count0 <= 0 or "." not in ns:
            continue
        database, collection = ns.split(".", 1)
        rows.append(
            {
                "service": database.rpartition("_")[2],
                "collection": collection,
                "commands_per_contact": round((count - count0) / max(1, contacts), 2),
                "store_ms_per_contact": round((micros - micros0) / 1000 / max(1, contacts), 2),
            }
        )
    return sorted(rows, key=lambda r: -r["store_ms_per_contact"])


def summary(result: dict[str, Any]) -> str:
    """Return the Markdown summary of a run."""

    def ms(p: dict[str, Any]) -> str:
        keys = ("p50", "p95", "p99")
        return " / ".join("—" if p[k] is None else f"{p[k] * 1000:.0f}" for k in keys)

    peak: dict[str, tuple[float, float]] = {}
    for sample in result["processes"]:
        for name, v in sample.items():
            if name != "t":
                cpu, rss = peak.get(name, (0.0, 0.0))
                peak[name] = (max(cpu, v["cpu"]), max(rss, v["rss_mib"]))
    deepest = max(
        (max(v for k, v in d.items() if k != "t") for d in result["queue_depth"]), default=0
    )
    lines = [
        f"# vocdesk end to end — {result['at']}",
        "",
        "| figure | value |",
        "|---|---|",
        *(
            f"| phase | {p['rate']}/s for {p['duration']} s (took {p['took_s']:.1f} s) |"
            for p in result["phases"]
        ),
        f"| sent / accepted | {result['sent']} / {result['accepted']}"
        f" (refused: {result['refused'] or 'none'}) |",
        f"| accepted rate | {result['accepted_rate_per_s']} contacts/s |",
        f"| cases seen / not cased at end | {result['cases_seen']}"
        f" / {result['not_cased_at_end']} |",
        f"| drained (all accepted cased) after | {result['drained_in_s']} s from the first send |",
        f"| intake→case p50/p95/p99 | {ms(result['intake_to_case_s'])} ms |",
        f"| intake→console p50/p95/p99 | {ms(result['intake_to_console_s'])} ms |",
        f"| store operations per contact | {result['store_ops_per_contact']}"
        f" ({result['store_ops']}, idle {result['store_ops_idle_per_s']}/s subtracted) |",
        f"| deepest queue | {deepest} messages |",
        "",
        "| process | peak CPU % | peak RSS MiB |",
        "|---|---|---|",
        *(f"| {name} | {cpu:.0f} | {rss:.0f} |" for name, (cpu, rss) in sorted(peak.items())),
        "",
        *_service_lines(result.get("store_by_collection", [])),
    ]
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    """Draw queue depth and CPU over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    times = [d["t"] for d in result["queue_depth"]]
    for name in [*QUEUES, "in_pipeline"]:
        top.plot(times, [d[name] for d in result["queue_depth"]], label=name)
    top.set_ylabel("messages queued")
    top.axvline(result["load_started_at_s"], color="grey", linestyle=":")
    top.legend(fontsize="small")
    names = [n for n in (result["processes"][0] if result["processes"] else {}) if n != "t"]
    ptimes = [p["t"] for p in result["processes"]]
    for name in names:
        bottom.plot(ptimes, [p[name]["cpu"] for p in result["processes"]], label=name)
    bottom.set_ylabel("CPU %")
    bottom.set_xlabel("seconds")
    bottom.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--burst-rate", type=float, default=0)
    parser.add_argument("--burst-duration", type=float, default=0)
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    result = asyncio.run(bench(args))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"e2e-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    text = summary(result)
    stem.with_suffix(".md").write_text(text)
    plot(result, stem.with_suffix(".png"))
    print(text)
    print(f"written: {stem}.json, .md, .png")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
