"""Classifier artifacts: which one routing loads, and training a new one.

``vocdesk classifier train`` trains on the seed examples plus the agents'
corrections (``<data_dir>/labels/<org>.jsonl``) and saves a versioned
artifact under ``<data_dir>/models/``. Routing loads the newest artifact of
its organisation at start; with none, it trains on the seed data once and
caches that.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from services.routing.classification.labels import LabelLog
from services.routing.classification.model import (
    SEED_PATH,
    Classifier,
    Model,
    default_model,
    load_examples,
)
from shared.errors import ConfigError

log = logging.getLogger(__name__)


def models_dir(data_dir: Path) -> Path:
    """Return where artifacts live."""
    return data_dir / "models"


def newest_model(org: str, directory: Path) -> Model | None:
    """Return the newest loadable artifact of ``org`` (versions sort by their time stamp)."""
    for candidate in sorted(directory.glob(f"{org}-*"), reverse=True):
        try:
            return Model.load(candidate)
        except ConfigError as exc:
            log.warning("skipping model artifact %s: %s", candidate.name, exc)
    return None


def load_model(org: str, data_dir: Path) -> Model:
    """Return the model routing classifies with."""
    directory = models_dir(data_dir)
    return newest_model(org, directory) or default_model(org, cache_dir=directory)


def train(org: str, data_dir: Path, *, examples: Sequence[Path] = ()) -> Path:
    """Train on the seed, the corrections and ``examples``; save and return the artifact."""
    sources = [SEED_PATH, LabelLog(data_dir).path(org), *examples]
    labelled = [e for path in sources if path.exists() for e in load_examples(path)]
    model = Classifier().train(labelled, org=org)
    return model.save(models_dir(data_dir) / model.version)
