"""Build the marked-up evaluation sets into JSONL.

Eight sets are built: the second (``pii_eval_unseen.txt`` into
``pii_eval_unseen.jsonl``), the third (``pii_eval_third.txt`` into
``pii_eval_third.jsonl``), the fourth (``pii_eval_fourth.txt`` into
``pii_eval_fourth.jsonl``), the fifth (``pii_eval_fifth.txt`` into
``pii_eval_fifth.jsonl``, held out whole), the sixth (``pii_eval_sixth.txt``
into ``pii_eval_sixth.jsonl``, held out whole), the seventh
(``pii_eval_seventh.txt`` into ``pii_eval_seventh.jsonl``, held out whole),
the eighth (``pii_eval_eighth.txt`` into ``pii_eval_eighth.jsonl``, held out
whole) and the ninth (``pii_eval_ninth.txt`` into ``pii_eval_ninth.jsonl``, held
out whole), each written before the detector was tuned on it.
A source holds one text a line, with
``\\n`` for a line break and ``\\t`` for a tab, personal data marked ``⟦kind|text⟧`` and look-alikes
that must stay visible marked ``⟪kind|text⟫``. Placeholders in braces are
filled with generated numbers so that checksums are right (or, for the
look-alikes, wrong): ``{nid}``, ``{nid-}``, ``{nid_th}``, ``{nid_sp}``,
``{badid}``, ``{badid-}``, ``{card}``, ``{card-}``, ``{cardplain}``, and
``{nid_ocr}`` (a dashed ID as a fax reads it: 0 as O, 1 as l) and ``{nid_words}`` (an
ID as speech-to-text writes it when it is read out: Thai digit words in its groups).
A line starting with ``#`` is a comment; ``@holdout`` switches the following
texts to the held-out part, scored but never inspected while tuning.

    python bench/pii_eval_build.py [--set unseen|third|fourth|fifth|sixth|seventh|eighth|
                                 ninth]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
# name: (source, target, id prefix, seed of the generated numbers)
SETS = {
    "unseen": ("pii_eval_unseen.txt", "pii_eval_unseen.jsonl", "unseen", 20261202),
    "third": ("pii_eval_third.txt", "pii_eval_third.jsonl", "third", 20261203),
    "fourth": ("pii_eval_fourth.txt", "pii_eval_fourth.jsonl", "fourth", 20261204),
    "fifth": ("pii_eval_fifth.txt", "pii_eval_fifth.jsonl", "fifth", 20261205),
    "sixth": ("pii_eval_sixth.txt", "pii_eval_sixth.jsonl", "sixth", 20261206),
    "seventh": ("pii_eval_seventh.txt", "pii_eval_seventh.jsonl", "seventh", 20261207),
    "eighth": ("pii_eval_eighth.txt", "pii_eval_eighth.jsonl", "eighth", 20261208),
    "ninth": ("pii_eval_ninth.txt", "pii_eval_ninth.jsonl", "ninth", 20261209),
}
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
THAI_DIGIT_WORDS = ("ศูนย์", "หนึ่ง", "สอง", "สาม", "สี่", "ห้า", "หก", "เจ็ด", "แปด", "เก้า")
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


def _spoken(dashed: str) -> str:
    """Write each digit as its Thai word, the groups of a dashed number apart."""
    return " ".join("".join(THAI_DIGIT_WORDS[int(d)] for d in g) for g in dashed.split("-"))


def fill(text: str, rng: random.Random) -> str:
    """Replace every placeholder with a generated number."""
    makers: dict[str, Callable[[], str]] = {
        "{nid}": lambda: _nid(rng),
        "{nid-}": lambda: _dashed(_nid(rng)),
        "{nid_th}": lambda: _dashed(_nid(rng)).translate(THAI_DIGITS),
        "{nid_sp}": lambda: _dashed(_nid(rng)).replace("-", " "),
        "{badid}": lambda: _nid(rng, valid=False),
        "{badid-}": lambda: _dashed(_nid(rng, valid=False)),
        "{card}": lambda: " ".join(re.findall("....", _luhn(rng))),
        "{card-}": lambda: "-".join(re.findall("....", _luhn(rng))),
        "{cardplain}": lambda: _luhn(rng),
        "{nid_ocr}": lambda: _dashed(_nid(rng)).replace("0", "O").replace("1", "l"),
        "{nid_words}": lambda: _spoken(_dashed(_nid(rng))),
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


def build(name: str) -> None:
    """Write the JSONL file of one set."""
    source, target, prefix, seed = SETS[name]
    rng = random.Random(seed)
    part = "tune"
    rows: list[dict[str, object]] = []
    for raw in (FIXTURES / source).read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw.strip() == "@holdout":
            part = "holdout"
            continue
        text, pii, decoys = parse(fill(raw.replace("\\n", "\n").replace("\\t", "\t"), rng))
        rows.append(
            {
                "id": f"{prefix}-{len(rows) + 1:03d}",
                "part": part,
                "text": text,
                "pii": pii,
                "decoys": decoys,
            }
        )
    (FIXTURES / target).write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    print(f"{name}: {len(rows)} texts, {sum(r['part'] == 'holdout' for r in rows)} held out")


def main() -> None:
    """Build every set, or the ones named."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=sorted(SETS), action="append", help="build only these")
    for name in parser.parse_args().set or list(SETS):
        build(name)


if __name__ == "__main__":
    main()
