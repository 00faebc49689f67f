"""Measure the case classifier on a held-out split of the seed examples, per organisation.

The split is stratified by topic: 25 % held out with seed 13, the model trained on the
rest. Prints topic macro-F1, category and urgency accuracy, and how many hazard examples
come out urgent: those labelled urgent whose text the hazard rules flag, and every example
labelled urgent. For context it also prints topic macro-F1 over 4-fold cross-validation
(the held-out split has only 35 examples for ``or``) and how many urgent examples in the
whole seed set the rules alone flag. Exits 1 if topic macro-F1 is below 0.85 for any
organisation or any held-out urgent example is not predicted urgent.

    python bench/classifier.py [--misses]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.routing.classification.hazards import find_hazards
from services.routing.classification.model import SEED_PATH, Classifier, Example, load_examples

MIN_TOPIC_F1 = 0.85
SEED = 13


def topic_f1(model_examples: Sequence[Example], test: Sequence[Example], org: str) -> float:
    """Train on ``model_examples`` and return topic macro-F1 on ``test``."""
    model = Classifier().train(model_examples, org=org)
    predicted = [p.topic for p in model.predict_many([e.text for e in test])]
    return float(f1_score([e.topic for e in test], predicted, average="macro"))


def bench_org(org: str, examples: Sequence[Example], *, misses: bool) -> bool:
    """Print one organisation's figures; return whether it meets the targets."""
    mine = [e for e in examples if e.org == org]
    train, test = train_test_split(
        mine, test_size=0.25, random_state=SEED, stratify=[e.topic for e in mine]
    )
    started = time.perf_counter()
    model = Classifier().train(train, org=org)
    seconds = time.perf_counter() - started
    predictions = model.predict_many([e.text for e in test])
    topic = float(
        f1_score([e.topic for e in test], [p.topic for p in predictions], average="macro")
    )
    category = accuracy_score([e.category for e in test], [p.category for p in predictions])
    urgency = accuracy_score([e.urgency for e in test], [p.urgency for p in predictions])
    urgent = [(e, p) for e, p in zip(test, predictions, strict=True) if e.urgency == "urgent"]
    flagged = [(e, p) for e, p in urgent if find_hazards(e.text)]
    folds = StratifiedKFold(4, shuffle=True, random_state=SEED).split(mine, [e.topic for e in mine])
    cv = [topic_f1([mine[i] for i in a], [mine[i] for i in b], org) for a, b in folds]
    all_urgent = [e for e in mine if e.urgency == "urgent"]

    def share(pairs: Sequence[tuple[Example, object]]) -> str:
        hits = sum(1 for _, p in pairs if getattr(p, "urgency", None) == "urgent")
        return f"{hits}/{len(pairs)}"

    print(f"== {org}: trained on {len(train)} in {seconds:.1f} s, held out {len(test)}")
    print(f"  topic macro-F1              {topic:.3f}   (target >= {MIN_TOPIC_F1})")
    print(f"  category accuracy           {category:.3f}")
    print(f"  urgency accuracy            {urgency:.3f}")
    print(f"  urgent, hazard rules match  {share(flagged)} predicted urgent")
    print(f"  urgent, all                 {share(urgent)} predicted urgent")
    print(f"  to triage (confidence low)  {sum(p.needs_triage for p in predictions)}/{len(test)}")
    print(
        f"  context: 4-fold CV topic macro-F1 {sum(cv) / len(cv):.3f} "
        f"({', '.join(f'{f:.3f}' for f in cv)})"
    )
    print(
        f"  context: rules alone flag {sum(1 for e in all_urgent if find_hazards(e.text))}"
        f"/{len(all_urgent)} urgent examples in the whole seed set"
    )
    if misses:
        for e, p in zip(test, predictions, strict=True):
            if (e.topic, e.urgency) != (p.topic, p.urgency):
                print(
                    f"    {e.id}: {e.topic}/{e.urgency} -> {p.topic}/{p.urgency} "
                    f"({p.confidence:.2f}) {e.text[:70]!r}"
                )
    return topic >= MIN_TOPIC_F1 and all(p.urgency == "urgent" for _, p in urgent)


def main() -> None:
    """Benchmark both demo organisations and exit non-zero if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", action="store_true", help="print each wrong topic/urgency")
    args = parser.parse_args()
    examples = load_examples(SEED_PATH)
    ok = [bench_org(org, examples, misses=args.misses) for org in ("pea", "or")]
    print("PASS" if all(ok) else "FAIL")
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()
