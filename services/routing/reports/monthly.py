"""Monthly complaint statistics for managers: counts, SLA, resolution time, satisfaction.

``monthly`` adds up the month's day rollups (``rollups.py``);
``summarise`` is the definition of the same figures from the cases.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from services.routing.reports.rollups import period_tally
from services.routing.reports.tally import ranked
from shared.clock import BANGKOK
from shared.errors import Invalid
from shared.store import Store

# Only what the figures need; a month of cases can be large.
_FIELDS = {
    "status": 1,
    "category": 1,
    "topic": 1,
    "urgency": 1,
    "unit": 1,
    "channel": 1,
    "sla.breach_reported": 1,
    "resolution.at": 1,
    "closure": 1,
    "reopen_count": 1,
    "created_at": 1,
}


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """Return the first instant of the month and of the next, in Bangkok time."""
    if not 1 <= month <= 12 or not 2000 <= year <= 2200:
        raise Invalid("month must be 1-12 and year a Gregorian year", field="month")
    start = datetime(year, month, 1, tzinfo=BANGKOK)
    following = date(year + month // 12, month % 12 + 1, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=BANGKOK)


async def monthly(store: Store, *, org: str, year: int, month: int) -> dict[str, Any]:
    """Return the statistics of the cases opened in ``year``-``month`` (Bangkok time)."""
    start, end = month_bounds(year, month)
    tally = await period_tally(store, org=org, start=start, end=end)
    return tally.summary(period=f"{year:04d}-{month:02d}", org=org)


def summarise(cases: list[dict[str, Any]], *, period: str, org: str) -> dict[str, Any]:
    """Return the figures of a month's cases (no personal data: only categories and counts)."""
    hours = [
        _hours(doc["resolution"]["at"] - doc["created_at"])
        for doc in cases
        if (doc.get("resolution") or {}).get("at")
    ]
    closures = [doc["closure"] for doc in cases if doc.get("closure")]
    scores = [c["score"] for c in closures if c.get("score")]
    return {
        "period": period,
        "org": org,
        "cases": len(cases),
        "by_status": _count(cases, "status"),
        "by_category": _count(cases, "category"),
        "by_topic": _count(cases, "topic"),
        "by_channel": _count(cases, "channel"),
        "by_unit": _count(cases, "unit"),
        "by_urgency": _count(cases, "urgency"),
        "sla_breached": sum(1 for doc in cases if (doc.get("sla") or {}).get("breach_reported")),
        "reopened": sum(1 for doc in cases if doc.get("reopen_count")),
        "resolved": len(hours),
        "resolution_hours": {
            "median": round(statistics.median(hours), 1) if hours else None,
            "p90": round(_percentile(hours, 0.9), 1) if hours else None,
        },
        "closed": len(closures),
        "closed_on_behalf": sum(1 for c in closures if c.get("on_behalf")),
        "satisfaction": {
            "responses": len(scores),
            "average": round(statistics.fmean(scores), 2) if scores else None,
            "scores": {str(n): scores.count(n) for n in range(1, 6)},
        },
    }


def _count(cases: list[dict[str, Any]], field: str) -> dict[str, int]:
    return ranked(Counter(str(doc.get(field) or "unknown") for doc in cases))


def _hours(span: timedelta) -> float:
    return span.total_seconds() / 3600


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
