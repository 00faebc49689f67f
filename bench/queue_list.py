"""The workspace's case lists over many cases: each view × sort, page 1 and a deep page, counts.

    python bench/queue_list.py [--cases 100000] [--repeats 3] [--per-page 50] [--deep-page 100]
                               [--agent-views all,mine,...] [--url mongodb://...]

Fills a fresh database with generated cases written through routing's own ``_to_doc`` (so
every derived field and index entry is what routing writes), spread over the demo
organisation's units, statuses, urgencies and SLA states, recounts the lane books as routing
does at start, then calls routing's internal API in process (httpx over ASGI) as an agent
(every unit) and as a unit member (one unit) and prints, per call, the total it answered
(``~`` an estimate), and p50 and p99 in milliseconds.
The deep page is reached as the console reaches it, following each page's ``next`` cursor;
filtered lists (status, channel, topic and urgency, one customer) and the view counts are
timed too. The goal is p99 < 200 ms. Without ``--url`` the store is the embedded SecantusDB
server, which reads every document an index range matches: routing reads bounded ranges
(``services/routing/cases/lists.py``) so that a page costs about the cases it shows.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.routing.app import INDEXES, create_app
from services.routing.cases.access import Actor
from services.routing.cases.domain import Case, CaseContact, Classification
from services.routing.cases.store import CASES, _to_doc, rebuild_books
from services.routing.cases.workspace import SORTS, VIEWS, View
from services.routing.org.config import OrgConfig, load_org
from services.routing.sla.case import SlaKeeper
from shared.bus.inproc import InProcessBus
from shared.clock import FrozenClock
from shared.embedded import EmbeddedMongo
from shared.ids import new_id
from shared.runtime import Runtime
from shared.settings import Settings
from shared.store import Store, connect
from tests.support.acting import acting_headers
from tests.support.routing import TOKEN, KeywordModel

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
GOAL_MS = 200.0
STATUSES = [
    ("routed", 12),
    ("acknowledged", 8),
    ("in_progress", 14),
    ("pending_customer", 6),
    ("resolved", 20),
    ("closed", 40),
]
URGENCIES = [("low", 10), ("normal", 65), ("high", 15), ("urgent", 10)]
TOPICS = ["billing", "outage", "meter", "voltage", "staff_conduct", "other"]
TEXT = "ค่าไฟเดือนนี้แพงผิดปกติ ขอให้ตรวจสอบมิเตอร์ด้วย บ้านเลขที่ [ที่อยู่] โทร [เบอร์โทร] "


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _timeline(rng: random.Random, created: datetime, actor: str | None) -> list[dict[str, Any]]:
    types = ["case.opened", "case.routed", "case.acknowledged", "case.updated", "case.updated"]
    return [
        {
            "seq": n + 1,
            "type": kind,
            "at": created + timedelta(minutes=5 * n),
            "actor": actor,
            "detail": {"note": "x" * rng.randint(20, 200)},
        }
        for n, kind in enumerate(types[: rng.randint(2, len(types))])
    ]


def generated(org: OrgConfig, count: int, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Yield ``count`` case documents as routing stores them."""
    rng = random.Random(seed)
    sla = SlaKeeper(org)
    clocks: dict[tuple[str, str], dict[str, Any]] = {}
    for n in range(count):
        unit = rng.choice(org.units)
        urgency = _pick(rng, URGENCIES)
        status = _pick(rng, STATUSES)
        created = NOW - timedelta(minutes=rng.randint(1, 90 * 24 * 60))
        members = [m.user for m in unit.members]
        open_ = status not in ("resolved", "closed")
        assignee = rng.choice(members) if members and (not open_ or rng.random() < 0.7) else None
        contact_id = f"bench-{n}"
        case = Case(
            id=f"bench-case-{n}",
            number=f"VOC-2026-{n + 1:06d}",
            org=org.org,
            status=status,  # type: ignore[arg-type]
            topic=rng.choice(TOPICS),
            category="complaint",
            urgency=urgency,  # type: ignore[arg-type]
            classification=Classification(urgency=urgency),  # type: ignore[arg-type]
            unit=unit.id,
            assignee=assignee,
            channel="line",
            channels=["line"],
            subject_ref=f"sub-{rng.randint(1, count // 3 + 1)}",
            contacts=[
                CaseContact(contact_id=contact_id, channel="line", received_at=created, text=TEXT)
            ],
            last_contact_at=created,
            created_at=created,
            updated_at=created + timedelta(minutes=rng.randint(0, 600)),
            timeline=_timeline(rng, created, assignee),
            version=3,
        )
        key = (unit.id, urgency)
        if key not in clocks:
            sla.start(case, NOW - timedelta(days=1))
            clocks[key] = case.sla
        clock = dict(clocks[key])
        steps = [str(s) for s in clock.get("step_due", {})]
        risk = rng.random()
        if open_ and risk < 0.06 and clock.get("targets"):
            clock["breach_reported"] = [next(iter(clock["targets"]))]
            clock["fired"] = steps[:1]
        elif open_ and risk < 0.16:
            clock["fired"] = steps[:1]
        case.sla = clock
        case.sla_next_due = created + timedelta(hours=rng.randint(1, 72)) if open_ else None
        yield _to_doc(case)


