"""Measure the personal-data detector on the evaluation sets.

Prints, for the first example set (``pii_examples.jsonl``, which the rules
were written from), for the second (``pii_eval_unseen.jsonl``), the third
(``pii_eval_third.jsonl``), the fourth (``pii_eval_fourth.jsonl``), the
fifth (``pii_eval_fifth.jsonl``, held out whole), the sixth
(``pii_eval_sixth.jsonl``), the seventh (``pii_eval_seventh.jsonl``), the
eighth (``pii_eval_eighth.jsonl``) and the ninth (``pii_eval_ninth.jsonl``), all
four held out whole, each written before tuning on
it and each with a ``holdout`` part never inspected while tuning, the
character-level
recall and precision per kind and overall, and the share of look-alike
(decoy) spans kept whole. ``--speed`` times ``masking.mask`` (detection and
masking) on 1 KB texts made of complaints and evaluation texts, wall clock
and CPU, against the goal of p99 under 5 ms.

    python bench/pii.py [--misses] [--speed] [--set examples|tune|holdout|third-tune|
                                     third-holdout|fourth-tune|fourth-holdout|fifth|sixth|seventh|
                                     eighth|ninth]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.privacy.detect import detect
from services.privacy.masking import mask

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
SETS = {
    "examples": (FIXTURES / "pii_examples.jsonl", None),
    "tune": (FIXTURES / "pii_eval_unseen.jsonl", "tune"),
    "holdout": (FIXTURES / "pii_eval_unseen.jsonl", "holdout"),
    "third-tune": (FIXTURES / "pii_eval_third.jsonl", "tune"),
    "third-holdout": (FIXTURES / "pii_eval_third.jsonl", "holdout"),
    "fourth-tune": (FIXTURES / "pii_eval_fourth.jsonl", "tune"),
    "fourth-holdout": (FIXTURES / "pii_eval_fourth.jsonl", "holdout"),
    "fifth": (FIXTURES / "pii_eval_fifth.jsonl", "holdout"),
    "sixth": (FIXTURES / "pii_eval_sixth.jsonl", "holdout"),
    "seventh": (FIXTURES / "pii_eval_seventh.jsonl", "holdout"),
    "eighth": (FIXTURES / "pii_eval_eighth.jsonl", "holdout"),
    "ninth": (FIXTURES / "pii_eval_ninth.jsonl", "holdout"),
}


def chars(spans: Sequence[Mapping[str, object]], kind: str | None = None) -> set[int]:
    """Return the character offsets covered by spans, optionally of one kind."""
    return {
        i
        for s in spans
        if kind is None or s["kind"] == kind
        for i in range(int(str(s["start"])), int(str(s["end"])))
    }


def load(name: str) -> list[dict[str, Any]]:
    """Return the examples of one evaluation set."""
    path, part = SETS[name]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if part is None or r.get("part") == part]


def main() -> None:
    """Score every set (or one) and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", action="store_true", help="print each wrong character run")
    parser.add_argument("--set", choices=sorted(SETS), action="append", help="score only these")
    parser.add_argument("--speed", action="store_true", help="time masking of 1 KB texts only")
    args = parser.parse_args()
    if args.speed:
        speed()
        return
    for name in args.set or list(SETS):
        print(f"== {name}")
        score(load(name), misses=args.misses)


def speed(count: int = 2000, size: int = 1024) -> None:
    """Print p50 and p99 of masking texts of ``size`` UTF-8 bytes, wall clock and CPU."""
    pieces = [
        json.loads(line)["text"]
        for path in sorted(FIXTURES.glob("*.jsonl"))
        if path.name.startswith(("pii_", "complaints_"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    rng = random.Random(20261204)
    texts = []
    for _ in range(count):
        parts: list[str] = []
        while sum(len(p.encode()) + 1 for p in parts) < size:
            parts.append(rng.choice(pieces))
        texts.append("\n".join(parts).encode()[:size].decode(errors="ignore"))
    for text in texts[:50]:  # loads the word lists and compiles the patterns
        mask(text)
    wall: list[float] = []
    cpu: list[float] = []
    for text in texts:
        began, began_cpu = time.perf_counter(), time.process_time()
        mask(text)
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    for label, times in (("wall", sorted(wall)), ("cpu", sorted(cpu))):
        p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99) - 1]
        print(f"masking {count} texts of {size} bytes, {label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print("goal: p99 < 5 ms")


def score(examples: list[dict[str, Any]], *, misses: bool) -> None:
    """Print recall, precision and decoys kept for one set."""
    hits: Counter[str] = Counter()
    gold_total: Counter[str] = Counter()
    pred_total: Counter[str] = Counter()
    leaks = 0
    decoys = 0
    for example in examples:
        text, gold = example["text"], example["pii"]
        pred = [{"start": s.start, "end": s.end, "kind": s.kind} for s in detect(text)]
        for kind in {*(s["kind"] for s in gold), *(s["kind"] for s in pred)} | {None}:
            key = kind or "overall"
            g, p = chars(gold, kind), chars(pred, kind)
            hits[key] += len(g & p)
            gold_total[key] += len(g)
            pred_total[key] += len(p)
        masked = chars(pred)
        leaks += sum(1 for d in example["decoys"] if chars([d]) & masked)
        decoys += len(example["decoys"])
        if misses:
            report_misses(example["id"], text, chars(gold), masked)
    print(f"{'kind':<14}{'recall':>8}{'precision':>11}{'gold':>7}{'masked':>8}")
    for key in sorted(gold_total, key=lambda k: (k == "overall", k)):
        recall = hits[key] / gold_total[key] if gold_total[key] else 1.0
        precision = hits[key] / pred_total[key] if pred_total[key] else 1.0
        print(f"{key:<14}{recall:>8.4f}{precision:>11.4f}{gold_total[key]:>7}{pred_total[key]:>8}")
    kept = (decoys - leaks) / decoys if decoys else 1.0
    print(f"texts: {len(examples)}; look-alikes kept whole: {decoys - leaks}/{decoys} = {kept:.4f}")


def report_misses(example_id: str, text: str, gold: set[int], masked: set[int]) -> None:
    """Print runs of characters missed or masked wrongly in one example."""
    for label, wrong in (("missed", gold - masked), ("extra", masked - gold)):
        for run in runs(sorted(wrong)):
            print(f"{example_id} {label}: {text[run[0] : run[-1] + 1]!r}")


def runs(offsets: list[int]) -> list[list[int]]:
    """Group sorted offsets into runs of consecutive numbers."""
    grouped: list[list[int]] = []
    for i in offsets:
        if grouped and grouped[-1][-1] == i - 1:
            grouped[-1].append(i)
        else:
            grouped.append([i])
    return grouped


if __name__ == "__main__":
    main()
