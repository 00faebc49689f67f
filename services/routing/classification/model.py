"""Thai case classifier: topic, category and urgency for one organisation's contacts.

Features are TF-IDF over newmm word uni- and bigrams, TF-IDF over character n-grams (they
survive tokeniser mistakes and spelling variants) and per-topic keyword counts from the
taxonomy (they carry synonyms the small training set never shows). Each label has its own
calibrated linear SVM. Hazard rules (``hazards.py``) then force urgency to "urgent".

An artifact is a directory with ``model.pkl`` and ``meta.json``; its version is
``<org>-<yyyymmddHHMMSS>-<sha8>``, the digest covering the training data, the taxonomy's
keywords and the feature code version.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pythainlp
import sklearn
from pythainlp.corpus.common import thai_words
from pythainlp.tokenize import word_tokenize
from pythainlp.util import Trie, normalize, thai_digit_to_arabic_digit
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from services.routing.classification.hazards import find_hazards, is_auto_reply
from services.routing.classification.hazards import normalise as _normalise
from services.routing.classification.taxonomy import DATA_DIR, URGENCIES, Taxonomy, load_taxonomy
from shared.clock import Clock, SystemClock
from shared.errors import ConfigError, Invalid
from shared.org_files import known_orgs

FEATURE_VERSION = "1"  # bump when feature code changes, so cached artifacts get retrained
TRIAGE_THRESHOLD = 0.45  # below this topic probability a person checks the label
SEED_PATH = DATA_DIR / "complaints_train.jsonl"
LABELS = ("topic", "category", "urgency")
# newmm splits these into pieces the models cannot tell apart (ไฟ + ดับ, ค่า + ไฟ).
DOMAIN_WORDS = frozenset(
    "หม้อแปลง มิเตอร์ ไฟดับ ไฟฟ้าดับ ไฟตก ไฟฟ้าตก ไฟกระพริบ ไฟกะพริบ ค่าไฟ ค่าไฟฟ้า "  # noqa: SIM905 (reads best as text)
    "สายไฟ สายไฟฟ้า เสาไฟ เสาไฟฟ้า ไฟถนน ไฟฟ้าสาธารณะ ปั๊ม แก๊ส ก๊าซ ก๊าซหุงต้ม "
    "ถังแก๊ส น้ำมัน น้ำมันเครื่อง หล่อลื่น หัวจ่าย ตู้จ่าย ดีเซล เบนซิน แก๊สโซฮอล์ "
    "จดหน่วย ใบแจ้งหนี้ งดจ่าย ต่อไฟ ตัดไฟ ขอใช้ไฟ ติดเตียง ไฟดูด ไฟรั่ว ไฟช็อต "
    "ประกายไฟ สะสมแต้ม แอป ร้านกาแฟ".split()
)


@dataclass(frozen=True)
class Example:
    """One labelled contact, as stored in the training JSONL."""

    org: str
    text: str
    category: str
    topic: str
    urgency: str
    id: str | None = None
    channel: str | None = None
    province: str | None = None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Example:
        """Build an example from one parsed JSONL record."""
        fields = ("org", "text", "category", "topic", "urgency", "id", "channel", "province")
        return cls(**{key: raw[key] for key in fields if raw.get(key) is not None})

    def to_json(self) -> dict[str, Any]:
        """Return the JSONL record, without empty optional fields."""
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class Prediction:
    """What the classifier says about one text."""

    category: str
    topic: str
    urgency: str
    confidence: float
    hazards: tuple[str, ...]
    model_version: str

    @property
    def needs_triage(self) -> bool:
        """Tell whether the topic is too uncertain to route without a person."""
        return self.confidence < TRIAGE_THRESHOLD


@cache
def _dictionary() -> Trie:
    return Trie(set(thai_words()) | DOMAIN_WORDS)


def prepare(text: str) -> str:
    """Normalise text for the features: NFC, lower case, Arabic digits, numbers as one token."""
    text = thai_digit_to_arabic_digit(normalize(_normalise(text)))
    # Phone, account and house numbers are noise for the topic; that a number is there is not.
    return re.sub(r"\d+(?:[-.,/]\d+)*", "0", text)


def tokenize(text: str) -> list[str]:
    """Split prepared text into newmm words with the domain dictionary, dropping spaces."""
    words = word_tokenize(text, custom_dict=_dictionary(), engine="newmm", keep_whitespace=False)
    return [word for word in words if word.strip()]


class KeywordCounts(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Count each label's keywords in prepared text, on a log scale."""

    def __init__(self, keywords: tuple[tuple[str, ...], ...] = (), weight: float = 0.3) -> None:
        self.keywords = keywords
        self.weight = weight

    def fit(self, texts: Sequence[str], y: object = None) -> KeywordCounts:
        """Learn nothing: the keywords come from the taxonomy."""
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Return one row per text, one column per label."""
        counts = [[sum(t.count(w) for w in words) for words in self.keywords] for t in texts]
        return sparse.csr_matrix(np.log1p(np.array(counts, dtype=float)) * self.weight)


def _text_features() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    tokenizer=tokenize,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 4),
                    lowercase=False,
                    sublinear_tf=True,
                    min_df=2,
                ),
            ),
        ]
    )


@dataclass(frozen=True)
class _Fitted:
    """The fitted parts of a model: what gets pickled."""

    text: FeatureUnion
    keywords: dict[str, KeywordCounts]  # per label; a label without one sees text only
    heads: dict[str, Any]
    default_urgency: dict[str, str | None]

    def probabilities(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Return each label's class probabilities for prepared texts."""
        base = self.text.transform(texts)
        return {
            label: head.predict_proba(_with_keywords(base, self.keywords.get(label), texts))
            for label, head in self.heads.items()
        }


