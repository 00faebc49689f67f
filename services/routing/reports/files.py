"""A period report as a download: CSV, XLSX or the committee PDF, with its file name."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from services.routing.reports.export import to_csv, to_xlsx
from services.routing.reports.labels import check_lang

FileFormat = Literal["csv", "xlsx", "pdf"]
MEDIA: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def render(
    report: dict[str, Any], file_format: FileFormat, *, lang: str | None, now: datetime
) -> tuple[bytes, str]:
    """Return the file's bytes and its name (``vocdesk-<org>-<period>[-<lang>].<ext>``)."""
    name = f"vocdesk-{report['org']}-{report['period']}"
    if file_format == "pdf":
        from services.routing.reports.pdf import to_pdf  # fpdf2 only when a PDF is asked for

        chosen = check_lang(lang, str(report["org"]))
        return to_pdf(report, chosen, now=now), f"{name}-{chosen}.pdf"
    if file_format == "xlsx":
        return to_xlsx(report), f"{name}.xlsx"
    return to_csv(report).encode(), f"{name}.csv"
