"""A period report as flat rows: section, group, figure, value (CSV for spreadsheets)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from services.routing.reports.periods import DIMENSIONS


def rows(report: dict[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """Yield one row per figure: counts with their comparisons, SLA, satisfaction, recurrence."""
    yield ("summary", "", "cases", report["cases"])
    for key in ("resolved", "closed_on_behalf", "reopened", "escalated", "sla_breached"):
        yield ("summary", "", key, report[key])
    for name in ("previous", "last_year"):
        yield ("summary", report[name]["period"], "cases", report[name]["cases"])
    for dimension in DIMENSIONS:
        for group, count in report[dimension].items():
            yield (dimension, group, "cases", count)
            yield (dimension, group, "previous", report["previous"][dimension].get(group, 0))
            yield (dimension, group, "last_year", report["last_year"][dimension].get(group, 0))
    for by in ("by_unit", "by_topic"):
        for group, targets in report["sla"][by].items():
            for target, figures in targets.items():
                for figure, value in figures.items():
                    yield (f"sla_{by}", f"{group}/{target}", figure, value)
    satisfaction = report["satisfaction"]
    for key in ("responses", "response_rate", "average", "low_scores"):
        yield ("satisfaction", "", key, satisfaction[key])
    for score, count in satisfaction["scores"].items():
        yield ("satisfaction", score, "responses", count)
    for issue in report["recurring"]:
        where = f"{issue['province']}/{issue['district']}/{issue['topic']}"
        yield ("recurring", where, "cases", issue["cases"])


def to_csv(report: dict[str, Any]) -> str:
    """Return the report as CSV with a header row (UTF-8 text; Thai names as they are)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "group", "figure", "value"])
    writer.writerows(("" if v is None else v for v in row) for row in rows(report))
    return out.getvalue()


def to_xlsx(report: dict[str, Any]) -> bytes:
    """Return the report as an XLSX workbook: one sheet of the same rows as the CSV."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = str(report["period"])
    sheet.append(["section", "group", "figure", "value"])
    for row in rows(report):
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