def _with_keywords(
    base: sparse.csr_matrix, counts: KeywordCounts | None, texts: Sequence[str]
) -> sparse.csr_matrix:
    if counts is None:
        return base
    return sparse.csr_matrix(sparse.hstack([base, counts.transform(texts)]))


def _head(labels: Sequence[str]) -> Any:
    """Return an untrained probabilistic classifier suited to how many examples each label has."""
    fewest = min(Counter(labels).values())
    if len(set(labels)) == 1:
        return DummyClassifier(strategy="most_frequent")
    if fewest < 2:  # calibration needs two examples of every label to cross-validate
        return SGDClassifier(loss="log_loss", class_weight="balanced", random_state=0)
    svm = LinearSVC(C=1.0, class_weight="balanced", random_state=0)
    # One SVM on all the data; the folds only fit the sigmoid that turns scores into
    # probabilities (an ensemble of fold models scored worse on held-out topics).
    return CalibratedClassifierCV(svm, method="sigmoid", cv=min(3, fewest), ensemble=False)


def _digest(examples: Sequence[Example], taxonomy: Taxonomy, org: str) -> str:
    """Return 8 hex digits naming the training data, the keywords and the feature code."""
    organisation = taxonomy.organisation(org)
    setup = [FEATURE_VERSION, repr(taxonomy.categories), repr(organisation.topics)]
    lines = sorted(json.dumps(e.to_json(), ensure_ascii=False, sort_keys=True) for e in examples)
    return hashlib.sha256("\n".join([*setup, *lines]).encode()).hexdigest()[:8]


class Model:
    """A trained classifier for one organisation."""

    def __init__(self, *, meta: dict[str, Any], fitted: _Fitted) -> None:
        self.meta = meta
        self._fitted = fitted

    @property
    def org(self) -> str:
        """Return the organisation this model classifies for."""
        return str(self.meta["org"])

    @property
    def version(self) -> str:
        """Return the artifact version, ``<org>-<yyyymmddHHMMSS>-<sha8>``."""
        return str(self.meta["version"])

    def predict(self, text: str) -> Prediction:
        """Classify one text."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify several texts at once (one pass through the features)."""
        probs = self._fitted.probabilities([prepare(t) for t in texts])
        classes = {label: head.classes_ for label, head in self._fitted.heads.items()}
        out = []
        for i, text in enumerate(texts):
            best = {label: int(np.argmax(p[i])) for label, p in probs.items()}
            topic = str(classes["topic"][best["topic"]])
            # A topic such as "hazard" is never less urgent than the taxonomy says.
            urgency = max(
                str(classes["urgency"][best["urgency"]]),
                self._fitted.default_urgency.get(topic) or "low",
                key=URGENCIES.index,
            )
            hazards = find_hazards(text)
            if hazards:
                urgency = "urgent"
            elif is_auto_reply(text):  # "เรื่องด่วน" in an out-of-office reply is not ours
                urgency = min(urgency, "normal", key=URGENCIES.index)
            out.append(
                Prediction(
                    category=str(classes["category"][best["category"]]),
                    topic=topic,
                    urgency=urgency,
                    confidence=round(float(probs["topic"][i][best["topic"]]), 4),
                    hazards=hazards,
                    model_version=self.version,
                )
            )
        return out

    def save(self, path: Path) -> Path:
        """Write the artifact directory ``path`` (which must not exist yet) and return it."""
        path = Path(path)
        if path.exists():
            raise FileExistsError(f"model artifact {path} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkdtemp makes the directory private, and it stays so: the vocabulary holds words
        # from the training texts.
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
        blob = pickle.dumps(self._fitted)
        meta = {**self.meta, "sha256": hashlib.sha256(blob).hexdigest()}
        (staging / "model.pkl").write_bytes(blob)
        (staging / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2))
        try:  # a rename, so readers never see half an artifact
            staging.rename(path)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return path

    @classmethod
    def load(cls, path: Path) -> Model:
        """Read an artifact directory written by ``save``; ConfigError if it cannot be used."""
        path = Path(path)
        try:
            meta = json.loads((path / "meta.json").read_text())
            blob = (path / "model.pkl").read_bytes()
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read model artifact {path}: {exc}") from exc
        built = (meta.get("feature_version"), meta.get("sklearn"))
        if built != (FEATURE_VERSION, sklearn.__version__):
            raise ConfigError(
                f"model artifact {path} was built with features/scikit-learn {built}, "
                f"this code has {(FEATURE_VERSION, sklearn.__version__)}"
            )
        if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
            raise ConfigError(f"model artifact {path} does not match its checksum")
        # Artifacts are written by this service into its own data directory; the checksum
        # catches truncation and mix-ups, and no path from a request ever reaches here.
        return cls(meta=meta, fitted=pickle.loads(blob))  # noqa: S301


