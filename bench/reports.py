"""The monthly report over many cases: time per size, and what that says about 1,000,000.

    python bench/reports.py [--sizes 10000,30000] [--url mongodb://...]

Fills a fresh database with generated cases (the report's fields only, spread
over three months so the previous month and last year are read too), builds
the routing indexes, and times ``period_report`` for October. Without
``--url`` the store is the embedded SecantusDB server, a Python process: its
figures say how the report scales with size on this machine, not what a real
MongoDB does. The extrapolation to 1,000,000 is linear in the cases read; the
goal is under 5 s on a MongoDB replica set.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from services.routing.report_periods import period_report
from services.routing.store import CASE_INDEXES, CASES
from shared.clock import BANGKOK
from shared.embedded import EmbeddedMongo
from shared.ids import new_id
from shared.store import connect

GOAL_CASES = 1_000_000
GOAL_SECONDS = 5.0
NOW = datetime(2026, 11, 15, tzinfo=BANGKOK)


def _doc(rng: random.Random, n: int, created: datetime) -> dict[str, Any]:
    targets = {"first_response": 14400, "resolution": 86400}
    return {
        "_id": f"b{n}",
        "org": "pea",
        "number": f"B{n:08d}",
        "contacts": [{"contact_id": f"c{n}"}],
        "status": rng.choice(["closed", "resolved", "in_progress"]),
        "category": rng.choice(["complaint", "request", "inquiry"]),
        "topic": rng.choice(["billing", "outage", "meter", "voltage", "tree", "pole"]),
        "urgency": rng.choice(["normal", "high", "critical"]),
        "unit": f"pea-branch-{rng.randint(1, 40)}",
        "channel": rng.choice(["line", "app", "email", "phone", "walk_in"]),
        "area": {"province": f"p{rng.randint(1, 17)}", "district": f"d{rng.randint(1, 9)}"},
        "sla": {
            "targets": targets,
            "consumed": {t: rng.randint(600, 200_000) for t in targets},
            "met_at": {"first_response": "2026-10-02T00:00:00Z"},
        },
        "resolution": {"at": created + timedelta(hours=rng.randint(1, 72))},
        "closure": {"score": rng.randint(1, 5), "on_behalf": rng.random() < 0.05},
        "reopen_count": int(rng.random() < 0.05),
        "timeline": [{"type": "case.opened"}],
        "created_at": created,
    }


async def measure(url: str, size: int) -> tuple[float, float]:
    """Return (seconds to fill, seconds for the October report) for ``size`` October cases."""
    store = connect(url, f"bench_reports_{new_id().lower()}", timeout_ms=60_000)
    rng = random.Random(size)
    try:
        await store[CASES].create_indexes(CASE_INDEXES)
        started = time.perf_counter()
        # October carries ``size`` cases; September and last October a tenth each.
        months = ((2026, 10, size), (2026, 9, size // 10), (2025, 10, size // 10))
        n = 0
        for year, month, count in months:
            first = datetime(year, month, 1, tzinfo=BANGKOK)
            batch = []
            for _ in range(count):
                batch.append(_doc(rng, n, first + timedelta(minutes=rng.randint(0, 29 * 24 * 60))))
                n += 1
                if len(batch) == 2000:
                    await store[CASES].insert_many(batch)
                    batch = []
            if batch:
                await store[CASES].insert_many(batch)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        report = await period_report(
            store, org="pea", kind="monthly", year=2026, number=10, now=NOW
        )
        took = time.perf_counter() - started
        assert report["cases"] == size
        return filled, took
    finally:
        await store.client.drop_database(store.db.name)
        await store.client.close()


async def main() -> None:
    """Time the report at each size and print the figures and the extrapolation."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,30000")
    parser.add_argument("--url", help="a MongoDB to measure instead of the embedded store")
    args = parser.parse_args()
    embedded = None
    url = args.url
    if url is None:
        embedded = EmbeddedMongo(Path(tempfile.mkdtemp(prefix="bench-reports-")) / "data")
        url = embedded.start()
    try:
        rates = []
        print(f"store: {'embedded SecantusDB' if embedded else url}")
        print(f"{'cases':>10} {'fill s':>8} {'report s':>9} {'cases/s':>10}")
        for size in (int(s) for s in args.sizes.split(",")):
            filled, took = await measure(url, size)
            rates.append(size * 1.2 / took)  # the report also reads the two comparison months
            print(f"{size:>10} {filled:>8.1f} {took:>9.2f} {size / took:>10.0f}")
        estimate = GOAL_CASES * 1.2 / min(rates)
        print(
            f"extrapolated to {GOAL_CASES:,} cases on this store: {estimate:.0f} s "
            f"(goal {GOAL_SECONDS:.0f} s on MongoDB)"
        )
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    asyncio.run(main())
