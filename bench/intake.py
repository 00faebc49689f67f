"""Measure intake: accepted contacts per second per channel, and acceptance latency.

Intake runs as ``vocdesk run intake`` runs it (uvicorn, the SMTP listener,
JSON logs at INFO), in a process of its own, on RabbitMQ with publisher
confirms (a virtual host of the run's own, deleted afterwards) and the
embedded store. The load comes from this process over loopback, so the load
generator does not share the server's interpreter. Each channel in turn gets
``--clients`` concurrent clients in a closed loop for ``--seconds``:

- line: signed webhooks of ``--line-batch`` text events each, from ``--bots`` bots;
- app: JSON submissions with an Idempotency-Key;
- phone: calls of three CTI events (newCall, answer, hangup), one contact each;
- email: sample mail with a fresh Message-ID over SMTP (aiosmtplib), one
  connection per client.

Latency is per request (a LINE batch, a CTI event, an SMTP transaction), from
sending it to the answer, which intake gives only after the broker confirmed.
Per-source rate limits are lifted in the server: they cap one runaway source,
and this measures what one replica can take. Only 127.0.0.1 is contacted.

    python bench/intake.py [--seconds 10] [--clients 16] [--line-batch 10]
                           [--channels line,app,phone,email] [--profile out.prof]
"""

# Findings on the 2-core machine (16 clients; other work shares the machine
# and the store slows as it fills, so runs vary by a third): LINE 360-500
# contacts/s with p50 0.3-0.4 s and p99 0.45-0.7 s; app 60-130, email 45-90,
# phone 13-21 calls/s. With 2 clients, p99 is 50-75 ms for one app, CTI or
# SMTP request and 160 ms for a LINE batch of ten. The goal (2,000 LINE
# events/s, p99 under 50 ms) is not met:
#
# - The embedded store (SecantusDB, a Python server over WiredTiger) takes
#   500-700 single-document writes a second here, 1.5-4 ms each. Intake wrote
#   three per contact, one after another (claim the key, archive the payload,
#   complete the key), so LINE stopped at about 130 events/s. A webhook's
#   events are now claimed, archived and completed in three writes together
#   (``accept.accept_all``), which is what lifts LINE to ~370/s. Requests
#   that arrive while a group is being written now form the next group
#   (``accept.GroupAccepter``): with 32 clients, app went from 112-114 to
#   125-180 contacts/s and email from 106-107 to 165-218 (runs interleaved
#   with the code before, each app submission another customer's). Phone
#   still takes three more writes per CTI event of its own.
# - Then intake's one process is the limit: about 2.5 ms of CPU per LINE
#   contact. In a cProfile of the LINE run: publishing (envelope, aio-pika,
#   confirm bookkeeping) 20 %, store calls 14 %, the "contact accepted" JSON
#   log line with its personal-data mask 9 %, building contacts 3 %, and about
#   half in uvicorn/h11/Starlette and asyncio scheduling.
# - Each publish waits for its quorum-queue confirm (1.6 ms p50 when idle) and
#   a batch publishes one event after another to keep delivery order, so ten
#   events cost 16 ms of confirms before anything else.

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import multiprocessing
import pstats
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aio_pika
import aiosmtplib
import httpx

from shared.embedded import EmbeddedMongo, free_port
from shared.ids import new_id
from tests.support.broker import private_vhost

DATA = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "channels"
LINE_SECRET = "bench-line-secret"  # noqa: S105 - the bench server's own, for this run
APP_KEY = "bench-app-key"
PBX_TOKEN = "bench-pbx-token"  # noqa: S105 - likewise
CHANNELS = ("line", "app", "phone", "email")


# --- The server (a child process) ---------------------------------------------


