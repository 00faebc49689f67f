"""Report rollups: the figures from day documents equal the figures computed from the cases.

Cases are generated and written through routing's store functions, as the
service writes them; every report is compared, figure by figure and in
order, with ``report_periods.figures`` over the period's cases.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.routing.cases import store as case_store
from services.routing.cases.domain import Case, CaseContact, Closure
from services.routing.cases.store import CASES
from services.routing.reports import monthly as reports
from services.routing.reports import rollups as report_rollups
from services.routing.reports import store as report_store
from services.routing.reports.days import PENDING, day_key, day_of
from services.routing.reports.periods import (
    Kind,
    period_bounds,
    period_cases,
    period_report,
    previous,
)
from services.routing.reports.periods import figures as figures_from_cases
from services.routing.reports.rollups import RollupBuilder
from services.routing.reports.store import ROLLUPS
from services.routing.reports.tally import DIMENSIONS
from shared.clock import BANGKOK, FrozenClock
from shared.ids import new_id
from shared.store import Store, connect

pytestmark = pytest.mark.integration

ORG = "pea"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=BANGKOK)  # October has closed, November has not
UNITS = ["pea-branch-a", "pea-branch-b", "pea-branch-c", None]
TOPICS = ["billing", "outage", "meter", "voltage", None]
AREAS = [
    {"province": "เชียงใหม่", "district": "เมือง"},
    {"province": "เชียงใหม่", "district": "สันทราย"},
    {"province": "ลำพูน", "district": "ป่าซาง"},
    {"province": "ลำพูน", "district": None},
    {},
]
TARGETS = ("first_response", "unit_ack", "resolution")


def _case(rng: random.Random, n: int, created: datetime, org: str = ORG) -> Case:
    """Return a case with every field the figures read, some of them missing or odd."""
    targets = {t: float(rng.choice([4, 8, 24, 72]) * 3600) for t in TARGETS if rng.random() < 0.8}
    # Business time as the SLA clock stores it: seconds with their microseconds.
    consumed = {t: round(rng.uniform(0, 100 * 3600), 6) for t in targets}
    met_at = {t: created.isoformat() for t in targets if rng.random() < 0.7}
    resolved = rng.random() < 0.6
    score = rng.choice([None, 1, 2, 3, 4, 5]) if resolved else None
    timeline: list[dict[str, Any]] = [{"seq": 1, "type": "case.opened", "at": created}]
    if rng.random() < 0.15:
        timeline.append({"seq": 2, "type": "case.escalated", "at": created})
    case_id = f"roll-{org}-{created:%Y%m%d}-{n}"
    channel = rng.choice(["line", "email", "app", "phone", "fax", "walk_in"])
    return Case(
        id=case_id,
        number=f"VOC-{created:%Y}-{n:06d}{org}",
        org=org,  # type: ignore[arg-type]
        status="closed" if score else ("resolved" if resolved else "in_progress"),
        category=rng.choice(["complaint", "request", "inquiry", None]),
        topic=rng.choice(TOPICS),
        urgency=rng.choice(["low", "normal", "high", "urgent"]),
        unit=rng.choice(UNITS),
        channel=channel,
        contacts=[
            CaseContact(contact_id=f"c-{case_id}", channel=channel, received_at=created, text="-")
        ],
        area=dict(rng.choice(AREAS)),
        sla={
            "targets": targets,
            "consumed": consumed,
            "met_at": met_at,
            "breach_reported": [t for t in targets if rng.random() < 0.1],
        },
        resolution=(
            {"at": created + timedelta(seconds=rng.randint(60, 90 * 3600), milliseconds=n % 1000)}
            if resolved
            else None
        ),
        closure=(
            Closure(
                acknowledged_at=created + timedelta(days=2),
                channel="line",
                score=score,
                on_behalf=score is None,
            )
            if resolved and (score or rng.random() < 0.5)
            else None
        ),
        reopen_count=1 if rng.random() < 0.1 else 0,
        last_contact_at=created,
        created_at=created,
        updated_at=created,
        timeline=timeline,
    )


def _generate(seed: int) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for (year, month), count in (((2026, 10), 240), ((2026, 9), 90), ((2025, 10), 60)):
        start = datetime(year, month, 1, tzinfo=BANGKOK)
        for n in range(count):
            at = start + timedelta(seconds=rng.randint(0, 28 * 24 * 3600), microseconds=n)
            cases.append(_case(rng, len(cases), at))
    for n, at in enumerate(
        (
            datetime(2026, 10, 1, 0, 0, tzinfo=BANGKOK),  # October's first instant
            datetime(2026, 10, 31, 23, 59, 59, 999000, tzinfo=BANGKOK),  # its last
            datetime(2026, 11, 1, 0, 0, tzinfo=BANGKOK),  # November's
            datetime(2026, 11, 3, tzinfo=BANGKOK),
        )
    ):
        cases.append(_case(rng, 900 + n, at))
    cases.append(_case(rng, 950, datetime(2026, 10, 10, tzinfo=BANGKOK), org="or"))
    return cases


@pytest.fixture
async def store(mongo_url: str) -> AsyncIterator[Store]:
    """A database of its own, with room for the embedded store to be slow.

    Two builders and six writers race on the embedded server while the rest
    of the suite runs: a read may wait past the services' 10 s socket timeout
    on a loaded machine, which says nothing about the figures.
    """
    db = connect(mongo_url, f"test_{new_id().lower()}", timeout_ms=30_000)
    yield db
    await db.client.drop_database(db.db.name)
    await db.client.close()


@pytest.fixture
async def generated(store: Store) -> list[Case]:
    await store.ensure_indexes({**case_store.INDEXES, **report_store.INDEXES})
    cases = _generate(seed=2569)
    for case in cases:
        await case_store.insert_case(store, case)
    return cases


async def _expected(store: Store, kind: Kind, year: int, number: int) -> dict[str, Any]:
    """Return the report's figures computed from the cases themselves."""
    start, end, label = period_bounds(kind, year, number)
    report = figures_from_cases(
        await period_cases(store, org=ORG, start=start, end=end), period=label, org=ORG
    )
    others = (("previous", previous(kind, year, number)), ("last_year", (year - 1, number)))
    for name, (other_year, other_number) in others:
        other_start, other_end, other_label = period_bounds(kind, other_year, other_number)
        other = figures_from_cases(
            await period_cases(store, org=ORG, start=other_start, end=other_end),
            period=other_label,
            org=ORG,
        )
        report[name] = {key: other[key] for key in ("period", "cases", *DIMENSIONS)}
    return report


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Return every figure by its dotted path; a dict's order is a figure too."""
    if isinstance(value, dict):
        out: dict[str, Any] = {f"{path}(order)": list(value)}
        for key, inner in value.items():
            out |= _leaves(inner, f"{path}{key}.")
        return out
    if isinstance(value, list):
        out = {f"{path}(length)": len(value)}
        for index, inner in enumerate(value):
            out |= _leaves(inner, f"{path}{index}.")
        return out
    return {path.rstrip("."): value}


