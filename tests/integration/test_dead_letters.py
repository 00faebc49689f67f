"""Dead letters on the real broker: listed with their reason and no data, replayed once, removed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.console import deps
from services.console.auth import User
from services.console.dead_letters import DeadLetterQueues, router
from shared.bus import QueueSpec, Subscription
from shared.bus.amqp import AmqpBus
from shared.errors import NotFound, Poison
from shared.http import install_error_handlers
from shared.messages import Envelope
from tests.support.broker import AMQP_URL, delete_queues, unique_spec
from tests.support.console_parts import console_parts
from tests.support.messages import topic_envelope

pytestmark = pytest.mark.integration


@pytest.fixture
async def spec() -> AsyncIterator[QueueSpec]:
    queue = unique_spec()
    yield queue
    await delete_queues(queue)


async def parked(queues: DeadLetterQueues, spec: QueueSpec, count: int) -> dict[str, Any]:
    for _ in range(300):
        (listing,) = await queues.list(queue=spec.name, limit=10)
        if listing["count"] == count:
            return listing
        await asyncio.sleep(0.05)
    raise AssertionError(f"{spec.dead_letter_queue} never held {count}")


async def test_poison_is_listed_with_its_reason_then_replayed_and_removed(spec: QueueSpec) -> None:
    bus = AmqpBus(AMQP_URL, queues={spec.name: spec})
    handled: list[str] = []
    healthy = False

    async def handler(envelope: Envelope) -> None:
        if not healthy:
            raise Poison("the unit's rule table is missing")
        handled.append(envelope.id)

    queues = DeadLetterQueues(AMQP_URL, queues={spec.name: spec})
    try:
        await bus.subscribe(Subscription(queue=spec.name, handler=handler, prefetch=1))
        secret = "คุณสมชาย 081-245-7730"
        envelope = topic_envelope(spec.bindings[0].replace("#", "msg"), text=secret)
        await bus.publish(envelope)

        listing = await parked(queues, spec, 1)
        (item,) = listing["items"]
        assert item["id"] == envelope.id
        assert item["type"] == "reply.requested"
        assert item["routing_key"] == envelope.routing_key
        assert "the unit's rule table is missing" in item["reason"]
        assert secret not in json.dumps(listing, ensure_ascii=False)  # metadata only
        assert (await parked(queues, spec, 1))["items"][0]["id"] == envelope.id  # looking keeps it

        healthy = True
        answer = await queues.replay(spec.name, envelope.id)
        assert answer["routing_key"] == envelope.routing_key
        for _ in range(300):
            if handled:
                break
            await asyncio.sleep(0.05)
        assert handled == [envelope.id]
        assert (await parked(queues, spec, 0))["items"] == []
        with pytest.raises(NotFound):
            await queues.replay(spec.name, envelope.id)  # replayed once, gone
    finally:
        await bus.close()


async def test_only_admins_reach_the_dead_letter_api() -> None:
    role = "agent"

    def current_user() -> User:
        return User(username="somsri", role=role, unit=None)

    app = FastAPI()
    install_error_handlers(app)
    app.state.parts = console_parts(bus=AmqpBus(AMQP_URL))  # the routes never touch the store
    app.dependency_overrides[deps.current_user] = current_user
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        assert (await client.get("/api/v1/admin/dead-letters")).status_code == 403
        role = "admin"
        answer = await client.get("/api/v1/admin/dead-letters", params={"queue": "notify.events"})
        assert answer.status_code == 200
        (queue,) = answer.json()["queues"]
        assert queue["queue"] == "notify.events"
        assert isinstance(queue["count"], int)
        unknown = await client.get("/api/v1/admin/dead-letters", params={"queue": "x"})
        assert unknown.status_code == 404
