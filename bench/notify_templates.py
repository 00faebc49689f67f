"""Measure what an admin waits for on the template page: checking a save and a preview.

A save is checked by laying the slot over the saved overrides and rendering
every kind on every channel in both languages (``with_overrides``); a preview
does the same and renders the slot's channels once more. Prints the median
and the slowest of ``--runs`` runs for a short slot, an email body and the
email frame every body extends, with one other override already saved. No
store is involved (notify reads the overrides once per call, a few ms).

    python bench/notify_templates.py [--runs 30]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.notify import slots
from services.notify.templates import default_templates, shipped_source

SAVED = {"en/reply.short": "Reply on {{ case_number }}: {{ reply_text }}"}
DRAFTS = {
    "th/acknowledged.short": "รับเรื่อง {{ case_number }} แล้วค่ะ",
    "th/resolved.body": str(shipped_source("th/resolved.body")) + "\nขอบคุณค่ะ",
    "th/_body": str(shipped_source("th/_body")).replace("ขอแสดงความนับถือ", "ด้วยความเคารพ"),
}


def preview(slot: str, overrides: dict[str, str]) -> object:
    """Check the set and render the slot's channels, as the preview endpoint does."""
    return slots.preview(default_templates().with_overrides(overrides), slot)


def timed(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """Return the median and the slowest time of ``runs`` calls, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    print(f"{'slot':24} {'check p50':>10} {'max':>8} {'preview p50':>12} {'max':>8}")
    for slot, draft in DRAFTS.items():
        overrides = {**SAVED, slot: draft}
        check = timed(runs, functools.partial(default_templates().with_overrides, overrides))
        shown = timed(runs, functools.partial(preview, slot, overrides))
        print(f"{slot:24} {check[0]:8.1f}ms {check[1]:6.1f}ms {shown[0]:10.1f}ms {shown[1]:6.1f}ms")


if __name__ == "__main__":
    main()