# What a period report adds to the figures (``closed`` there says whether the period ended).
REPORT_ONLY = frozenset({"kind", "closed", "snapshot"})


def assert_same_figures(
    report: dict[str, Any], expected: dict[str, Any], *, besides: frozenset[str] = REPORT_ONLY
) -> None:
    """Assert the report shows every figure of ``expected``, with the same value and order."""
    got = _leaves({k: v for k, v in report.items() if k not in besides})
    want = _leaves({k: v for k, v in expected.items() if k not in besides})
    assert set(got) == set(want), set(got) ^ set(want)
    wrong = {path: (got[path], want[path]) for path in want if got[path] != want[path]}
    assert not wrong, wrong


async def _edit(store: Store, case_id: str, change: Any, *, at: datetime) -> Case:
    """Change a case the way routing does: load it, change it, save it with an event."""
    case = await case_store.get_case(store, case_id)
    change(case)
    case.record("case.updated", at=at, detail={"change": "test"})
    await case_store.save_case(store, case)
    return case


async def test_month_from_rollups_equals_the_figures_from_its_cases(
    store: Store, generated: list[Case]
) -> None:
    report = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)

    expected = await _expected(store, "monthly", 2026, 10)
    assert_same_figures(report, expected)
    # The data set exercises what the figures are about.
    assert report["cases"] == 242  # with October's first and last instants
    assert report["sla"]["by_unit"]["unknown"]
    assert report["recurring"]
    assert report["resolution_hours"]["median"] is not None
    october = {day_key(ORG, day_of(c.created_at)) for c in generated if c.created_at.month == 10}
    assert await store[ROLLUPS].count_documents({"_id": {"$in": sorted(october)}}) == len(october)


