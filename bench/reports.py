"""The monthly report from the day rollups: build time, report time, store size, per size.

    python bench/reports.py [--sizes 10000,30000] [--runs 5] [--url mongodb://...]
    python bench/reports.py --goal     # 1,000,000 October cases: the requirement's size

Fills a fresh database with generated cases, written straight into the
``cases`` collection in bulk (the report's fields only; October carries the
size, the previous month and last October a tenth each), with the indexes
the rollups use. Then builds the day rollups from the cases
(``report_rollups.rebuild``, as a report does for days it finds missing),
and times ``period_report`` for October several times: it adds up the
rollups of October, September and October last year and never reads a
case. Last, one October case is edited as routing writes it, and the next
report, which rebuilds that case's day from its cases first, is timed too.

Durations are as the SLA clock stores them (seconds with microseconds), so
the histograms hold about one value per case: the worst case for their size.
Without ``--url`` the store is the embedded SecantusDB server, a Python
process whose figures are this machine's; the goal is 5 s for 1,000,000.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, IndexModel

from services.routing.cases.store import CASES
from services.routing.reports.days import (
    PENDING,
    day_key,
    day_of,
    day_start,
    days_between,
    report_mark,
)
from services.routing.reports.periods import period_bounds, period_report
from services.routing.reports.rollups import rebuild
from services.routing.reports.store import INDEXES, ROLLUPS
from shared.clock import BANGKOK
from shared.embedded import EmbeddedMongo
from shared.ids import new_id
from shared.store import Store, connect

GOAL_CASES = 1_000_000
GOAL_SECONDS = 5.0
NOW = datetime(2026, 11, 15, tzinfo=BANGKOK)
ORG = "pea"
# What the rollups read cases by: a period's range and the marks of written cases.
INDEXES_USED = [
    IndexModel([("org", ASCENDING), ("created_at", ASCENDING)]),
    IndexModel(PENDING, sparse=True),
]
MONTHS = ((2026, 10, 1.0), (2026, 9, 0.1), (2025, 10, 0.1))
BATCH = 10_000


def _doc(rng: random.Random, n: int, created: datetime) -> dict[str, Any]:
    targets = {"first_response": 14400.0, "resolution": 86400.0}
    resolved = rng.random() < 0.7
    return {
        "_id": f"b{n}",
        "org": ORG,
        "number": f"B{n:08d}",
        "version": 1,
        "contacts": [{"contact_id": f"c{n}"}],
        "status": rng.choice(["closed", "resolved", "in_progress"]),
        "category": rng.choice(["complaint", "request", "inquiry"]),
        "topic": rng.choice(["billing", "outage", "meter", "voltage", "tree", "pole"]),
        "urgency": rng.choice(["normal", "high", "urgent"]),
        "unit": f"pea-branch-{rng.randint(1, 40)}",
        "channel": rng.choice(["line", "app", "email", "phone", "walk_in"]),
        "area": {"province": f"p{rng.randint(1, 17)}", "district": f"d{rng.randint(1, 9)}"},
        "sla": {
            "targets": targets,
            "consumed": {t: round(rng.uniform(600, 200_000), 6) for t in targets},
            "met_at": {
                "first_response": "2026-10-02T00:00:00Z",
                **({"resolution": "2026-10-03T00:00:00Z"} if resolved else {}),
            },
        },
        "resolution": (
            {"at": created + timedelta(seconds=rng.randint(600, 72 * 3600), milliseconds=n % 997)}
            if resolved
            else None
        ),
        "closure": {"score": rng.randint(1, 5), "on_behalf": rng.random() < 0.05},
        "reopen_count": int(rng.random() < 0.05),
        "timeline": [{"type": "case.opened"}],
        "created_at": created,
    }


async def fill(store: Store, size: int) -> int:
    """Write ``size`` October cases and the comparison months' in bulk; return how many."""
    rng = random.Random(size)
    n = 0
    for year, month, share in MONTHS:
        start, end, _ = period_bounds("monthly", year, month)
        span = int((end - start).total_seconds() * 1000)
        batch = []
        for _ in range(int(size * share)):
            batch.append(_doc(rng, n, start + timedelta(milliseconds=rng.randrange(span))))
            n += 1
            if len(batch) == BATCH:
                await store[CASES].insert_many(batch, ordered=False)
                batch = []
        if batch:
            await store[CASES].insert_many(batch, ordered=False)
    return n


async def report_seconds(store: Store) -> float:
    """Return how long October's report takes."""
    started = time.perf_counter()
    await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
    return time.perf_counter() - started