def serve(config: dict[str, Any]) -> None:
    """Run intake until terminated, as ``vocdesk run intake`` does, rate limits lifted."""
    import cProfile

    import uvicorn

    from services.intake.app import create_app
    from services.intake.channels.app import channel as app_channel
    from services.intake.channels.fax import channel as fax_channel
    from services.intake.channels.line import channel as line_channel
    from services.intake.channels.phone import channel as phone_channel
    from services.intake.limits import Limit
    from shared.bus.amqp import AmqpBus
    from shared.logging import configure_logging
    from shared.runtime import Runtime, open_store
    from shared.settings import Settings

    sys.stderr = Path(config["log"]).open("a", encoding="utf-8")  # noqa: SIM115 - the process's
    unlimited = Limit(per_second=1e9, burst=10**9)
    for module, name in (
        (app_channel, "APP_LIMIT"),
        (line_channel, "LINE_LIMIT"),
        (phone_channel, "PBX_LIMIT"),
        (fax_channel, "FAX_LIMIT"),
    ):
        setattr(module, name, unlimited)
    settings = Settings(**config["settings"])
    configure_logging("intake", settings.log_level)
    runtime = Runtime(
        service="intake",
        settings=settings,
        bus=AmqpBus(config["amqp_url"], publish_timeout=settings.publish_timeout_s),
        store=open_store(settings, "intake", config["mongo_url"]),
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(runtime),
            host="127.0.0.1",
            port=settings.intake_port,
            log_config=None,
            access_log=False,
        )
    )
    if not config["profile"]:
        server.run()
        return
    # uvicorn re-raises the SIGTERM it handled once it has shut down; this
    # handler turns it into an exit that still writes the profile.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    profiler = cProfile.Profile()
    try:
        profiler.runcall(server.run)
    finally:
        profiler.dump_stats(config["profile"])


@contextlib.contextmanager
def intake_process(config: dict[str, Any]) -> Iterator[multiprocessing.process.BaseProcess]:
    """Start intake in a child process; stop it (SIGTERM, then kill) on exit."""
    process = multiprocessing.get_context("spawn").Process(target=serve, args=(config,))
    process.start()
    try:
        yield process
    finally:
        process.terminate()
        process.join(30)
        if process.is_alive():
            process.kill()
            process.join()


async def wait_ready(base_url: str, smtp_port: int, process: Any, timeout: float = 60) -> None:
    """Wait until intake says it is ready and its SMTP listener answers."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url) as client:
        while time.monotonic() < deadline:
            if not process.is_alive():
                raise SystemExit("intake exited while starting; see its log")
            with contextlib.suppress(httpx.HTTPError, OSError):
                ready = (await client.get("/readyz")).status_code == 200
                _, writer = await asyncio.open_connection("127.0.0.1", smtp_port)
                writer.close()
                if ready:
                    return
            await asyncio.sleep(0.2)
    raise SystemExit("intake did not become ready in time")


# --- The load -----------------------------------------------------------------


@dataclass
class Tally:
    """What one channel's clients sent, got accepted, and how long each request took."""

    requests: int = 0
    contacts: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def fail(self, why: str) -> None:
        """Count a request that was not accepted."""
        self.failures[why] = self.failures.get(why, 0) + 1


Step = Callable[[Tally], Awaitable[None]]


LINE_SAMPLE = json.loads((DATA / "line" / "text_message.json").read_text(encoding="utf-8"))


def line_body(batch: int, bot: int) -> bytes:
    """Return a webhook body of ``batch`` text events from one bot, each with fresh ids."""
    events = []
    for _ in range(batch):
        event = json.loads(json.dumps(LINE_SAMPLE["events"][0]))
        event["webhookEventId"] = new_id()
        event["message"]["id"] = str(time.time_ns())
        event["source"]["userId"] = "U" + secrets.token_hex(16)  # a customer each
        event["replyToken"] = secrets.token_hex(16)
        event["timestamp"] = int(time.time() * 1000)
        events.append(event)
    payload = {"destination": f"Ubench{bot:027d}", "events": events}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def line_step(client: httpx.AsyncClient, batch: int, bots: int) -> Step:
    """Return one client's request: a signed batch of LINE events."""
    turn = itertools.count()

    async def step(tally: Tally) -> None:
        body = line_body(batch, next(turn) % bots)
        digest = hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()
        headers = {"x-line-signature": base64.b64encode(digest).decode()}
        start = time.perf_counter()
        answer = await client.post("/v1/line/webhook", content=body, headers=headers)
        tally.latencies.append(time.perf_counter() - start)
        tally.requests += 1
        if answer.status_code == 200:
            tally.contacts += answer.json()["accepted"]
        else:
            tally.fail(str(answer.status_code))

    return step