async def fill(store: Store, org: OrgConfig, count: int) -> tuple[float, float]:
    """Insert ``count`` generated cases, then build routing's indexes; return both durations."""
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for doc in generated(org, count):
        batch.append(doc)
        if len(batch) == 2000:
            await store[CASES].insert_many(batch, ordered=False)
            batch = []
    if batch:
        await store[CASES].insert_many(batch, ordered=False)
    filled = time.perf_counter() - started
    # Building the indexes over the filled collection is several times faster on the
    # embedded store than keeping them up to date through every insert.
    started = time.perf_counter()
    await store.ensure_indexes(INDEXES)
    # Written behind routing's back: the lane books come from the recount routing runs at start.
    await rebuild_books(store)
    return filled, time.perf_counter() - started


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


async def timed(
    http: httpx.AsyncClient, path: str, params: dict[str, Any], actor: Actor, n: int
) -> tuple[list[float], Any]:
    """Call ``path`` as ``actor`` ``n`` times; return the seconds each took and the last answer."""
    samples, body = [], None
    for _ in range(n):
        # A fresh acting assertion each time: they are short-lived by design.
        headers = acting_headers(
            audience="routing", token=TOKEN, role=actor.role, user=actor.user, unit=actor.unit
        )
        started = time.perf_counter()
        answer = await http.get(path, params=params, headers=headers)
        samples.append(time.perf_counter() - started)
        answer.raise_for_status()
        body = answer.json()
    return samples, body


# Lists with filters the store is not asked for (applied to the lane's ranges in routing).
FILTERED = [
    ("status", {"status": "closed"}),
    ("channel", {"channel": "line"}),
    ("topic+urg", {"topic": "meter", "urgency": "urgent"}),
    ("customer", {"subject_ref": "sub-42"}),
]


async def cursor_to(
    http: httpx.AsyncClient, params: dict[str, Any], actor: Actor, page: int
) -> str | None:
    """Follow ``next`` from page 1; return the cursor that reads ``page`` (None: no such page)."""
    after = None
    for _ in range(page - 1):
        headers = acting_headers(
            audience="routing", token=TOKEN, role=actor.role, user=actor.user, unit=actor.unit
        )
        asked = {k: v for k, v in params.items() if k != "page"}
        answer = await http.get(
            "/internal/v1/cases",
            params=asked | ({"after": after} if after else {}),
            headers=headers,
        )
        answer.raise_for_status()
        after = answer.json()["next"]
        if after is None:
            return None
    return after


