"""Management reports over a month or a quarter: comparisons, SLA, satisfaction, recurrence.

A report adds up the day rollups of its periods (``rollups.py``), not
their cases. ``figures`` is the definition of the figures from the cases
themselves (only the fields they need, never personal data); the rollups'
tallies give the same figures, which the tests check against it. A closed
period's report is frozen in ``report_snapshots``; a later run returns the
frozen figures with the differences the live data shows against them.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any, Literal

from services.routing.reports import store as report_store
from services.routing.reports.monthly import _FIELDS, summarise
from services.routing.reports.rollups import period_tally
from services.routing.reports.tally import DIMENSIONS as DIMENSIONS
from services.routing.reports.tally import LOW_SCORE, RECURRING, ranked
from shared.clock import BANGKOK
from shared.errors import Invalid
from shared.store import Store

Kind = Literal["monthly", "quarterly"]
TARGETS = ("first_response", "unit_ack", "resolution")
_REPORT_FIELDS = {
    **_FIELDS,
    "area.province": 1,
    "area.district": 1,
    "sla.targets": 1,
    "sla.consumed": 1,
    "sla.met_at": 1,
    "timeline.type": 1,
}


def period_bounds(kind: Kind, year: int, number: int) -> tuple[datetime, datetime, str]:
    """Return the first instant of the period, of the next, and its label (Bangkok time)."""
    months = 1 if kind == "monthly" else 3
    if kind == "quarterly" and not 1 <= number <= 4:
        raise Invalid("quarter must be 1-4", field="quarter")
    if kind == "monthly" and not 1 <= number <= 12:
        raise Invalid("month must be 1-12", field="month")
    if not 2000 <= year <= 2200:
        raise Invalid("year must be a Gregorian year", field="year")
    first = (number - 1) * months + 1
    label = f"{year:04d}-{number:02d}" if kind == "monthly" else f"{year:04d}-Q{number}"
    end_index = year * 12 + first - 1 + months
    end = date(end_index // 12, end_index % 12 + 1, 1)
    start = datetime(year, first, 1, tzinfo=BANGKOK)
    return start, datetime(end.year, end.month, 1, tzinfo=BANGKOK), label


def previous(kind: Kind, year: int, number: int) -> tuple[int, int]:
    """Return the period before ``year``/``number``."""
    last = 12 if kind == "monthly" else 4
    return (year - 1, last) if number == 1 else (year, number - 1)


async def period_cases(
    store: Store, *, org: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Return the report fields of the cases opened in [start, end)."""
    return await report_store.opened_between(
        store, org=org, start=start, end=end, fields=_REPORT_FIELDS
    )


def figures(cases: list[dict[str, Any]], *, period: str, org: str) -> dict[str, Any]:
    """Return a period's figures from its cases: the monthly statistics plus SLA and recurrence."""
    report = summarise(cases, period=period, org=org)
    report["by_area"] = ranked(
        Counter(str((doc.get("area") or {}).get("province") or "unknown") for doc in cases)
    )
    satisfaction = report["satisfaction"]
    scores = satisfaction["scores"]
    satisfaction["response_rate"] = (
        round(satisfaction["responses"] / report["resolved"], 3) if report["resolved"] else None
    )
    satisfaction["low_scores"] = sum(scores[str(n)] for n in range(1, LOW_SCORE + 1))
    report["escalated"] = sum(
        1
        for doc in cases
        if any(e.get("type") == "case.escalated" for e in doc.get("timeline") or [])
    )
    report["sla"] = {"by_unit": _sla_by(cases, "unit"), "by_topic": _sla_by(cases, "topic")}
    report["recurring"] = _recurring(cases)
    return report


def _sla_by(cases: list[dict[str, Any]], field: str) -> dict[str, dict[str, Any]]:
    """Per group and target: cases with the target, met within it, median and p90 business hours."""
    spans: dict[tuple[str, str], list[float]] = defaultdict(list)
    within: Counter[tuple[str, str]] = Counter()
    counted: Counter[tuple[str, str]] = Counter()
    for doc in cases:
        sla = doc.get("sla") or {}
        group = str(doc.get(field) or "unknown")
        for target, limit in (sla.get("targets") or {}).items():
            key = (group, target)
            counted[key] += 1
            if target in (sla.get("met_at") or {}):
                used = float((sla.get("consumed") or {}).get(target, 0))
                spans[key].append(used / 3600)
                within[key] += used <= float(limit)
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for (group, target), total in sorted(counted.items()):
        hours = sorted(spans[(group, target)])
        out[group][target] = {
            "cases": total,
            "met": len(hours),
            "within_target": within[(group, target)],
            "compliance": round(within[(group, target)] / total, 3),
            "median_hours": round(statistics.median(hours), 2) if hours else None,
            "p90_hours": round(hours[min(len(hours) - 1, int(0.9 * len(hours)))], 2)
            if hours
            else None,
        }
    return dict(out)


def _recurring(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the (province, district, topic) groups with at least ``RECURRING`` cases."""
    groups = Counter(
        (
            str((doc.get("area") or {}).get("province") or "unknown"),
            str((doc.get("area") or {}).get("district") or "unknown"),
            str(doc.get("topic") or "unknown"),
        )
        for doc in cases
    )
    return [
        {"province": p, "district": d, "topic": t, "cases": n}
        for (p, d, t), n in ranked(groups).items()
        if n >= RECURRING
    ]


async def period_report(
    store: Store, *, org: str, kind: Kind, year: int, number: int, now: datetime
) -> dict[str, Any]:
    """Return the period's report with the previous period and the same period a year before."""
    start, end, label = period_bounds(kind, year, number)
    tally = await period_tally(store, org=org, start=start, end=end)
    report = tally.figures(period=label, org=org)
    report["kind"] = kind
    for name, (y, n) in (
        ("previous", previous(kind, year, number)),
        ("last_year", (year - 1, number)),
    ):
        p_start, p_end, p_label = period_bounds(kind, y, n)
        other = await period_tally(store, org=org, start=p_start, end=p_end, spans=False)
        report[name] = other.comparison(p_label)
    report["closed"] = end <= now
    frozen = await report_store.frozen_report(store, org=org, label=label)
    if frozen:
        report["snapshot"] = {
            "frozen_at": frozen["frozen_at"],
            "differences": differences(frozen["report"], report),
        }
    elif report["closed"]:
        await report_store.freeze_report(store, org=org, label=label, at=now, report=report)
        report["snapshot"] = {"frozen_at": now, "differences": []}
    return report


def differences(
    frozen: dict[str, Any], live: dict[str, Any], path: str = ""
) -> list[dict[str, Any]]:
    """Return each figure that differs between the frozen and the live report, by dotted path."""
    out: list[dict[str, Any]] = []
    for key in sorted(set(frozen) | set(live)):
        if key in {"snapshot", "closed", "_id"}:
            continue
        here = f"{path}{key}"
        old, new = frozen.get(key), live.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            out += differences(old, new, f"{here}.")
        elif old != new:
            out.append({"figure": here, "frozen": old, "now": new})
    return out