def app_step(client: httpx.AsyncClient) -> Step:
    """Return one client's request: an app submission under a fresh Idempotency-Key."""
    from services.intake.channels.app.channel import parse_body
    from shared.errors import DomainError

    lines = (DATA / "app" / "app_contacts.jsonl").read_text(encoding="utf-8").splitlines()
    samples = []
    for line in filter(str.strip, lines):
        with contextlib.suppress(DomainError):  # two samples are refused on purpose
            parse_body(line.encode())
            samples.append(json.loads(line))
    turn = itertools.count()

    async def step(tally: Tally) -> None:
        body = dict(samples[next(turn) % len(samples)])
        body.pop("idempotency_key", None)  # a header, not a field; fresh for every submission
        # A mobile backend's burst comes from many customers: each submission is
        # another app user's, so the per-customer limit (which stays on) does
        # not refuse it.
        body["app_user_id"] = f"{body['app_user_id']}-{new_id().lower()}"
        headers = {"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": new_id()}
        start = time.perf_counter()
        answer = await client.post("/v1/app/contacts", json=body, headers=headers)
        tally.latencies.append(time.perf_counter() - start)
        tally.requests += 1
        if answer.status_code == 202:
            tally.contacts += 1
        else:
            tally.fail(str(answer.status_code))

    return step


def phone_step(client: httpx.AsyncClient) -> Step:
    """Return one client's request sequence: the three events of a fresh call."""
    headers = {"Authorization": f"Bearer {PBX_TOKEN}"}

    async def step(tally: Tally) -> None:
        call = f"bench.{new_id()}"
        common = {"callId": call, "direction": "in", "from": "0864427139", "to": "1129"}
        events = [
            {**common, "event": "newCall", "timestamp": "2026-11-18T08:02:11+07:00"},
            {
                **common,
                "event": "answer",
                "timestamp": "2026-11-18T08:04:35+07:00",
                "user": "A1023",
                "queue": "1129-fault",
                "ivr_path": ["lang:th", "main:1:report_fault", "fault:1:outage"],
            },
            {
                **common,
                "event": "hangup",
                "timestamp": "2026-11-18T08:09:02+07:00",
                "cause": "normalClearing",
                "duration_s": 411,
                "talk_s": 267,
            },
        ]
        for event in events:
            start = time.perf_counter()
            answer = await client.post("/v1/phone/events", json=event, headers=headers)
            tally.latencies.append(time.perf_counter() - start)
            tally.requests += 1
            if answer.status_code == 202:
                tally.contacts += len(answer.json()["contacts"])
            else:
                tally.fail(str(answer.status_code))

    return step


def email_step(smtp: aiosmtplib.SMTP) -> Step:
    """Return one client's request: a sample mail under a fresh Message-ID."""
    sample = (DATA / "email" / "utf8_plain.eml").read_bytes()
    head, _, rest = sample.partition(b"Message-ID: ")
    _, _, tail = rest.partition(b"\n")

    async def step(tally: Tally) -> None:
        mail = head + f"Message-ID: <{new_id()}@bench.example>".encode() + b"\n" + tail
        start = time.perf_counter()
        try:
            await smtp.sendmail("wanida.srisuk@example.com", ["contact1129@pea-demo.example"], mail)
        except aiosmtplib.SMTPResponseException as refused:
            tally.fail(str(refused.code))
        else:
            tally.contacts += 1
        tally.latencies.append(time.perf_counter() - start)
        tally.requests += 1

    return step


async def drive(steps: list[Step], seconds: float, max_requests: int) -> tuple[Tally, float]:
    """Run every client's step in a closed loop until time or the request budget runs out."""
    tally = Tally()
    deadline = time.perf_counter() + seconds

    async def client(step: Step) -> None:
        while time.perf_counter() < deadline and tally.requests < max_requests:
            await step(tally)

    start = time.perf_counter()
    await asyncio.gather(*(client(step) for step in steps))
    return tally, time.perf_counter() - start