async def calls(
    http: httpx.AsyncClient,
    store: Store,
    name: str,
    actor: Actor,
    unit: str,
    args: Any,
    views: list[View],
) -> float:
    """Time every view × sort × page and the counts for ``actor``; return the worst p99 (ms)."""
    worst = 0.0
    for view in views:
        scope = {"unit": unit} if view == "unit" else {}
        for sort in SORTS:
            for page in (1, args.deep_page):
                params = {"view": view, "sort": sort, "page": page, "per_page": args.per_page}
                if page > 1:
                    # As the console pages: each page from the cursor the one before gave.
                    after = await cursor_to(http, params | scope, actor, page)
                    if after is None:
                        continue  # the view ends before that page
                    params["after"] = after
                samples, body = await timed(
                    http, "/internal/v1/cases", params | scope, actor, args.repeats
                )
                p50, p99 = _ms(samples)
                worst = max(worst, p99)
                print(
                    f"{name:12} {view:11} {sort:12} {page:>4} {body['total']:>7}"
                    f" {p50:>8.0f} {p99:>8.0f}",
                    flush=True,
                )
    for label, extra in FILTERED:
        params = {"view": "all", "per_page": args.per_page, **extra}
        samples, body = await timed(http, "/internal/v1/cases", params, actor, args.repeats)
        p50, p99 = _ms(samples)
        worst = max(worst, p99)
        exact = "" if body["total_exact"] else "~"
        print(
            f"{name:12} {'all':11} {label:12} {1:>4} {exact + str(body['total']):>7}"
            f" {p50:>8.0f} {p99:>8.0f}  (filtered)",
            flush=True,
        )
    samples, body = await timed(
        http, "/internal/v1/cases/counts", {"unit": unit}, actor, args.repeats
    )
    p50, p99 = _ms(samples)
    print(f"{name:12} {'counts':11} {'':12} {'':>4} {body['all']:>7} {p50:>8.0f} {p99:>8.0f}")
    return max(worst, p99)


async def measure(url: str, args: argparse.Namespace) -> None:
    """Fill one database, time every list and count call, print one line per call."""
    org = load_org("pea")
    store = connect(url, f"bench_queue_{new_id().lower()}", timeout_ms=600_000)
    try:
        filled, indexed = await fill(store, org, args.cases)
        print(f"{args.cases} cases: {filled:.0f} s to insert, {indexed:.0f} s to index", flush=True)
        settings = Settings(
            env="test", org="pea", service_token=TOKEN, data_dir=Path(tempfile.mkdtemp())
        )
        runtime = Runtime(
            service="routing",
            settings=settings,
            bus=InProcessBus({}),
            store=store,
            clock=FrozenClock(NOW),
        )
        # The lifespan is not entered: no relay or SLA watcher changes the cases meanwhile.
        app = create_app(runtime, org=org, model=KeywordModel())
        callers = [
            ("agent", Actor(user="cc.nattaya", role="agent")),
            ("unit_member", Actor(user="billing.orawan", role="unit_member", unit="pea-billing")),
        ]
        print(
            f"{'caller':12} {'view':11} {'sort':12} {'page':>4} {'total':>7}"
            f" {'p50 ms':>8} {'p99 ms':>8}",
            flush=True,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://routing") as http:
            worst = 0.0
            agent_views = [v for v in VIEWS if v in args.agent_views.split(",")]
            for name, actor in callers:
                views = agent_views if name == "agent" else list(VIEWS)
                worst = max(worst, await calls(http, store, name, actor, "pea-cc", args, views))
        verdict = "meets" if worst < GOAL_MS else "misses"
        print(f"worst p99 {worst:.0f} ms: {verdict} the {GOAL_MS:.0f} ms goal", flush=True)
    finally:
        await store.client.drop_database(store.db.name)
        await store.client.close()


async def main() -> None:
    """Parse the arguments, start the embedded store if no URL is given, and measure."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--per-page", type=int, default=50)
    parser.add_argument("--deep-page", type=int, default=100)
    parser.add_argument("--url", help="a MongoDB URL; default: the embedded server")
    parser.add_argument(
        "--agent-views",
        default=",".join(VIEWS),
        help="the views timed for the agent (every unit); `all` over 100,000 cases takes"
        " half a minute a call on the embedded store",
    )
    args = parser.parse_args()
    embedded = None
    url = args.url
    if url is None:
        embedded = EmbeddedMongo(Path(tempfile.mkdtemp(prefix="bench-queue-")) / "data")
        url = embedded.start()
    try:
        await measure(url, args)
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    asyncio.run(main())
