"""Routing with the trained Thai classifier (trained once per run on the seed data)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from services.routing.app import INDEXES, build
from services.routing.classification.artifacts import load_model
from shared.clock import BANGKOK, FrozenClock
from shared.runtime import Runtime
from shared.store import Store
from tests.support.routing import RecordingBus, case_of, deliver, screened, settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose model cache outlives one test."""
    return tmp_path_factory.mktemp("routing-models")


@pytest.mark.parametrize(
    ("text", "unit", "urgency"),
    [
        ("เสาไฟฟ้าล้มขวางถนน สายไฟห้อยลงมาเกือบถึงพื้น หน้าวัด อ.สันทราย", "pea-chiangmai", "urgent"),
        ("ใบแจ้งค่าไฟเดือนนี้สูงผิดปกติ จดหน่วยผิดหรือเปล่าคะ", "pea-billing", "normal"),
    ],
    ids=["fallen-pole-in-san-sai", "billing-question"],
)
async def test_the_trained_classifier_routes_real_contacts(
    store: Store, tmp_path: Path, models: Path, text: str, unit: str, urgency: str
) -> None:
    await store.ensure_indexes(INDEXES)
    clock = FrozenClock(datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK))
    config = settings(tmp_path)
    runtime = Runtime("routing", config, RecordingBus(), store, clock)
    routing = build(runtime, model=load_model("pea", models))
    message = screened(clock, text=text)

    await deliver(routing, message)

    case = await case_of(routing, message.contact_id)
    assert (case.unit, case.urgency) == (unit, urgency)
    assert case.classification.source in ("model", "hazard_rule")
    assert case.classification.model_version is not None