class Classifier:
    """Trains one Model per organisation from labelled examples."""

    def __init__(self, *, taxonomy: Taxonomy | None = None, clock: Clock | None = None) -> None:
        self._taxonomy = taxonomy or load_taxonomy()
        self._clock = clock or SystemClock()

    def train(self, examples: Iterable[Example], *, org: str) -> Model:
        """Fit a model on the examples of ``org`` (other organisations' examples are skipped)."""
        organisation = self._taxonomy.organisation(org)
        mine = [e for e in examples if e.org == org]
        for example in mine:
            validate(example, self._taxonomy)
        if len({e.topic for e in mine}) < 2:
            raise Invalid(f"training {org!r} needs examples of at least two topics", field="topic")
        texts = [prepare(e.text) for e in mine]
        text = _text_features()
        base = text.fit_transform(texts)
        # Category cues ("ขอบคุณ", "อยากให้") also tell urgency: compliments and suggestions
        # are never pressing.
        cues = KeywordCounts(tuple(c.keywords for c in self._taxonomy.categories))
        topics = KeywordCounts(tuple(t.keywords for t in organisation.topics))
        keywords = {"topic": topics, "category": cues, "urgency": cues}
        heads = {}
        for label in LABELS:
            y = [getattr(e, label) for e in mine]
            heads[label] = _head(y).fit(_with_keywords(base, keywords.get(label), texts), y)
        default_urgency = {t.key: t.default_urgency for t in organisation.topics}
        created = self._clock.now().astimezone(UTC)
        meta = {
            "version": f"{org}-{created:%Y%m%d%H%M%S}-{_digest(mine, self._taxonomy, org)}",
            "org": org,
            "created_at": created.isoformat(),
            "training_size": len(mine),
            "labels": {label: sorted({getattr(e, label) for e in mine}) for label in LABELS},
            "feature_version": FEATURE_VERSION,
            "sklearn": sklearn.__version__,
            "pythainlp": pythainlp.__version__,
        }
        return Model(meta=meta, fitted=_Fitted(text, keywords, heads, default_urgency))


def validate(example: Example, taxonomy: Taxonomy | None = None) -> None:
    """Raise ConfigError for an unknown organisation, Invalid for a label it does not have."""
    taxonomy = taxonomy or load_taxonomy()
    taxonomy.organisation(example.org)
    if not example.text.strip():
        raise Invalid("example text is empty", field="text")
    if not taxonomy.is_category(example.category):
        raise Invalid(f"unknown category {example.category!r}", field="category")
    if not taxonomy.is_topic(example.org, example.topic):
        raise Invalid(f"{example.topic!r} is not a topic of {example.org!r}", field="topic")
    if example.urgency not in URGENCIES:
        raise Invalid(f"urgency must be one of {URGENCIES}", field="urgency")


def load_examples(path: Path) -> list[Example]:
    """Read labelled examples from a JSONL file; Invalid names the first bad line."""
    examples = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                examples.append(Example.from_json(json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise Invalid(f"{path}:{number}: not a labelled example ({exc})") from exc
    return examples


def record_correction(path_jsonl: Path, example: Example) -> None:
    """Append an agent's corrected label to ``path_jsonl`` as a new training example."""
    validate(example)
    path = Path(path_jsonl)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(example.to_json(), ensure_ascii=False) + "\n"
    # One write in append mode: concurrent writers' lines do not interleave.
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)


def train_from_jsonl(
    path: Path,
    out_dir: Path,
    orgs: Sequence[str] | None = None,
    *,
    classifier: Classifier | None = None,
) -> dict[str, Path]:
    """Train a model per organisation (each one with a file, by default); save under ``out_dir``."""
    classifier = classifier or Classifier()
    examples = load_examples(path)
    saved = {}
    for org in known_orgs() if orgs is None else orgs:
        model = classifier.train(examples, org=org)
        saved[org] = model.save(Path(out_dir) / model.version)
    return saved


def default_model(org: str, *, cache_dir: Path) -> Model:
    """Return the model trained on the seed data, training it only if ``cache_dir`` lacks it."""
    taxonomy = load_taxonomy()
    taxonomy.organisation(org)  # fail on an unknown org before reading any data
    examples = [e for e in load_examples(SEED_PATH) if e.org == org]
    digest = _digest(examples, taxonomy, org)
    for candidate in sorted(Path(cache_dir).glob(f"{org}-*-{digest}"), reverse=True):
        try:
            return Model.load(candidate)
        except ConfigError:
            continue  # built by another library version: train afresh below
    model = Classifier().train(examples, org=org)
    # Another process may have saved the same version first; ours is equivalent.
    with suppress(FileExistsError):
        model.save(Path(cache_dir) / model.version)
    return model
