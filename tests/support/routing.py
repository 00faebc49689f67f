"""Routing for tests: a model that answers by keyword, a bus that records, the service wired."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.routing.app import INDEXES, Routing, build, create_app
from services.routing.cases import store as case_store
from services.routing.cases.domain import Case
from services.routing.classification.hazards import find_hazards
from services.routing.classification.model import Prediction
from shared.clock import FrozenClock
from shared.messages import ContactScreened, Envelope
from shared.runtime import Runtime
from shared.settings import Settings
from shared.store import Store, connect
from tests.support.acting import acting_headers
from tests.support.messages import contact, screened_message
from tests.support.recording_bus import RecordingBus

TOKEN = "service-token-test"
# What the keyword model answers: (marker in the text, topic, category, confidence).
ANSWERS: Sequence[tuple[str, str, str, float]] = (
    ("ไฟดับ", "outage", "complaint", 0.91),
    ("ค่าไฟ", "billing", "complaint", 0.88),
    ("มิเตอร์", "meter", "request", 0.83),
    ("พนักงาน", "staff_conduct", "complaint", 0.8),
    ("แก๊ส", "lpg", "complaint", 0.9),
    ("สะสมแต้ม", "loyalty", "inquiry", 0.86),
    ("ไม่แน่ใจ", "other", "inquiry", 0.2),
)


class KeywordModel:
    """A stand-in for the trained model: answers by marker words, deterministic and instant."""

    version = "test-keywords"

    def predict(self, text: str) -> Prediction:
        """Return the first marker's labels, or an unsure 'other'."""
        hazards = find_hazards(text)
        for marker, topic, category, confidence in ANSWERS:
            if marker in text:
                return Prediction(
                    category=category,
                    topic=topic,
                    urgency="urgent" if hazards else "normal",
                    confidence=confidence,
                    hazards=hazards,
                    model_version=self.version,
                )
        return Prediction("inquiry", "other", "normal", 0.1, hazards, self.version)


def settings(tmp_path: Path, *, org: str = "pea") -> Settings:
    """Return test settings with a data directory of the test's own."""
    return Settings(
        env="test",
        org=org,
        service_token=TOKEN,
        data_dir=tmp_path / "var",
    )


def routing_for(
    store: Store,
    *,
    clock: FrozenClock,
    tmp_path: Path,
    bus: Any = None,
    org: str = "pea",
) -> tuple[Routing, RecordingBus]:
    """Wire routing on ``store`` with the keyword model and a recording bus."""
    recorder = bus or RecordingBus()
    runtime = Runtime(
        service="routing",
        settings=settings(tmp_path, org=org),
        bus=recorder,
        store=store,
        clock=clock,
    )
    return build(runtime, model=KeywordModel()), recorder


async def indexed_routing(
    store: Store, tmp_path: Path
) -> tuple[Routing, RecordingBus, FrozenClock]:
    """Wire routing on ``store`` with its indexes, a recording bus and a frozen clock."""
    await store.ensure_indexes(INDEXES)
    clock = FrozenClock(contact().received_at)
    service, bus = routing_for(store, clock=clock, tmp_path=tmp_path)
    return service, bus, clock


def screened(clock: FrozenClock, **overrides: Any) -> ContactScreened:
    """Return a screened contact received at the clock's now."""
    return screened_message(received_at=clock.now(), **overrides)


async def deliver(routing: Routing, message: ContactScreened) -> Envelope:
    """Hand one screened contact to routing's consumer; return its envelope."""
    envelope = Envelope.of(message)
    await routing.contacts.on_contact_screened(envelope)
    return envelope


async def case_of(routing: Routing, contact_id: str) -> Case:
    """Return the case holding ``contact_id``."""
    case = await case_store.find_by_contact(routing.runtime.store, contact_id)
    assert case is not None, f"no case holds contact {contact_id}"
    return case


@dataclass
class Service:
    """A running routing app reached over ASGI, with its parts."""

    routing: Routing
    http: httpx.AsyncClient
    bus: RecordingBus

    async def call(
        self,
        method: str,
        path: str,
        *,
        role: str,
        user: str = "tester",
        unit: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Call the internal API as ``user`` with ``role`` (and ``unit``)."""
        headers = acting_headers(audience="routing", token=TOKEN, role=role, user=user, unit=unit)
        headers.update(kwargs.pop("headers", {}))
        return await self.http.request(method, "/internal/v1" + path, headers=headers, **kwargs)


@asynccontextmanager
async def running_service(
    mongo_url: str, database: str, *, clock: FrozenClock, tmp_path: Path, org: str = "pea"
) -> AsyncIterator[Service]:
    """Run the routing app (lifespan, background loops) on ``database`` with a recording bus."""
    bus = RecordingBus()
    runtime = Runtime(
        service="routing",
        settings=settings(tmp_path, org=org),
        bus=bus,
        store=connect(mongo_url, database),
        clock=clock,
    )
    app = create_app(runtime, model=KeywordModel())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://routing") as http:
            yield Service(app.state.routing, http, bus)
