"""The console's live fan-out and queue under load, on the five services as processes.

    python bench/console.py [--clients 200] [--rate 10] [--duration 30] [--lists 200]

Starts the system on the embedded store and the real RabbitMQ, opens
``--clients`` live websockets (each with its own one-time ticket, as a page
does), streams app contacts at ``--rate`` per second for ``--duration``
seconds and measures, for every event every client receives, the time from
the event (its ``at``, stamped by routing as it happened) to its arrival at
the client. Meanwhile it times ``GET /api/v1/cases`` (the queue's first page,
and a view with a sort) through the console. Target: event-to-client p99 <
500 ms with 200 clients; queue list p99 < 200 ms (``bench/queue_list.py``
measures the list over 100,000 cases in routing itself).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import websockets

from shared.embedded import EmbeddedMongo
from shared.ids import new_id
from tests.support.cluster import APP_KEY, running_cluster

ADMIN_PASSWORD = "Bench-Console-Nan-4471"  # noqa: S105 - a throwaway install's


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    """Return p50, p95, p99 and max of ``values`` (milliseconds) and their count."""
    if len(values) < 2:
        return {"n": len(values), "p50": values[0] if values else None, "p95": None, "p99": None}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50": q[49], "p95": q[94], "p99": q[98], "max": max(values)}


async def client(
    console: str, token: str, lags: list[tuple[int, float]], ready: asyncio.Event
) -> None:
    """One page's live socket: record each case event's lag from when it happened."""
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            console + "/api/v1/live/ticket", headers={"Authorization": f"Bearer {token}"}
        )
        ticket = answer.json()["ticket"]
    url = console.replace("http", "ws", 1) + f"/api/v1/live?ticket={ticket}"
    async with websockets.connect(url, max_queue=None) as socket:
        ready.set()
        async for raw in socket:
            arrived = time.time()
            event = json.loads(raw)
            if "at" in event and event.get("case"):
                lag = (arrived - datetime.fromisoformat(event["at"]).timestamp()) * 1000
                lags.append((event["cursor"], lag))


async def stream(intake: str, rate: float, duration: float) -> int:
    """Send app contacts at ``rate`` per second; return how many were accepted."""
    accepted = 0
    async with httpx.AsyncClient(timeout=30) as http:
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < duration:
            body = {
                "app_user_id": f"bench-{new_id()}",
                "text": f"ไฟดับทั้งซอย หม้อแปลงมีเสียงดัง BENCH{n}",
                "locale": "th-TH",
                "consent_to_disclose": False,
            }
            answer = await http.post(
                intake + "/v1/app/contacts",
                json=body,
                headers={"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": new_id()},
            )
            accepted += answer.status_code == 202
            n += 1
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
    return accepted


async def lists(console: str, token: str, count: int, timings: dict[str, list[float]]) -> None:
    """Time the queue's list calls while the load runs."""
    queries = {
        "all": {"view": "all", "per_page": 25},
        "unassigned_due": {"view": "unassigned", "sort": "due", "per_page": 25},
        "counts": None,
    }
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        for i in range(count):
            name = list(queries)[i % len(queries)]
            params = queries[name]
            started = time.perf_counter()
            if params is None:
                answer = await http.get(console + "/api/v1/cases/counts")
            else:
                answer = await http.get(console + "/api/v1/cases", params=params)
            answer.raise_for_status()
            timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)


def handler_means(base: str) -> dict[str, float]:
    """Return each queue's mean handler time (ms) from the service's Prometheus metrics."""
    text = httpx.get(base + "/metrics", timeout=10).text
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in text.splitlines():
        for suffix, into in (("_sum", sums), ("_count", counts)):
            prefix = f'vocdesk_bus_handler_seconds{suffix}{{queue="'
            if line.startswith(prefix):
                queue, value = line[len(prefix) :].split('"}')
                into[queue] = float(value)
    return {q: round(1000 * sums[q] / counts[q], 1) for q in sums if counts.get(q)}


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="vocdesk-console-"))
    store = EmbeddedMongo(tmp / "store")
    mongo_url = store.start()
    env = {
        "VOCDESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "VOCDESK_LOG_LEVEL": "WARNING",
        "VOCDESK_RATE_APP_PER_S": "100000",
        "VOCDESK_RATE_APP_BURST": "100000",
    }
    try:
        with running_cluster(mongo_url, tmp, **env) as cluster:
            console = cluster.url("console")
            token = cluster.token("admin", ADMIN_PASSWORD)
            lags: list[tuple[int, float]] = []
            readies = [asyncio.Event() for _ in range(args.clients)]
            sockets = [
                asyncio.create_task(client(console, token, lags, ready)) for ready in readies
            ]
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=120)
            timings: dict[str, list[float]] = {}
            load = asyncio.create_task(stream(cluster.url("intake"), args.rate, args.duration))
            listing = asyncio.create_task(lists(console, token, args.lists, timings))
            accepted = await load
            await listing
            await asyncio.sleep(5)  # the last events reach every client
            for task in sockets:
                task.cancel()
            await asyncio.gather(*sockets, return_exceptions=True)
            handlers = {
                service: handler_means(cluster.url(service)) for service in ("routing", "console")
            }
            first: dict[int, float] = {}
            for cursor, lag in lags:
                first[cursor] = min(lag, first.get(cursor, lag))
            return {
                "clients": args.clients,
                "rate": args.rate,
                "duration_s": args.duration,
                "accepted": accepted,
                "events_received": len(lags),
                "events_per_client": len(lags) / args.clients,
                "event_to_client_ms": percentiles([lag for _, lag in lags]),
                # The first page to get an event: the pipeline up to the console's push.
                "event_to_first_client_ms": percentiles(list(first.values())),
                # How much later than the first page the others got it: the fan-out.
                "fanout_spread_ms": percentiles([lag - first[c] for c, lag in lags]),
                "list_ms": {name: percentiles(v) for name, v in timings.items()},
                "handler_mean_ms": handlers,
            }
    finally:
        store.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--lists", type=int, default=200)
    result = asyncio.run(bench(parser.parse_args()))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    lag = result["event_to_client_ms"]
    print(
        f"{result['clients']} clients, {result['events_received']} events received: "
        f"event→client p50 {lag['p50']:.0f} ms, p99 {lag['p99']:.0f} ms (target < 500 ms)"
    )
    up, spread = result["event_to_first_client_ms"], result["fanout_spread_ms"]
    print(f"event→first client p50 {up['p50']:.0f} ms, p99 {up['p99']:.0f} ms (the pipeline)")
    print(f"fan-out spread p50 {spread['p50']:.0f} ms, p99 {spread['p99']:.0f} ms")
    print(f"bus handler mean ms: {result['handler_mean_ms']}")
    for name, figures in result["list_ms"].items():
        print(f"queue {name}: p50 {figures['p50']:.0f} ms, p99 {figures['p99']:.0f} ms")


if __name__ == "__main__":
    main()
