"""Classify a contact for routing: hazard rules first, then the trained model, then a threshold.

A hazard (``hazards.py``) makes the case urgent whatever else the text says
and is never left to triage: if the model is unsure of the topic, the
organisation's hazard topic stands in. Otherwise the model's topic routes
the case only when its confidence reaches the organisation's threshold, or
when the customer's own hint (the app's category, the IVR menu) agrees with
it; below that the case goes to the triage desk.

The model is loaded (or trained from the seed data once and cached under
``<data_dir>/models``) in a worker thread at start; until it is ready the
replica reports itself not ready, and classification waits for it rather
than sending everything to triage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from services.routing.cases.domain import Classification
from services.routing.classification.hazards import find_hazards
from services.routing.classification.model import Prediction
from services.routing.classification.taxonomy import Taxonomy
from services.routing.org.config import OrgConfig
from shared.messages import ContactScreened

log = logging.getLogger(__name__)

_HINT_KEYS = ("category_hint", "topic_hint")


class TextModel(Protocol):
    """A trained model: text in, labels with the topic's probability out."""

    def predict(self, text: str) -> Prediction:
        """Classify one text."""
        ...


def text_of(message: ContactScreened) -> str:
    """Return everything the customer wrote: subject, text and attachments' (OCR) text."""
    parts = [message.subject, message.text, *(a.text for a in message.attachments)]
    return "\n".join(part for part in parts if part)


class CaseClassifier:
    """Answer category, topic and urgency, and whether routing may trust the answer."""

    def __init__(
        self,
        org: OrgConfig,
        taxonomy: Taxonomy,
        *,
        model: TextModel | None = None,
        load: Callable[[], TextModel] | None = None,
    ) -> None:
        self._org = org
        self._topics = set(taxonomy.organisation(org.org).topic_keys)
        self._model = model
        self._load = load
        self._loading: asyncio.Task[TextModel | None] | None = None

    async def start(self) -> None:
        """Begin loading the model in a worker thread (returns at once)."""
        if self._model is None and self._load is not None and self._loading is None:
            self._loading = asyncio.create_task(self._load_model())

    async def _load_model(self) -> TextModel | None:
        assert self._load is not None
        try:
            model = await asyncio.to_thread(self._load)
        except Exception:
            log.exception("classifier model unavailable; hazard rules only, the rest to triage")
            return None
        log.info("classifier model ready", extra={"model": getattr(model, "version", None)})
        return model

    def status(self) -> dict[str, object]:
        """Report the model: ``loading``, ``ready`` (with its version) or ``none``."""
        if self._loading is not None and not self._loading.done():
            return {"state": "loading"}
        model = self._model
        if model is None and self._loading is not None:
            model = self._loading.result()
        if model is None:
            return {"state": "none"}
        return {"state": "ready", "model": getattr(model, "version", None)}

    async def model(self) -> TextModel | None:
        """Return the model, waiting for it if it is still loading."""
        if self._model is None and self._loading is not None:
            self._model = await self._loading
            self._loading = None
        return self._model

    async def classify(self, message: ContactScreened) -> Classification:
        """Classify a screened contact."""
        text = text_of(message)
        model = await self.model()
        prediction = await asyncio.to_thread(model.predict, text) if model and text else None
        # The model applies the hazard rules itself; without one, the rules run alone.
        hazards = list(prediction.hazards if prediction else find_hazards(text))
        hints = {str(message.meta.get(k)) for k in _HINT_KEYS if message.meta.get(k)}
        return self.decide(prediction, hazards=hazards, hints=hints & self._topics)

    def decide(
        self, prediction: Prediction | None, *, hazards: list[str], hints: set[str]
    ) -> Classification:
        """Combine the rules' and the model's answers (pure; see the module docstring)."""
        threshold = self._org.classification.threshold
        if prediction is None:
            topic = self._hazard_topic(hazards)
            return Classification(
                category="complaint" if topic else None,
                topic=topic,
                urgency="urgent" if hazards else "normal",
                confident=topic is not None,
                source="hazard_rule" if hazards else "none",
                hazards=hazards,
            )
        confident = prediction.confidence >= threshold or prediction.topic in hints
        topic = prediction.topic
        if hazards and not confident:
            topic = self._hazard_topic(hazards) or topic
            confident = True
        return Classification(
            category=prediction.category,
            topic=topic,
            urgency="urgent" if hazards else prediction.urgency,
            confidence=prediction.confidence,
            confident=confident,
            source="hazard_rule" if hazards else "model",
            hazards=hazards,
            model_version=prediction.model_version,
        )

    def _hazard_topic(self, hazards: list[str]) -> str | None:
        table = self._org.hazard_topics
        for hazard in hazards:
            topic = table.get(hazard) or table.get("*")
            if topic in self._topics:
                return topic
        return None
