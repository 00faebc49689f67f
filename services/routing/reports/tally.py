"""What a period report counts, in a form that adds up: a period's tally is the sum of its days'.

A ``Tally`` of some cases holds counts per group, and for each duration the
report takes a median or p90 of, the exact histogram of its values (each
value with how many cases had it), so those stay exact when days are added
together. ``summary()`` and ``figures()`` turn a tally into the monthly
statistics and the period figures; they equal what ``reports.summarise`` and
``report_periods.figures`` compute from the same cases (tests compare them
field by field). No I/O.

Stored form (``to_doc``): the counts as one JSON text, the histograms as
packed arrays, because the embedded store decodes every BSON field in
Python (a million fields take 0.6 s, the same in one value 0.03 s).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from bson import Binary

from services.routing.reports.histogram import Histogram, median_and_p90

DIMENSIONS = ("by_category", "by_topic", "by_channel", "by_unit", "by_urgency", "by_area")
LOW_SCORE = 2  # a score at or below this is a low score (it reopens the case too)
RECURRING = 3  # this many cases of one topic in one district is a recurring issue
COUNTED = ("status", "category", "topic", "channel", "unit", "urgency")
SLA_GROUPS = ("unit", "topic")
# The case fields a tally reads: never personal data.
FIELDS = {
    **dict.fromkeys(COUNTED, 1),
    "area.province": 1,
    "area.district": 1,
    "sla.breach_reported": 1,
    "sla.targets": 1,
    "sla.consumed": 1,
    "sla.met_at": 1,
    "resolution.at": 1,
    # Not the closure's comment: only whether and how it was rated.
    "closure.score": 1,
    "closure.on_behalf": 1,
    "reopen_count": 1,
    "timeline.type": 1,
    "created_at": 1,
}
_MICROSECOND = timedelta(microseconds=1)

Values = npt.NDArray[Any]


def ranked(counts: Mapping[Any, int]) -> dict[Any, int]:
    """Return counts largest first, equal counts in the order of their keys."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _span_hours(microseconds: int) -> float:
    # The very arithmetic of reports._hours, from the same whole microseconds.
    return timedelta(microseconds=microseconds).total_seconds() / 3600


def _seconds_hours(seconds: float) -> float:
    return seconds / 3600


@dataclass
class SlaCell:
    """One group's figures for one SLA target: cases with it, met, met within it, times."""

    cases: int = 0
    met: int = 0
    within: int = 0
    spans: Histogram = field(default_factory=lambda: Histogram(np.float64))


