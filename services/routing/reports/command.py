"""``vocdesk report monthly|quarterly``: a period report from routing's store.

As JSON, CSV, XLSX, or the committee PDF in Thai or English (``--lang``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from pathlib import Path
from typing import Any

from services.routing.reports.export import to_csv
from services.routing.reports.files import render
from services.routing.reports.labels import LANGS
from services.routing.reports.periods import Kind, period_report
from shared.clock import SystemClock
from shared.errors import Invalid
from shared.org_files import known_orgs
from shared.runtime import open_store
from shared.settings import Settings

FORMATS = ("json", "csv", "xlsx", "pdf")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``report`` with its ``monthly`` and ``quarterly`` actions to the command."""
    report_cmd = commands.add_parser("report", help="management reports from routing's cases")
    kinds = report_cmd.add_subparsers(dest="kind", required=True)
    for kind, option, example in (
        ("monthly", "--month", "2026-10"),
        ("quarterly", "--quarter", "2026-Q4"),
    ):
        action = kinds.add_parser(kind, help=f"the {kind} report")
        action.add_argument(option, dest="period", required=True, help=f"for example {example}")
        action.add_argument("--org", choices=known_orgs(), default=None)
        action.add_argument("--format", choices=FORMATS, default="json")
        action.add_argument(
            "--lang",
            choices=LANGS,
            default=None,
            help="language of the PDF (default: the organisation's language, Thai unless set)",
        )
        action.add_argument("--out", help="write to this file instead of standard output")


def parse_period(kind: Kind, text: str) -> tuple[int, int]:
    """Return (year, month) from ``YYYY-MM`` or (year, quarter) from ``YYYY-Qn``."""
    pattern = r"(\d{4})-(\d{2})" if kind == "monthly" else r"(\d{4})-Q([1-4])"
    match = re.fullmatch(pattern, text)
    if not match:
        raise Invalid(
            f"{kind} period must look like {'2026-10' if kind == 'monthly' else '2026-Q4'}"
        )
    return int(match.group(1)), int(match.group(2))


async def build_report(
    settings: Settings, args: argparse.Namespace, mongo_url: str
) -> dict[str, Any]:
    """Build the report the arguments ask for from routing's store."""
    year, number = parse_period(args.kind, args.period)
    store = open_store(settings, "routing", mongo_url)
    try:
        return await period_report(
            store,
            org=args.org or settings.org,
            kind=args.kind,
            year=year,
            number=number,
            now=SystemClock().now(),
        )
    finally:
        await store.client.close()


def run_report(settings: Settings, args: argparse.Namespace, mongo_url: str) -> str:
    """Return the report as text in the chosen format, or write it to ``--out`` and say so."""
    report = asyncio.run(build_report(settings, args, mongo_url))
    if args.format in ("xlsx", "pdf"):
        data, name = render(report, args.format, lang=args.lang, now=SystemClock().now())
        out = args.out or name
        Path(out).write_bytes(data)
        return f"vocdesk: {args.kind} report {report['period']} written to {out}\n"
    if args.format == "csv":
        text = to_csv(report)
    else:
        text = json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        return f"vocdesk: {args.kind} report {report['period']} written to {args.out}\n"
    return text
