"""Build tests/fixtures/pii_eval_unseen.jsonl from its marked-up source.

The source (tests/fixtures/pii_eval_unseen.txt) holds one text a line, with
``\\n`` for a line break, personal data marked ``⟦kind|text⟧`` and look-alikes
that must stay visible marked ``⟪kind|text⟫``. Placeholders in braces are
filled with generated numbers so that checksums are right (or, for the
look-alikes, wrong): ``{nid}``, ``{nid-}``, ``{nid_th}``, ``{nid_sp}``,
``{badid}``, ``{badid-}``, ``{card}``, ``{card-}``, ``{cardplain}``.
A line starting with ``#`` is a comment; ``@holdout`` switches the following
texts to the held-out part, scored but never inspected while tuning.

    python bench/pii_eval_build.py
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
SOURCE = FIXTURES / "pii_eval_unseen.txt"
TARGET = FIXTURES / "pii_eval_unseen.jsonl"
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
MARK = re.compile(r"⟦(\w+)\|(.*?)⟧|⟪(\w+)\|(.*?)⟫")


def _nid(rng: random.Random, valid: bool = True) -> str:
    digits = [rng.randint(1, 8)] + [rng.randint(0, 9) for _ in range(11)]
    check = (11 - sum(d * (13 - i) for i, d in enumerate(digits)) % 11) % 10
    if not valid:
        check = (check + rng.randint(1, 9)) % 10
    return "".join(map(str, [*digits, check]))


def _luhn(rng: random.Random) -> str:
    body = [4] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(body)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    return "".join(map(str, [*body, (10 - total % 10) % 10]))


def _dashed(nid: str) -> str:
    return f"{nid[0]}-{nid[1:5]}-{nid[5:10]}-{nid[10:12]}-{nid[12]}"


def fill(text: str, rng: random.Random) -> str:
    """Replace every placeholder with a generated number."""
    makers = {
        "{nid}": lambda: _nid(rng),
        "{nid-}": lambda: _dashed(_nid(rng)),
        "{nid_th}": lambda: _dashed(_nid(rng)).translate(THAI_DIGITS),
        "{nid_sp}": lambda: _dashed(_nid(rng)).replace("-", " "),
        "{badid}": lambda: _nid(rng, valid=False),
        "{badid-}": lambda: _dashed(_nid(rng, valid=False)),
        "{card}": lambda: " ".join(re.findall("....", _luhn(rng))),
        "{card-}": lambda: "-".join(re.findall("....", _luhn(rng))),
        "{cardplain}": lambda: _luhn(rng),
    }
    for key, make in makers.items():
        while key in text:
            text = text.replace(key, make(), 1)
    return text


def parse(line: str) -> tuple[str, list[dict[str, object]], list[dict[str, object]]]:
    """Return the plain text and its PII and look-alike spans."""
    out: list[str] = []
    pii: list[dict[str, object]] = []
    decoys: list[dict[str, object]] = []
    pos = 0
    length = 0
    for match in MARK.finditer(line):
        out.append(line[pos : match.start()])
        length += match.start() - pos
        kind, value, target = (
            (match[1], match[2], pii) if match[1] else (match[3], match[4], decoys)
        )
        target.append({"start": length, "end": length + len(value), "kind": kind})
        out.append(value)
        length += len(value)
        pos = match.end()
    out.append(line[pos:])
    return "".join(out), pii, decoys


def main() -> None:
    """Write the JSONL file."""
    rng = random.Random(20261202)
    part = "tune"
    rows = []
    for raw in SOURCE.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw.strip() == "@holdout":
            part = "holdout"
            continue
        text, pii, decoys = parse(fill(raw.replace("\\n", "\n"), rng))
        rows.append(
            {"id": f"unseen-{len(rows) + 1:03d}", "part": part, "text": text,
             "pii": pii, "decoys": decoys}
        )
    TARGET.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    print(f"{len(rows)} texts, {sum(r['part'] == 'holdout' for r in rows)} held out")


if __name__ == "__main__":
    main()
