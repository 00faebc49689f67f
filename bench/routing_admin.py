"""Measure routing administration: what re-reading the overrides costs each replica every few
seconds, and how long one change takes (store, log, re-read), as the overrides grow.

    python bench/routing_admin.py [--holidays 0,50,500] [--runs 20]

Every unit of the pea organisation gets a members override and every file policy an
override; ``--holidays`` ad-hoc holidays are spread over the business-hours calendars.
The store is VOCDESK_MONGO_URL if set, else the embedded server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.routing.admin.state import AdminState
from services.routing.classification.taxonomy import load_taxonomy
from services.routing.org.config import load_org
from shared.embedded import EmbeddedMongo
from shared.ids import new_id
from shared.store import connect

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


async def measure(url: str, holidays: int, runs: int) -> dict[str, float]:
    """Fill one organisation's overrides and time a re-read and a change (median ms)."""
    store = connect(url, f"bench_admin_{new_id().lower()}")
    taxonomy = load_taxonomy()
    org = load_org("pea", taxonomy=taxonomy)
    state = AdminState(store, org=org, taxonomy=taxonomy)
    try:
        for unit in org.units:
            members = {"members": [{"user": m.user} for m in unit.members]}
            await state.set_members(unit.id, members, by="bench", at=NOW)
        for policy in org.sla_policies:
            await state.set_policy(policy.id, policy.model_dump(mode="json"), by="bench", at=NOW)
        closable = [c.id for c in org.calendars if c.kind == "business_hours"]
        added, day = 0, NOW.date()
        while added < holidays:
            day += timedelta(days=1)
            for calendar_id in closable:
                if added < holidays and not org.business_calendars[calendar_id].is_holiday(day):
                    body = {"name": f"หยุด {added}"}
                    await state.add_holiday(calendar_id, str(day), body, by="bench", at=NOW)
                    added += 1
        refresh, change = [], []
        unit = org.units[0]
        for _ in range(runs):
            started = time.perf_counter()
            await state.refresh()
            refresh.append(time.perf_counter() - started)
            started = time.perf_counter()
            members = {"members": [{"user": m.user} for m in unit.members[:1]]}
            await state.set_members(unit.id, members, by="bench", at=NOW)
            change.append(time.perf_counter() - started)
        overrides = len(org.units) + len(org.sla_policies) + holidays
        return {
            "overrides": overrides,
            "refresh_ms": 1000 * statistics.median(refresh),
            "change_ms": 1000 * statistics.median(change),
        }
    finally:
        await store.client.drop_database(store.db.name)
        await store.client.close()


async def main() -> None:
    """Print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--holidays", default="0,50,500")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("VOCDESK_MONGO_URL")
    embedded = None
    if url is None:
        embedded = EmbeddedMongo(Path(tempfile.mkdtemp(prefix="bench-mongo-")) / "data")
        url = embedded.start()
    try:
        for holidays in (int(n) for n in args.holidays.split(",")):
            row = await measure(url, holidays, args.runs)
            print(
                f"overrides {row['overrides']:>4}: re-read {row['refresh_ms']:6.1f} ms, "
                f"one change (store, log, re-read) {row['change_ms']:6.1f} ms"
            )
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    asyncio.run(main())
