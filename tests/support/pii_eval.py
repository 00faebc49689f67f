"""Scoring the personal-data detector on an evaluation set (``tests/fixtures/pii_eval_*.jsonl``)."""

from __future__ import annotations

import json
from pathlib import Path

from services.privacy.detect import detect

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def score(path: Path, part: str) -> tuple[float, float]:
    """Return the share of personal-data characters hidden and of look-alikes kept whole."""
    hidden = gold = kept = decoys = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        example = json.loads(line)
        if example["part"] != part:
            continue
        masked = {i for s in detect(example["text"]) for i in range(s.start, s.end)}
        for span in example["pii"]:
            chars = set(range(span["start"], span["end"]))
            gold += len(chars)
            hidden += len(chars & masked)
        for span in example["decoys"]:
            decoys += 1
            kept += not set(range(span["start"], span["end"])) & masked
    return hidden / gold, kept / decoys


def masked(text: str) -> list[str]:
    """Return the parts of ``text`` the detector hides."""
    return [text[s.start : s.end] for s in detect(text)]