async def test_quarter_and_the_monthly_statistics_equal_the_figures_from_the_cases(
    store: Store, generated: list[Case]
) -> None:
    quarter = await period_report(store, org=ORG, kind="quarterly", year=2026, number=4, now=NOW)
    assert_same_figures(quarter, await _expected(store, "quarterly", 2026, 4))

    statistics = await reports.monthly(store, org=ORG, year=2026, month=9)
    start, end, _ = period_bounds("monthly", 2026, 9)
    september = await period_cases(store, org=ORG, start=start, end=end)
    expected = reports.summarise(september, period="2026-09", org=ORG)
    assert_same_figures(statistics, expected, besides=frozenset())


async def test_late_edits_show_in_the_next_report_and_in_the_snapshot_differences(
    store: Store, generated: list[Case]
) -> None:
    first = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
    october = [c for c in generated if c.org == ORG and c.created_at.month == 10]
    reopened = next(
        c
        for c in october
        if c.closure
        and c.closure.score in (4, 5)
        and not c.reopen_count
        and all(e["type"] != "case.escalated" for e in c.timeline)
    )
    unrated = next(c for c in october if c.status == "resolved" and c.closure is None)
    moved = next(c for c in october if c.topic == "billing" and c not in (reopened, unrated))
    later = NOW + timedelta(days=3)

    def reclassify(case: Case) -> None:
        case.topic, case.category, case.unit = "voltage", "complaint", "pea-branch-c"

    def reopen(case: Case) -> None:
        case.status, case.reopen_count, case.closure = "in_progress", 1, None
        case.timeline.append({"seq": case.seq + 1, "type": "case.escalated", "at": later})

    def rate(case: Case) -> None:
        case.status = "closed"
        case.closure = Closure(acknowledged_at=later, channel="line", score=1)
        case.sla["targets"].setdefault("resolution", 86400.0)
        case.sla["met_at"]["resolution"] = later.isoformat()
        case.sla["consumed"]["resolution"] = 12345.678901

    await _edit(store, moved.id, reclassify, at=later)
    await _edit(store, reopened.id, reopen, at=later)
    await _edit(store, unrated.id, rate, at=later)

    again = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=later)

    assert_same_figures(again, await _expected(store, "monthly", 2026, 10))
    changed = {d["figure"]: (d["frozen"], d["now"]) for d in again["snapshot"]["differences"]}

    def moved_by(figure: str, step: int) -> None:
        frozen = _leaves(first)[figure]
        assert changed[figure] == (frozen, frozen + step), figure

    moved_by("by_topic.billing", -1)
    moved_by("by_topic.voltage", +1)
    moved_by("reopened", +1)
    moved_by("escalated", +1)
    moved_by("satisfaction.scores.1", +1)
    assert reopened.closure is not None
    moved_by(f"satisfaction.scores.{reopened.closure.score}", -1)
    assert "cases" not in changed  # edits, not new cases
    assert "satisfaction.responses" not in changed  # one rating gone, one come
    assert again["snapshot"]["frozen_at"] == first["snapshot"]["frozen_at"]


async def test_one_settle_clears_a_backlog_of_marks_larger_than_one_write(
    store: Store, generated: list[Case]
) -> None:
    assert len(generated) > report_store.CLEAR_CHUNK  # so the marks take several writes
    days = await report_rollups.settle(store)

    assert await store[CASES].count_documents({PENDING: {"$exists": True}}) == 0
    assert days == {day_key(c.org, day_of(c.created_at)) for c in generated}


async def test_background_builder_settles_marks_and_leaves_days_clean(
    store: Store, generated: list[Case]
) -> None:
    builder = RollupBuilder(store, clock=FrozenClock(NOW), replica="test-a")
    assert await store[CASES].count_documents({PENDING: {"$exists": True}}) == len(generated)

    while await builder.step():
        pass

    assert await store[CASES].count_documents({PENDING: {"$exists": True}}) == 0
    assert await store[ROLLUPS].count_documents({"dirty": True}) == 0
    report = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
    assert_same_figures(report, await _expected(store, "monthly", 2026, 10))


