"""Store round trips per contact, by service, command and collection.

Runs privacy and routing in process on real RabbitMQ (a private virtual host)
and the embedded store, publishes ``--contacts`` LINE contacts the way intake
does once a channel accepted them, waits until each is in a case, and prints
every command the two services sent to the store, per contact, grouped by
service, command and collection, with the batch size and wait of each
service's contact consumer. Idle traffic (readiness, relays, sweeps)
is measured for the same time without contacts and subtracted.

    python bench/store_ops.py [--contacts 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, monitoring

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import tests.support.desk as desk_module  # noqa: E402
from services.privacy import handlers as privacy_handlers  # noqa: E402
from services.routing import handlers as routing_handlers  # noqa: E402
from services.routing.cases import store as case_store  # noqa: E402
from shared.embedded import EmbeddedMongo  # noqa: E402
from shared.ids import new_id  # noqa: E402
from shared.store import Store  # noqa: E402
from tests.support.messages import line_contact  # noqa: E402


class Counted(monitoring.CommandListener):
    """Count the commands one service sends, by command and collection."""

    def __init__(self, service: str, seen: Counter[tuple[str, str, str]]) -> None:
        self.service, self.seen = service, seen

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        collection = target if isinstance(target, str) else "-"
        self.seen[(self.service, event.command_name, collection)] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def measure(mongo_url: str, tmp: Path, contacts: int) -> dict[str, Any]:
    seen: Counter[tuple[str, str, str]] = Counter()

    def open_store(settings: Any, service: str, url: str) -> Store:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, tz_aware=True, event_listeners=[Counted(service, seen)]
        )
        return Store(client, f"{settings.mongo_db_prefix}_{service}")

    desk_module.open_store = open_store  # type: ignore[assignment]
    async with desk_module.running_desk(mongo_url, tmp) as desk:
        await asyncio.sleep(2)
        seen.clear()
        top_before = await _top(mongo_url)
        started = time.monotonic()
        sent = [line_contact("U" + new_id().lower().rjust(32, "3")[:32]) for _ in range(contacts)]
        for contact in sent:
            await desk.receive(contact)
        store = desk.runtimes["routing"].store
        while True:
            cased = await store[case_store.CASES].count_documents({})
            if cased >= contacts:
                break
            await asyncio.sleep(0.5)
        took = time.monotonic() - started
        top_after = await _top(mongo_url)
        busy = Counter(seen)
        seen.clear()
        await asyncio.sleep(took)
        idle = Counter(seen)
    per = {k: (busy[k] - idle.get(k, 0)) / contacts for k in busy}
    store_ms = {
        key: (top_after[key] - top_before.get(key, 0)) / 1000 / contacts for key in top_after
    }
    return {"took_s": took, "per_contact": per, "store_ms": store_ms}


TOP_OPS = ("insert", "queries", "update", "remove", "getmore", "commands")


async def _top(mongo_url: str) -> Counter[tuple[str, str]]:
    """Return the store's own time (microseconds) by collection and kind of operation."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        totals = (await client.admin.command("top"))["totals"]
    finally:
        await client.close()
    return Counter(
        {
            (ns, op): int(counts[op]["time"])
            for ns, counts in totals.items()
            if isinstance(counts, dict)
            for op in TOP_OPS
            if op in counts
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vocdesk-ops-") as tmp_name:
        tmp = Path(tmp_name)
        server = EmbeddedMongo(tmp / "mongo")
        url = server.start()
        try:
            result = asyncio.run(measure(url, tmp, args.contacts))
        finally:
            server.stop()
    per = result["per_contact"]
    print(f"{args.contacts} contacts cased in {result['took_s']:.1f} s")
    for name, module in (("privacy", privacy_handlers), ("routing", routing_handlers)):
        wait_ms = module.BATCH_WAIT_S * 1000
        print(f"{name} batches: up to {module.BATCH_SIZE} contacts or {wait_ms:.0f} ms")
    print("| service | command | collection | per contact |\n|---|---|---|---|")
    for (service, command, collection), n in sorted(per.items(), key=lambda kv: -kv[1]):
        if n >= 0.05:
            print(f"| {service} | {command} | {collection} | {n:.2f} |")
    for service in sorted({k[0] for k in per}):
        total = sum(n for k, n in per.items() if k[0] == service)
        print(f"{service}: {total:.1f} round trips per contact")
    print(f"all: {sum(per.values()):.1f} round trips per contact")
    print("| collection | operation | store ms per contact |\n|---|---|---|")
    store_ms = result["store_ms"]
    for (ns, op), ms in sorted(store_ms.items(), key=lambda kv: -kv[1]):
        if ms >= 0.05:
            print(f"| {ns} | {op} | {ms:.2f} |")
    print(f"store time: {sum(store_ms.values()):.1f} ms per contact")


if __name__ == "__main__":
    main()
