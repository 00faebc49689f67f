"""Period reports on a generated data set: every figure recomputed here from the raw cases."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import statistics
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.cli import main
from services.routing.cases.store import CASES
from services.routing.reports.days import report_mark
from services.routing.reports.export import to_csv, to_xlsx
from services.routing.reports.periods import period_report
from services.routing.reports.store import SNAPSHOTS
from shared.clock import BANGKOK, FrozenClock
from shared.ids import new_id
from shared.store import Store, connect
from tests.support.routing import Service, running_service

pytestmark = pytest.mark.integration

ORG = "pea"
NOW = datetime(2026, 11, 15, 9, 0, tzinfo=BANGKOK)  # October 2026 has closed
CATEGORIES = ["complaint", "request", "inquiry"]
TOPICS = ["billing", "outage", "meter", "voltage"]
CHANNELS = ["line", "app", "email", "phone"]
UNITS = ["pea-branch-a", "pea-branch-b"]
PROVINCES = [("เชียงใหม่", "เมือง"), ("ลำพูน", "ป่าซาง")]
TARGETS = {"first_response": 4 * 3600, "resolution": 24 * 3600}


def _case(rng: random.Random, n: int, created: datetime, org: str = ORG) -> dict[str, Any]:
    province, district = rng.choice(PROVINCES)
    consumed = {t: rng.choice([0.5, 2, 3.5, 5, 20, 30]) * 3600 for t in TARGETS}
    met_at = {t: "2026-10-20T00:00:00Z" for t in TARGETS if rng.random() < 0.8}
    resolved = rng.random() < 0.7
    score = rng.choice([None, 1, 2, 3, 4, 5]) if resolved else None
    timeline = [{"type": "case.opened"}] + (
        [{"type": "case.escalated"}] if rng.random() < 0.2 else []
    )
    return {
        "_id": f"gen-{org}-{created:%Y%m}-{n}",
        "org": org,
        "number": f"G{org}{created:%Y%m}{n:05d}",
        "contacts": [{"contact_id": f"contact-{org}-{created:%Y%m}-{n}"}],
        "status": "closed" if score else ("resolved" if resolved else "in_progress"),
        "category": rng.choice(CATEGORIES),
        "topic": rng.choice(TOPICS),
        "urgency": rng.choice(["normal", "high"]),
        "unit": rng.choice(UNITS),
        "channel": rng.choice(CHANNELS),
        "area": {"province": province, "district": district},
        "sla": {"targets": TARGETS, "consumed": consumed, "met_at": met_at},
        "resolution": {"at": created + timedelta(hours=rng.randint(1, 48))} if resolved else None,
        "closure": (
            {"score": score, "on_behalf": False, "channel": "line"}
            if score
            else (
                {"score": None, "on_behalf": True, "channel": "phone"}
                if resolved and n % 3 == 0
                else None
            )
        ),
        "reopen_count": 1 if rng.random() < 0.1 else 0,
        "timeline": timeline,
        "created_at": created,
    }


def _generate(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cases = []
    for month, count in (((2026, 10), 120), ((2026, 9), 70), ((2025, 10), 40), ((2026, 11), 15)):
        start = datetime(*month, 1, tzinfo=BANGKOK)
        for n in range(count):
            cases.append(_case(rng, n, start + timedelta(hours=rng.randint(0, 27 * 24))))
    # The first and last instants of October belong to October and to November.
    cases.append(_case(rng, 900, datetime(2026, 10, 1, 0, 0, tzinfo=BANGKOK)))
    cases.append(_case(rng, 901, datetime(2026, 11, 1, 0, 0, tzinfo=BANGKOK)))
    cases.append(_case(rng, 902, datetime(2026, 10, 10, tzinfo=BANGKOK), org="or"))  # other org
    return cases


def _in(cases: list[dict[str, Any]], year: int, month: int) -> list[dict[str, Any]]:
    return [
        c
        for c in cases
        if c["org"] == ORG
        and c["created_at"].astimezone(BANGKOK).year == year
        and c["created_at"].astimezone(BANGKOK).month == month
    ]


@pytest.fixture
async def generated(store: Store) -> list[dict[str, Any]]:
    cases = _generate(seed=1129)
    await store[CASES].insert_many([dict(c) for c in cases])
    return cases


async def test_monthly_counts_compare_with_previous_month_and_last_year(
    store: Store, generated: list[dict[str, Any]]
) -> None:
    october = _in(generated, 2026, 10)
    report = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)

    assert report["period"] == "2026-10"
    assert report["cases"] == len(october)
    for field in ("category", "topic", "channel", "unit", "urgency"):
        assert report[f"by_{field}"] == dict(Counter(c[field] for c in october))
    assert report["by_area"] == dict(Counter(c["area"]["province"] for c in october))
    assert report["previous"]["period"] == "2026-09"
    assert report["previous"]["cases"] == len(_in(generated, 2026, 9))
    assert report["previous"]["by_topic"] == dict(
        Counter(c["topic"] for c in _in(generated, 2026, 9))
    )
    assert report["last_year"]["period"] == "2025-10"
    assert report["last_year"]["cases"] == len(_in(generated, 2025, 10))
    assert report["escalated"] == sum(
        1 for c in october if any(e["type"] == "case.escalated" for e in c["timeline"])
    )
    assert report["reopened"] == sum(1 for c in october if c["reopen_count"])
    assert report["closed_on_behalf"] == sum(
        1 for c in october if c["closure"] and c["closure"]["on_behalf"]
    )


async def test_sla_compliance_and_business_hours_per_unit_and_topic(
    store: Store, generated: list[dict[str, Any]]
) -> None:
    october = _in(generated, 2026, 10)
    report = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)

    for unit in UNITS:
        mine = [c for c in october if c["unit"] == unit]
        for target, limit in TARGETS.items():
            met = sorted(
                c["sla"]["consumed"][target] / 3600 for c in mine if target in c["sla"]["met_at"]
            )
            within = sum(
                1
                for c in mine
                if target in c["sla"]["met_at"] and c["sla"]["consumed"][target] <= limit
            )
            figures = report["sla"]["by_unit"][unit][target]
            assert figures["cases"] == len(mine)
            assert figures["met"] == len(met)
            assert figures["within_target"] == within
            assert figures["compliance"] == round(within / len(mine), 3)
            assert figures["median_hours"] == round(statistics.median(met), 2)
            assert figures["p90_hours"] == round(met[int(0.9 * len(met))], 2)
    assert set(report["sla"]["by_topic"]) == {c["topic"] for c in october}


async def test_satisfaction_and_recurring_issues(
    store: Store, generated: list[dict[str, Any]]
) -> None:
    october = _in(generated, 2026, 10)
    report = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)

    scores = [c["closure"]["score"] for c in october if c["closure"] and c["closure"]["score"]]
    resolved = sum(1 for c in october if c["resolution"])
    satisfaction = report["satisfaction"]
    assert satisfaction["responses"] == len(scores)
    assert satisfaction["response_rate"] == round(len(scores) / resolved, 3)
    assert satisfaction["average"] == round(statistics.fmean(scores), 2)
    assert satisfaction["scores"] == {str(n): scores.count(n) for n in range(1, 6)}
    assert satisfaction["low_scores"] == sum(1 for s in scores if s <= 2)
    groups = Counter((c["area"]["province"], c["area"]["district"], c["topic"]) for c in october)
    expected = {g: n for g, n in groups.items() if n >= 3}
    assert {
        (r["province"], r["district"], r["topic"]): r["cases"] for r in report["recurring"]
    } == expected


async def test_quarter_spans_three_months(store: Store, generated: list[dict[str, Any]]) -> None:
    report = await period_report(store, org=ORG, kind="quarterly", year=2026, number=4, now=NOW)
    expected = sum(len(_in(generated, 2026, m)) for m in (10, 11, 12))
    assert report["period"] == "2026-Q4"
    assert report["cases"] == expected
    assert report["previous"]["period"] == "2026-Q3"
    assert report["previous"]["cases"] == sum(len(_in(generated, 2026, m)) for m in (7, 8, 9))
    assert report["closed"] is False
    assert await store[SNAPSHOTS].count_documents({}) == 0  # an open period is never frozen


async def test_closed_month_is_frozen_and_a_rerun_shows_differences(
    store: Store, generated: list[dict[str, Any]]
) -> None:
    first = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
    assert first["snapshot"]["differences"] == []
    late = _case(random.Random(7), 950, datetime(2026, 10, 20, tzinfo=BANGKOK))
    # Written as routing's store writes every case: with the mark of its report day.
    await store[CASES].insert_one({**late, **report_mark(ORG, late["created_at"])})

    again = await period_report(
        store, org=ORG, kind="monthly", year=2026, number=10, now=NOW + timedelta(days=1)
    )

    changes = {d["figure"]: (d["frozen"], d["now"]) for d in again["snapshot"]["differences"]}
    assert changes["cases"] == (first["cases"], first["cases"] + 1)
    assert changes[f"by_topic.{late['topic']}"] == (
        first["by_topic"].get(late["topic"]),
        first["by_topic"].get(late["topic"], 0) + 1,
    )
    assert await store[SNAPSHOTS].count_documents({}) == 1


async def test_csv_export_carries_the_figures(
    store: Store, generated: list[dict[str, Any]]
) -> None:
    report = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    by_key = {(r["section"], r["group"], r["figure"]): r["value"] for r in rows}
    assert by_key[("summary", "", "cases")] == str(report["cases"])
    province = PROVINCES[0][0]
    assert by_key[("by_area", province, "cases")] == str(report["by_area"][province])
    assert by_key[("by_topic", "billing", "previous")] == str(
        report["previous"]["by_topic"].get("billing", 0)
    )


@pytest.fixture
async def service(mongo_url: str, store: Store, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(
        mongo_url, store.db.name, clock=FrozenClock(NOW), tmp_path=tmp_path
    ) as running:
        yield running


async def test_report_api_for_managers_not_agents(
    service: Service, generated: list[dict[str, Any]]
) -> None:
    answer = await service.call("GET", "/reports/monthly/2026/10", role="manager")
    assert answer.status_code == 200, answer.text
    assert answer.json()["cases"] == len(_in(generated, 2026, 10))
    refused = await service.call("GET", "/reports/monthly/2026/10", role="agent")
    assert refused.status_code == 403
    bad = await service.call("GET", "/reports/quarterly/2026/5", role="manager")
    assert bad.status_code in {400, 422}
    # The existing monthly contract still answers.
    old = await service.call(
        "GET", "/reports/monthly", role="manager", params={"year": 2026, "month": 10}
    )
    assert old.status_code == 200
    assert old.json()["cases"] == len(_in(generated, 2026, 10))


async def test_xlsx_export_has_the_csv_rows(store: Store, generated: list[dict[str, Any]]) -> None:
    from openpyxl import load_workbook

    report = await period_report(store, org=ORG, kind="monthly", year=2026, number=10, now=NOW)
    sheet = load_workbook(io.BytesIO(to_xlsx(report))).active
    assert sheet is not None
    assert sheet.title == "2026-10"
    cells = [[_value(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    fields = [[_value(v) for v in row] for row in csv.reader(io.StringIO(to_csv(report)))]
    assert cells == fields


def _value(cell: object) -> object:
    """Compare a spreadsheet cell and a CSV field by value (Excel keeps 30.0 as 30)."""
    if cell is None or cell == "":
        return ""
    try:
        return float(str(cell))
    except ValueError:
        return cell


def cli_store(
    mongo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, seed: int
) -> list[dict[str, Any]]:
    """Put generated cases in a routing database of their own and point ``vocdesk`` at it."""
    prefix = f"cli_{new_id().lower()}"
    cases = _generate(seed=seed)

    async def fill() -> None:
        db = connect(mongo_url, f"{prefix}_routing")
        await db[CASES].insert_many(cases)
        await db.client.close()

    asyncio.run(fill())
    monkeypatch.setenv("VOCDESK_MONGO_URL", mongo_url)
    monkeypatch.setenv("VOCDESK_MONGO_DB_PREFIX", prefix)
    monkeypatch.setenv("VOCDESK_DATA_DIR", str(tmp_path))
    return cases


def test_report_command_writes_csv_from_routing_store(
    mongo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = cli_store(mongo_url, tmp_path, monkeypatch, seed=2569)
    out = tmp_path / "october.csv"
    args = ["report", "monthly", "--month", "2026-10", "--org", "pea", "--format", "csv"]
    assert main([*args, "--out", str(out)]) == 0
    rows = {(r["section"], r["group"], r["figure"]): r["value"] for r in csv.DictReader(out.open())}
    assert rows[("summary", "", "cases")] == str(len(_in(cases, 2026, 10)))
    assert main(["report", "quarterly", "--quarter", "2026-13"]) == 2  # a clear refusal