async def test_writes_racing_two_builders_and_reports_leave_the_figures_right(
    store: Store, generated: list[Case]
) -> None:
    october = [c.id for c in generated if c.org == ORG and c.created_at.month == 10]
    builders = [RollupBuilder(store, clock=FrozenClock(NOW), replica=name) for name in ("r1", "r2")]
    rng = random.Random(7)
    stop = asyncio.Event()

    async def write(n: int) -> None:
        def change(case: Case) -> None:
            case.topic = rng.choice(TOPICS)
            case.reopen_count += 1

        # A StaleCase: another writer changed it first (a redelivery would reload and retry).
        with contextlib.suppress(case_store.StaleCase):
            await _edit(store, rng.choice(october), change, at=NOW)

    async def build(builder: RollupBuilder) -> None:
        while not stop.is_set():
            await builder.step()

    async def writers() -> None:
        for n in range(0, 60, 6):
            await asyncio.gather(*(write(n + i) for i in range(6)))
            await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
        stop.set()

    await asyncio.gather(writers(), *(build(b) for b in builders))

    report = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
    assert_same_figures(report, await _expected(store, "monthly", 2026, 10))


class _WritesDuringRead(Store):
    """A store that changes a case, and settles its mark, while a day's cases are being read."""

    def __init__(self, inner: Store, edit: Any) -> None:
        super().__init__(inner.client, inner.db.name)
        self._edit = edit

    def __getitem__(self, collection: str) -> Any:
        found = super().__getitem__(collection)
        if collection != CASES:
            return found
        outer = self

        class Cases:
            def __getattr__(self, name: str) -> Any:
                return getattr(found, name)

            def find(self, query: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
                if "created_at" in query and outer._edit is not None:
                    edit, outer._edit = outer._edit, None
                    return _AfterEdit(edit, found.find(query, *args, **kwargs))
                return found.find(query, *args, **kwargs)

        return Cases()


class _AfterEdit:
    """A cursor that first lets ``edit`` run, then yields what the query finds."""

    def __init__(self, edit: Any, cursor: Any) -> None:
        self._edit, self._cursor, self._started = edit, cursor, False

    def __aiter__(self) -> _AfterEdit:
        return self

    async def __anext__(self) -> Any:
        doc = await self._cursor.__anext__()
        if not self._started:
            self._started = True
            await self._edit()
        return doc


async def test_a_change_settled_while_its_day_is_rebuilt_makes_the_day_rebuilt_again(
    store: Store, generated: list[Case]
) -> None:
    first = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
    target = next(c for c in generated if c.org == ORG and c.created_at.month == 10)
    key = day_key(ORG, day_of(target.created_at))

    def reclassify(case: Case) -> None:
        case.topic = "tree"

    async def edit() -> None:
        # A write lands after the rebuild read the day's generation, and another
        # replica settles its mark before the rebuild writes: its tally may miss it.
        await _edit(store, target.id, reclassify, at=NOW)
        await report_rollups.settle(store)

    await report_rollups.rebuild(_WritesDuringRead(store, edit), [key])

    assert (await store[ROLLUPS].find_one({"_id": key}))["dirty"] is True
    again = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
    assert again["by_topic"]["tree"] == first["by_topic"].get("tree", 0) + 1
    assert_same_figures(again, await _expected(store, "monthly", 2026, 10))


async def test_a_mark_stays_when_its_case_is_written_again_before_it_is_cleared(
    store: Store, generated: list[Case]
) -> None:
    target = generated[0]
    marks = await report_rollups.marked(store)
    await _edit(store, target.id, lambda case: None, at=NOW)  # a newer version, a new mark

    await report_rollups.take(store, marks)

    left = await store[CASES].find({PENDING: {"$exists": True}}, {"_id": 1}).to_list()
    assert [doc["_id"] for doc in left] == [target.id]
    assert (await store[ROLLUPS].find_one({"_id": day_key(ORG, day_of(target.created_at))}))[
        "dirty"
    ] is True
