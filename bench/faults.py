"""Fault injection: stream contacts, break things mid-stream, account for every contact.

The whole system runs as ``vocdesk up`` runs it (the supervisor, one process
per service, the embedded store) on a private RabbitMQ node this script
starts on ports of its own (its own node name, data and log directories, no
management plugin), so killing the broker never touches anyone else's. App
contacts are streamed at ``--rate`` per second by clients that retry as real
ones do (same Idempotency-Key, on timeouts, 409 "in progress" and 503 with
Retry-After). Mid-stream one fault is injected:

- ``rabbitmq``: kill -9 of the broker, restarted after 5 s;
- ``intake``, ``privacy``, ``routing``, ``notify``, ``console``: kill -9 of the service;
- ``store``: kill -9 of the embedded store; ``store-pause``: SIGSTOP for 20 s;
- ``poison``: undecodable messages published into privacy's queue;
- ``duplicates``: every contact sent twice under its key, and copies of
  ``contact.received`` envelopes published again;
- ``rolling``: SIGHUP to the supervisor, which restarts every service in
  turn (SIGTERM, drain, start, ready) while the stream goes on.

Each scenario reports contacts sent, accepted, lost (accepted but in no case
after the drain), duplicated (a contact held twice, or two contact ids for one
key), dead letters, and recovery time (fault to every ``/readyz`` green). The
soak (``--soak SECONDS``) streams at a constant rate and samples queue depth
and contact-to-case latency each ``--sample`` seconds.

    python bench/faults.py [--scenarios all|rabbitmq,intake,...] [--contacts 300]
                           [--rate 20] [--soak 600 --soak-rate 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from pymongo import MongoClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.registry import SERVICES  # noqa: E402
from shared.embedded import free_port  # noqa: E402
from shared.ids import new_id  # noqa: E402
from shared.messages import Envelope  # noqa: E402

APP_KEY = "faults-app-key"
PREFIX = "faults"
ALL = [
    "rabbitmq",
    "intake",
    "privacy",
    "routing",
    "notify",
    "console",
    "store",
    "store-pause",
    "poison",
    "duplicates",
    "rolling",
]


class Broker:
    """A RabbitMQ node of this run's own, on ports nobody else uses."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.dist_port = free_port()
        host = socket.gethostname().split(".")[0]
        self.node = f"faults-{new_id().lower()[-8:]}@{host}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "enabled_plugins").write_text("[].\n")
        (self.base / "rabbitmq.conf").write_text("loopback_users.guest = true\n")
        env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),
            "RABBITMQ_PID_FILE": str(self.base / "pid"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(self.base / "feature_flags"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(self.base / "plugins-expand"),
            "ERL_CRASH_DUMP": str(self.base / "erl_crash.dump"),
        }
        for sub in ("mnesia", "log", "plugins-expand"):
            (self.base / sub).mkdir(exist_ok=True)
        _hand_to_rabbitmq(self.base)
        log = (self.base / "server.out").open("ab")
        self.process = subprocess.Popen(
            ["rabbitmq-server"], cwd=self.base, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if _port_open(self.port):
                return
            time.sleep(0.5)
        raise RuntimeError("private RabbitMQ node did not start")

    def kill(self) -> None:
        # The server script runs the VM as a child: kill the whole group of the node.
        pid_file = self.base / "pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait()
        while _port_open(self.port):
            time.sleep(0.2)

    def stop(self) -> None:
        self.kill()


def _hand_to_rabbitmq(base: Path) -> None:
    # Started as root, rabbitmq-server drops to the rabbitmq user, which must
    # be able to reach and write the node's directories.
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam("rabbitmq")
    except KeyError:
        return
    for parent in [base, *base.parents]:
        if parent == Path(tempfile.gettempdir()) or parent == parent.parent:
            break
        parent.chmod(parent.stat().st_mode | 0o755)
    for path in [base, *base.rglob("*")]:
        shutil.chown(path, "rabbitmq", "rabbitmq")


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class System:
    """``vocdesk up`` on the private broker, and what its output says."""

    def __init__(self, tmp: Path, broker: Broker) -> None:
        self.tmp = tmp
        self.broker = broker
        self.ports = {s: free_port() for s in SERVICES}
        self.out = tmp / "up.out"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "VOCDESK_AMQP_URL": self.broker.url,
            "VOCDESK_DATA_DIR": str(self.tmp / "var"),
            "VOCDESK_ADMIN_PASSWORD": "Faults-bench-Pw-7781",
            "VOCDESK_APP_API_KEYS": APP_KEY,
            "VOCDESK_MONGO_DB_PREFIX": PREFIX,
            "VOCDESK_SMTP_PORT": str(free_port()),
            "VOCDESK_LOG_LEVEL": "WARNING",
            **{f"VOCDESK_{s.upper()}_PORT": str(p) for s, p in self.ports.items()},
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up"],
            cwd=REPO,
            env=env,
            stdout=self.out.open("wb"),
            stderr=subprocess.STDOUT,
        )
        if not asyncio.run(self.wait_ready(180)):
            raise RuntimeError(f"system not ready; see {self.out}")

    def pid(self, what: str) -> int:
        found = re.findall(rf"{re.escape(what)} (?:running|restarted) as pid (\d+)", self.text())
        return int(found[-1])

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    @property
    def mongo_url(self) -> str:
        return (self.tmp / "var" / "mongo.url").read_text().strip()

    async def ready(self) -> dict[str, bool]:
        async with httpx.AsyncClient(timeout=2) as client:
            result = {}
            for service, port in self.ports.items():
                try:
                    answer = await client.get(f"http://127.0.0.1:{port}/readyz")
                    result[service] = answer.status_code == 200
                except httpx.HTTPError:
                    result[service] = False
            return result

    async def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all((await self.ready()).values()):
                return True
            await asyncio.sleep(0.5)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Result:
    """What one scenario measured."""

    scenario: str
    sent: int = 0
    accepted: int = 0
    lost: int = 0
    duplicated: int = 0
    unanswered: int = 0
    dead_letters: int = 0
    recovery_s: float | None = None
    drained_s: float | None = None
    client_retries: int = 0
    notes: list[str] = field(default_factory=list)


async def _send(
    client: httpx.AsyncClient, url: str, key: str, text: str, result: Result, *, give_up: float
) -> str | None:
    """Send one contact until it is accepted, as a real client would; return its id."""
    body = {
        "app_user_id": f"u-{key[-6:]}",
        "text": text,
        "locale": "th-TH",
        "consent_to_disclose": False,
        # A customer of their own per contact: one customer's stream joins one
        # case, which measures contention on that case, not the pipeline.
        "customer": {
            "name": "ลูกค้า ทดสอบ",
            "phone": f"08{abs(hash(key)) % 10**8:08d}",
            "email": f"{key.lower()}@example.com",
        },
    }
    headers = {"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": key}
    deadline = time.monotonic() + give_up
    pause = 0.5
    while time.monotonic() < deadline:
        try:
            answer = await client.post(url, json=body, headers=headers, timeout=10)
            if answer.status_code == 202:
                return str(answer.json()["id"])
            if answer.status_code not in (409, 429, 500, 502, 503):
                result.notes.append(f"refused {answer.status_code}: {answer.text[:120]}")
                return None
            pause = float(answer.headers.get("Retry-After", pause))
        except httpx.HTTPError:
            pass
        result.client_retries += 1
        await asyncio.sleep(min(pause, 5.0))
        pause = min(pause * 2, 5.0)
    return None


async def _stream(
    system: System, result: Result, *, count: int, rate: float, twice: bool = False
) -> dict[str, list[str]]:
    """Send ``count`` contacts at ``rate``/s; return each key's answered contact ids."""
    url = f"http://127.0.0.1:{system.ports['intake']}/v1/app/contacts"
    answers: dict[str, list[str]] = {}
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one(key: str) -> None:
            text = f"ไฟดับทั้งซอย ทดสอบ {key}"
            for _ in range(2 if twice else 1):
                got = await _send(client, url, key, text, result, give_up=180)
                if got is not None:
                    answers.setdefault(key, []).append(got)

        tasks = []
        start = time.monotonic()
        for n in range(count):
            key = f"{result.scenario}-{n}-{new_id()[-6:]}"
            result.sent += 1
            tasks.append(asyncio.create_task(one(key)))
            await asyncio.sleep(max(0.0, start + (n + 1) / rate - time.monotonic()))
        await asyncio.gather(*tasks)
    return answers


async def _inject(system: System, broker: Broker, scenario: str, result: Result) -> float:
    """Break what ``scenario`` names; return when the fault started (monotonic)."""
    at = time.monotonic()
    if scenario == "rabbitmq":
        await asyncio.to_thread(broker.kill)
        await asyncio.sleep(5)
        await asyncio.to_thread(broker.start)
    elif scenario in SERVICES:
        os.kill(system.pid(scenario), signal.SIGKILL)
    elif scenario == "store":
        os.kill(system.pid("embedded store"), signal.SIGKILL)
    elif scenario == "store-pause":
        pid = system.pid("embedded store")
        os.kill(pid, signal.SIGSTOP)
        await asyncio.sleep(20)
        os.kill(pid, signal.SIGCONT)
    elif scenario == "poison":
        await _publish_poison(broker, 20)
    elif scenario == "duplicates":
        result.notes.append("every contact sent twice under its key; envelopes republished")
    elif scenario == "rolling":
        # SIGHUP: the supervisor restarts the services one by one, each after
        # the previous answers /readyz again, while contacts keep coming.
        assert system.process is not None
        mark = len(system.text())
        system.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if "rolling restart done" in system.text()[mark:]:
                break
            await asyncio.sleep(0.5)
        result.notes.append(f"rolling restart took {time.monotonic() - at:.1f} s")
    return at


async def _publish_poison(broker: Broker, count: int) -> None:
    connection = await aio_pika.connect(broker.url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange("vocdesk.events")
        for n in range(count):
            body = (
                b"{not json"
                if n % 2
                else json.dumps(
                    {
                        "id": new_id(),
                        "type": "contact.received",
                        "version": 99,
                        "occurred_at": "2026-01-01T00:00:00+00:00",
                        "correlation_id": new_id(),
                        "routing_key": "contact.received.app",
                        "data": {},
                    }
                ).encode()
            )
            await exchange.publish(aio_pika.Message(body), routing_key="contact.received.app")


async def _republish_received(broker: Broker, seconds: float) -> int:
    """Read copies of contact.received from privacy's queue and publish them again."""
    connection = await aio_pika.connect(broker.url)
    copies = 0
    async with connection:
        channel = await connection.channel()
        mirror = await channel.declare_queue(exclusive=True)
        await mirror.bind("vocdesk.events", routing_key="contact.received.*")
        exchange = await channel.get_exchange("vocdesk.events")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = await mirror.get(fail=False)
            if message is None:
                await asyncio.sleep(0.1)
                continue
            await message.ack()
            if Envelope.from_json(message.body).type == "contact.received" and copies < 200:
                await exchange.publish(
                    aio_pika.Message(message.body, message_id=message.message_id),
                    routing_key=message.routing_key or "contact.received.app",
                )
                copies += 1
    return copies


def _cases(system: System, opened: dict[str, float] | None = None) -> dict[str, int]:
    """Return how many times each contact id is held across routing's cases.

    With ``opened``, also note when the case holding each contact was opened.
    """
    held: dict[str, int] = {}
    with MongoClient(system.mongo_url, serverSelectionTimeoutMS=5000, tz_aware=True) as client:
        cases = client[f"{PREFIX}_routing"]["cases"]
        for doc in cases.find({}, {"contacts.contact_id": 1, "created_at": 1}):
            for contact in doc.get("contacts", []):
                held[contact["contact_id"]] = held.get(contact["contact_id"], 0) + 1
                if opened is not None and doc.get("created_at") is not None:
                    opened.setdefault(contact["contact_id"], doc["created_at"].timestamp())
    return held


async def _queue_depths(broker: Broker) -> dict[str, int]:
    depths = {}
    connection = await aio_pika.connect(broker.url)
    async with connection:
        channel = await connection.channel()
        for name in ("privacy.contacts", "routing.contacts", "notify.events", "console.events"):
            for queue_name in (name, f"{name}.dead"):
                with contextlib.suppress(Exception):
                    queue = await channel.declare_queue(queue_name, passive=True)
                    depths[queue_name] = int(queue.declaration_result.message_count or 0)
    return depths


async def _account(
    system: System, answers: dict[str, list[str]], result: Result, *, drain: float
) -> None:
    ids = {i for got in answers.values() for i in got}
    result.accepted = len(answers)
    result.unanswered = result.sent - len(answers)
    result.duplicated = sum(1 for got in answers.values() if len(set(got)) > 1)
    start = time.monotonic()
    held: dict[str, int] = {}
    while time.monotonic() - start < drain:
        with contextlib.suppress(Exception):
            held = await asyncio.to_thread(_cases, system)
            if ids <= held.keys():
                result.drained_s = round(time.monotonic() - start, 1)
                break
        await asyncio.sleep(2)
    result.lost = len(ids - held.keys())
    result.duplicated += sum(1 for i in ids if held.get(i, 0) > 1)


async def scenario(system: System, broker: Broker, name: str, args: argparse.Namespace) -> Result:
    """Stream, inject ``name`` a third of the way in, drain and account."""
    result = Result(scenario=name)
    before = await _queue_depths(broker)
    stream = asyncio.create_task(
        _stream(system, result, count=args.contacts, rate=args.rate, twice=name == "duplicates")
    )
    mirror = None
    if name == "duplicates":
        mirror = asyncio.create_task(_republish_received(broker, args.contacts / args.rate))
    await asyncio.sleep(args.contacts / args.rate / 3)
    at = await _inject(system, broker, name, result)
    await asyncio.sleep(1)
    while not all((await system.ready()).values()):
        await asyncio.sleep(0.5)
        if time.monotonic() - at > 300:
            result.notes.append("not ready 300 s after the fault")
            break
    result.recovery_s = round(time.monotonic() - at, 1)
    answers = await stream
    if mirror is not None:
        result.notes.append(f"{await mirror} envelopes published a second time")
    await _account(system, answers, result, drain=args.drain)
    after = await _queue_depths(broker)
    result.dead_letters = sum(
        after.get(q, 0) - before.get(q, 0) for q in after if q.endswith(".dead")
    )
    return result


async def soak(system: System, broker: Broker, args: argparse.Namespace) -> dict[str, Any]:
    """Stream at a constant rate for ``args.soak`` seconds; sample depth and latency."""
    result = Result(scenario="soak")
    samples: list[dict[str, Any]] = []
    url = f"http://127.0.0.1:{system.ports['intake']}/v1/app/contacts"
    accepted: dict[str, float] = {}
    answers: dict[str, list[str]] = {}
    seen_case: dict[str, float] = {}

    async def sampler() -> None:
        start = time.monotonic()
        while time.monotonic() - start < args.soak + 5:
            await asyncio.sleep(args.sample)
            opened: dict[str, float] = {}
            await asyncio.to_thread(_cases, system, opened)
            now = time.monotonic()
            window = time.time() - args.sample
            recent = [
                opened[c] - accepted[c]
                for c in opened.keys() & accepted.keys()
                if opened[c] > window and c not in seen_case
            ]
            for contact_id in opened.keys() & accepted.keys():
                seen_case.setdefault(contact_id, now)
            depths = await _queue_depths(broker)
            samples.append(
                {
                    "t": round(now - start),
                    "accepted": len(accepted),
                    "in_cases": len(seen_case),
                    "queued": sum(v for k, v in depths.items() if not k.endswith(".dead")),
                    "latency_p50_s": round(statistics.median(recent), 2) if recent else None,
                    "latency_max_s": round(max(recent), 2) if recent else None,
                }
            )
            print(json.dumps(samples[-1]), flush=True)

    async with httpx.AsyncClient() as client:
        sampling = asyncio.create_task(sampler())
        tasks = []
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < args.soak:
            key = f"soak-{n}-{new_id()[-6:]}"

            async def one(key: str = key) -> None:
                got = await _send(client, url, key, f"ไฟดับ soak {key}", result, give_up=120)
                if got is not None:
                    accepted[got] = time.time()
                    answers.setdefault(key, []).append(got)

            tasks.append(asyncio.create_task(one()))
            result.sent += 1
            n += 1
            await asyncio.sleep(max(0.0, start + n / args.soak_rate - time.monotonic()))
        await asyncio.gather(*tasks)
        await sampling
    await _account(system, answers, result, drain=args.drain)
    return {"result": asdict(result), "samples": samples}


async def main_async(args: argparse.Namespace) -> None:
    names = ALL if args.scenarios == "all" else [n for n in args.scenarios.split(",") if n]
    with tempfile.TemporaryDirectory(prefix="vocdesk-faults-") as tmp_name:
        tmp = Path(tmp_name)
        broker = Broker(tmp / "rabbitmq")
        broker.start()
        system = System(tmp, broker)
        try:
            await asyncio.to_thread(system.start)
            results = []
            for name in names:
                outcome = await scenario(system, broker, name, args)
                results.append(asdict(outcome))
                print(json.dumps(results[-1], ensure_ascii=False), flush=True)
            report: dict[str, Any] = {"scenarios": results}
            if args.soak:
                report["soak"] = await soak(system, broker, args)
            print(_markdown(results))
            if args.out:
                text = json.dumps(report, ensure_ascii=False, indent=2)
                await asyncio.to_thread(Path(args.out).write_text, text)
        finally:
            await asyncio.to_thread(system.stop)
            broker.stop()


def _markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| scenario | sent | accepted | lost | duplicated | dead letters | recovery s "
        "| drained s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['scenario']} | {r['sent']} | {r['accepted']} | {r['lost']} | "
            f"{r['duplicated']} | {r['dead_letters']} | {r['recovery_s']} | {r['drained_s']} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse arguments and run the scenarios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="all")
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--drain", type=float, default=240.0)
    parser.add_argument("--soak", type=float, default=0.0, help="seconds of constant-rate load")
    parser.add_argument("--soak-rate", type=float, default=3.0)
    parser.add_argument("--sample", type=float, default=30.0)
    parser.add_argument("--out", help="write the JSON report here")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