async def sizes(store: Store) -> tuple[int, int, int]:
    """Return the bytes of the cases, of their indexes, and of the day rollups."""
    cases = await store.db.command("collStats", CASES)
    rollups = await store.db.command("collStats", ROLLUPS)
    return int(cases["size"]), int(cases["totalIndexSize"]), int(rollups["size"])


async def measure(url: str, size: int, runs: int) -> dict[str, float]:
    """Fill, build and time the October report for ``size`` October cases."""
    store = connect(url, f"bench_reports_{new_id().lower()}", timeout_ms=600_000)
    try:
        await store[CASES].create_indexes(INDEXES_USED)
        await store.ensure_indexes(INDEXES)
        started = time.perf_counter()
        total = await fill(store, size)
        filled = time.perf_counter() - started

        keys = []
        for year, month, _ in MONTHS:
            start, end, _ = period_bounds("monthly", year, month)
            keys += [day_key(ORG, day) for day in days_between(start, end)]
        started = time.perf_counter()
        await rebuild(store, keys)
        built = time.perf_counter() - started

        took = [await report_seconds(store) for _ in range(runs)]
        report = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
        assert report["cases"] == size, report["cases"]

        # A late edit in October: the case is written with its day's mark, as routing writes it.
        edited = await store[CASES].find_one({"_id": "b0"})
        assert edited is not None
        await store[CASES].update_one(
            {"_id": "b0"},
            {
                "$set": {"topic": "meter", **report_mark(ORG, edited["created_at"])},
                "$inc": {"version": 1},
            },
        )
        after_edit = await report_seconds(store)
        day_cases = await store[CASES].count_documents(
            {"org": ORG, "created_at": _day_range(edited["created_at"])}
        )
        case_bytes, index_bytes, rollup_bytes = await sizes(store)
        return {
            "cases": size,
            "stored": total,
            "fill_s": filled,
            "build_s": built,
            "p50_s": statistics.median(took),
            "max_s": max(took),
            "after_edit_s": after_edit,
            "day_cases": day_cases,
            "case_mb": case_bytes / 1e6,
            "index_mb": index_bytes / 1e6,
            "rollup_mb": rollup_bytes / 1e6,
        }
    finally:
        await store.client.drop_database(store.db.name)
        await store.client.close()


def _day_range(at: datetime) -> dict[str, datetime]:
    start = day_start(day_of(at))
    return {"$gte": start, "$lt": start + timedelta(days=1)}


async def main() -> None:
    """Measure each size and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,30000")
    parser.add_argument("--goal", action="store_true", help=f"measure {GOAL_CASES:,} cases")
    parser.add_argument("--runs", type=int, default=5, help="reports timed per size")
    parser.add_argument("--url", help="a MongoDB to measure instead of the embedded store")
    args = parser.parse_args()
    embedded = None
    url = args.url
    folder = tempfile.TemporaryDirectory(prefix="bench-reports-")
    if url is None:
        embedded = EmbeddedMongo(Path(folder.name) / "data")
        url = embedded.start()
    try:
        print(f"store: {'embedded SecantusDB' if embedded else url}; {args.runs} reports per size")
        print(
            f"{'october':>10} {'stored':>10} {'fill s':>8} {'build s':>8} {'p50 s':>7} "
            f"{'max s':>7} {'edit s':>7} {'day':>6} {'cases MB':>9} {'index MB':>9} "
            f"{'rollup MB':>9}"
        )
        wanted = [GOAL_CASES] if args.goal else [int(s) for s in args.sizes.split(",")]
        for size in wanted:
            f = await measure(url, size, args.runs)
            print(
                f"{f['cases']:>10,.0f} {f['stored']:>10,.0f} {f['fill_s']:>8.1f} "
                f"{f['build_s']:>8.1f} {f['p50_s']:>7.3f} {f['max_s']:>7.3f} "
                f"{f['after_edit_s']:>7.2f} {f['day_cases']:>6,.0f} {f['case_mb']:>9.0f} "
                f"{f['index_mb']:>9.0f} {f['rollup_mb']:>9.1f}",
                flush=True,
            )
        print(
            "p50/max: the October report from the rollups; edit: the report right after a "
            "late edit (its day, of 'day' cases, rebuilt first); "
            f"goal: {GOAL_SECONDS:.0f} s for {GOAL_CASES:,} October cases"
        )
    finally:
        if embedded is not None:
            embedded.stop()
        folder.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