@dataclass
class Tally:
    """Everything a period report counts about some cases."""

    cases: int = 0
    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {f"by_{f}": Counter() for f in (*COUNTED, "area")}
    )
    flags: Counter[str] = field(default_factory=Counter)
    scores: Counter[int] = field(default_factory=Counter)
    recurring: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    sla: dict[tuple[str, str, str], SlaCell] = field(default_factory=dict)
    resolution: Histogram = field(default_factory=lambda: Histogram(np.int64))

    @classmethod
    def total(cls, tallies: Iterable[Tally]) -> Tally:
        """Return the sum of ``tallies``."""
        out = cls()
        for tally in tallies:
            out.merge(tally)
        return out

    def add(self, doc: Mapping[str, Any]) -> None:
        """Count one case, reading its fields as ``report_periods.figures`` does."""
        self.cases += 1
        for name in COUNTED:
            self.counts[f"by_{name}"][_group(doc, name)] += 1
        area = doc.get("area") or {}
        province = str(area.get("province") or "unknown")
        self.counts["by_area"][province] += 1
        district = str(area.get("district") or "unknown")
        self.recurring[(province, district, _group(doc, "topic"))] += 1
        sla = doc.get("sla") or {}
        self.flags["sla_breached"] += bool(sla.get("breach_reported"))
        self.flags["reopened"] += bool(doc.get("reopen_count"))
        timeline = doc.get("timeline") or []
        self.flags["escalated"] += any(e.get("type") == "case.escalated" for e in timeline)
        resolved_at = (doc.get("resolution") or {}).get("at")
        if resolved_at:
            self.flags["resolved"] += 1
            self.resolution.add((resolved_at - doc["created_at"]) // _MICROSECOND)
        closure = doc.get("closure")
        if closure:
            self.flags["closed"] += 1
            self.flags["closed_on_behalf"] += bool(closure.get("on_behalf"))
            if closure.get("score"):
                self.scores[closure["score"]] += 1
        met_at = sla.get("met_at") or {}
        consumed = sla.get("consumed") or {}
        for name in SLA_GROUPS:
            group = _group(doc, name)
            for target, limit in (sla.get("targets") or {}).items():
                cell = self.sla.setdefault((name, group, target), SlaCell())
                cell.cases += 1
                if target in met_at:
                    used = float(consumed.get(target, 0))
                    cell.met += 1
                    cell.within += used <= float(limit)
                    cell.spans.add(used)

    def merge(self, other: Tally) -> None:
        """Add ``other``'s cases to this tally."""
        self.cases += other.cases
        for name, counts in other.counts.items():
            self.counts[name].update(counts)
        self.flags.update(other.flags)
        self.scores.update(other.scores)
        self.recurring.update(other.recurring)
        self.resolution.merge(other.resolution)
        for key, theirs in other.sla.items():
            mine = self.sla.setdefault(key, SlaCell())
            mine.cases += theirs.cases
            mine.met += theirs.met
            mine.within += theirs.within
            mine.spans.merge(theirs.spans)

    def comparison(self, period: str) -> dict[str, Any]:
        """Return what a report shows of another period: its count and its groups."""
        return {"period": period, "cases": self.cases, **self._dimensions(DIMENSIONS)}

    def summary(self, *, period: str, org: str) -> dict[str, Any]:
        """Return the monthly statistics, as ``reports.summarise`` computes them from the cases."""
        resolved = self.flags["resolved"]
        median = p90 = None
        if resolved:
            median, p90 = median_and_p90(self.resolution, resolved, _span_hours)
        responses = sum(self.scores.values())
        return {
            "period": period,
            "org": org,
            "cases": self.cases,
            **self._dimensions(tuple(f"by_{name}" for name in COUNTED)),
            "sla_breached": self.flags["sla_breached"],
            "reopened": self.flags["reopened"],
            "resolved": resolved,
            "resolution_hours": {
                "median": round(median, 1) if median is not None else None,
                "p90": round(p90, 1) if p90 is not None else None,
            },
            "closed": self.flags["closed"],
            "closed_on_behalf": self.flags["closed_on_behalf"],
            "satisfaction": {
                "responses": responses,
                "average": (
                    round(sum(s * n for s, n in self.scores.items()) / responses, 2)
                    if responses
                    else None
                ),
                "scores": {str(n): self.scores.get(n, 0) for n in range(1, 6)},
            },
        }

    def figures(self, *, period: str, org: str) -> dict[str, Any]:
        """Return the period figures, as ``report_periods.figures`` computes them from the cases."""
        report = self.summary(period=period, org=org)
        report["by_area"] = ranked(self.counts["by_area"])
        satisfaction = report["satisfaction"]
        scores = satisfaction["scores"]
        satisfaction["response_rate"] = (
            round(satisfaction["responses"] / report["resolved"], 3) if report["resolved"] else None
        )
        satisfaction["low_scores"] = sum(scores[str(n)] for n in range(1, LOW_SCORE + 1))
        report["escalated"] = self.flags["escalated"]
        report["sla"] = {f"by_{name}": self._sla_by(name) for name in SLA_GROUPS}
        report["recurring"] = [
            {"province": p, "district": d, "topic": t, "cases": n}
            for (p, d, t), n in ranked(self.recurring).items()
            if n >= RECURRING
        ]
        return report

    def _dimensions(self, names: Iterable[str]) -> dict[str, dict[str, int]]:
        return {name: ranked(self.counts[name]) for name in names}

    def _sla_by(self, name: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for (dimension, group, target), cell in sorted(self.sla.items(), key=lambda i: i[0]):
            if dimension != name:
                continue
            median = p90 = None
            if cell.met:
                median, p90 = median_and_p90(cell.spans, cell.met, _seconds_hours)
            out.setdefault(group, {})[target] = {
                "cases": cell.cases,
                "met": cell.met,
                "within_target": cell.within,
                "compliance": round(cell.within / cell.cases, 3),
                "median_hours": round(median, 2) if median is not None else None,
                "p90_hours": round(p90, 2) if p90 is not None else None,
            }
        return out

    def to_doc(self) -> dict[str, Any]:
        """Return the tally as stored: the counts as JSON, the histograms packed."""
        cells, values, counts = [], [], []
        for (dimension, group, target), cell in sorted(self.sla.items(), key=lambda i: i[0]):
            spans, times = cell.spans.arrays()
            cells.append([dimension, group, target, cell.cases, cell.met, cell.within, len(spans)])
            values.append(spans)
            counts.append(times)
        resolution, resolved = self.resolution.arrays()
        text = {
            "cases": self.cases,
            "counts": self.counts,
            "flags": self.flags,
            "scores": list(self.scores.items()),
            "recurring": [[*key, n] for key, n in self.recurring.items()],
            "sla": cells,
        }
        return {
            "counts": json.dumps(text, ensure_ascii=False, separators=(",", ":")),
            "sla_values": _pack(values, np.float64),
            "sla_counts": _pack(counts, np.int64),
            "resolution_values": Binary(resolution.astype(np.int64).tobytes()),
            "resolution_counts": Binary(resolved.astype(np.int64).tobytes()),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Tally:
        """Return the tally ``to_doc`` stored (without histograms if they were not read)."""
        text = json.loads(doc["counts"])
        tally = cls(cases=text["cases"], flags=Counter(text["flags"]))
        for name, counts in text["counts"].items():
            tally.counts[name] = Counter(counts)
        tally.scores = Counter(dict(text["scores"]))
        tally.recurring = Counter({(p, d, t): n for p, d, t, n in text["recurring"]})
        with_spans = "sla_values" in doc
        values = _unpack(doc.get("sla_values"), np.float64)
        counts = _unpack(doc.get("sla_counts"), np.int64)
        offset = 0
        for dimension, group, target, cases, met, within, length in text["sla"]:
            cell = SlaCell(cases=cases, met=met, within=within)
            if with_spans:
                cell.spans.extend(
                    values[offset : offset + length], counts[offset : offset + length]
                )
            offset += length
            tally.sla[(dimension, group, target)] = cell
        tally.resolution.extend(
            _unpack(doc.get("resolution_values"), np.int64),
            _unpack(doc.get("resolution_counts"), np.int64),
        )
        return tally


def _group(doc: Mapping[str, Any], name: str) -> str:
    return str(doc.get(name) or "unknown")


def _pack(arrays: list[Values], dtype: type[np.generic]) -> Binary:
    joined = np.concatenate(arrays) if arrays else np.array([], dtype=dtype)
    return Binary(joined.astype(dtype).tobytes())


def _unpack(raw: bytes | None, dtype: type[np.generic]) -> Values:
    return np.frombuffer(raw or b"", dtype=dtype)