async def run_channel(channel: str, args: argparse.Namespace, base_url: str, smtp_port: int) -> Any:
    """Warm the channel up briefly, then measure it; return its tally and duration."""
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30)
        )
        steps: list[Step]
        if channel == "line":
            steps = [line_step(http, args.line_batch, args.bots) for _ in range(args.clients)]
        elif channel == "app":
            steps = [app_step(http) for _ in range(args.clients)]
        elif channel == "phone":
            steps = [phone_step(http) for _ in range(args.clients)]
        else:
            steps = []
            for _ in range(args.clients):
                smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port, timeout=30)
                await stack.enter_async_context(smtp)
                steps.append(email_step(smtp))
        await drive(steps, min(1.0, args.seconds), args.max_requests)  # connections, caches
        return await drive(steps, args.seconds, args.max_requests)


async def queued_contacts(amqp_url: str) -> int:
    """Return how many contacts wait in privacy's queue: what the broker confirmed."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("privacy.contacts", passive=True)
        return int(queue.declaration_result.message_count or 0)


def percentile(values: list[float], q: int) -> float:
    """Return the ``q``-th percentile of ``values`` in milliseconds."""
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


async def measure(args: argparse.Namespace, config: dict[str, Any], process: Any) -> None:
    """Wait for intake, drive each channel, print the table."""
    base_url = f"http://127.0.0.1:{config['settings']['intake_port']}"
    smtp_port = config["settings"]["smtp_port"]
    await wait_ready(base_url, smtp_port, process)
    before = await queued_contacts(config["amqp_url"])
    print(
        f"intake on RabbitMQ (confirms) and the embedded store; {args.clients} clients, "
        f"{args.seconds:g} s a channel, LINE batches of {args.line_batch} from {args.bots} bots"
    )
    print(
        f"{'channel':<8}{'requests':>10}{'contacts':>10}{'seconds':>9}"
        f"{'contacts/s':>12}{'p50 ms':>9}{'p99 ms':>9}  refused"
    )
    total = 0
    for channel in args.channels:
        tally, seconds = await run_channel(channel, args, base_url, smtp_port)
        total += tally.contacts
        refused = ", ".join(f"{code}: {n}" for code, n in sorted(tally.failures.items())) or "-"
        print(
            f"{channel:<8}{tally.requests:>10}{tally.contacts:>10}{seconds:>9.1f}"
            f"{tally.contacts / seconds:>12.0f}{percentile(tally.latencies, 50):>9.1f}"
            f"{percentile(tally.latencies, 99):>9.1f}  {refused}"
        )
    queued = await queued_contacts(config["amqp_url"]) - before
    print(f"contacts on the bus: {queued} (answered accepted, warm-up included)")


def main() -> None:
    """Parse the options, start the store, the broker's vhost and intake, and measure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time a channel")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--line-batch", type=int, default=10, help="events per LINE request")
    parser.add_argument("--bots", type=int, default=4, help="LINE bots (destinations)")
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap per channel")
    parser.add_argument("--channels", default=",".join(CHANNELS))
    parser.add_argument("--profile", help="write intake's cProfile stats to this file")
    args = parser.parse_args()
    args.channels = [c for c in args.channels.split(",") if c]
    if unknown := set(args.channels) - set(CHANNELS):
        parser.error(f"unknown channels: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        store = EmbeddedMongo(Path(tmp) / "mongo")
        mongo_url = store.start()
        try:
            with private_vhost("bench-intake") as amqp_url:
                config: dict[str, Any] = {
                    "amqp_url": amqp_url,
                    "mongo_url": mongo_url,
                    "log": str(Path(tmp) / "intake.log"),
                    "profile": args.profile,
                    "settings": {
                        "intake_port": free_port(),
                        "smtp_port": free_port(),
                        "mongo_db_prefix": "bench",
                        "line_channel_secret": LINE_SECRET,
                        "line_api_base": "http://127.0.0.1:9",  # never LINE itself
                        "app_api_keys": [APP_KEY],
                        "cti_tokens": [PBX_TOKEN],
                    },
                }
                with intake_process(config) as process:
                    asyncio.run(measure(args, config, process))
        finally:
            store.stop()
    if args.profile:
        stats = pstats.Stats(args.profile)
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
