"""Classification for routing: hazards first, the model's topic only when it is sure enough."""

from __future__ import annotations

from functools import cache

from services.routing.classification.model import Prediction
from services.routing.classification.pipeline import CaseClassifier
from services.routing.classification.taxonomy import load_taxonomy
from services.routing.org.config import load_org
from tests.support.messages import screened_message
from tests.support.routing import KeywordModel


@cache
def classifier(org: str = "pea", *, model: bool = True) -> CaseClassifier:
    """Return the organisation's classifier, with the keyword model or none at all."""
    return CaseClassifier(load_org(org), load_taxonomy(), model=KeywordModel() if model else None)


def prediction(topic: str, confidence: float, urgency: str = "normal") -> Prediction:
    """Return what a model might say."""
    return Prediction("complaint", topic, urgency, confidence, (), "m-1")


async def test_a_fallen_pole_is_urgent_whatever_the_model_says() -> None:
    message = screened_message(text="ค่าไฟแพงมาก แล้วเสาไฟล้มทับรั้วบ้านด้วย")

    result = await classifier().classify(message)

    assert result.topic == "billing"  # the model is sure of the topic…
    assert result.urgency == "urgent"  # …but the hazard decides the urgency
    assert result.hazards == ["fallen_pole"]
    assert result.source == "hazard_rule"


def test_an_unsure_model_sends_the_case_to_triage() -> None:
    result = classifier().decide(prediction("voltage", 0.3), hazards=[], hints=set())

    assert result.confident is False
    assert result.topic == "voltage"


def test_a_hazard_the_model_is_unsure_about_takes_the_hazard_topic() -> None:
    result = classifier().decide(prediction("other", 0.2), hazards=["downed_wire"], hints=set())

    assert (result.topic, result.urgency, result.confident) == ("hazard", "urgent", True)


def test_the_customers_own_hint_agreeing_with_the_model_is_enough() -> None:
    result = classifier().decide(prediction("meter", 0.3), hazards=[], hints={"meter"})

    assert result.confident is True


def test_without_a_model_only_hazards_are_routed_and_the_rest_is_unsure() -> None:
    pea, oil = classifier("pea", model=False), classifier("or", model=False)

    assert pea.decide(None, hazards=["transformer_fire"], hints=set()).topic == "hazard"
    assert oil.decide(None, hazards=["gas_leak"], hints=set()).topic == "lpg"
    plain = pea.decide(None, hazards=[], hints=set())
    assert (plain.topic, plain.confident, plain.source) == (None, False, "none")
