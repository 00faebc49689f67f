"""Notify's delivery log answers only the roles that may see deliveries, by the signed assertion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from services.notify.app import create_app
from services.notify.store import DELIVERIES
from shared.bus.inproc import InProcessBus
from shared.runtime import Runtime
from shared.settings import Settings
from shared.store import Store
from tests.support.acting import acting_headers

pytestmark = pytest.mark.integration

TOKEN = "service-token-delivery-access"
CASE_ID = "case-delivery-access"


@pytest.fixture
async def notify(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    runtime = Runtime(
        service="notify",
        settings=Settings(env="test", service_token=TOKEN),
        bus=InProcessBus(),
        store=store,
        owns_bus=False,
    )
    await store[DELIVERIES].insert_one(
        {
            "_id": "n-ev-1",
            "event_id": "ev-1",
            "case_id": CASE_ID,
            "kind": "opened",
            "status": "sent",
            "channel": "line",
            "created_at": datetime(2026, 11, 18, 8, 0, tzinfo=UTC),
            "attempts": [],
        }
    )
    async with httpx.AsyncClient() as outbound:
        app = create_app(runtime, http=outbound)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notify.test") as client:
            yield client


async def deliveries(client: httpx.AsyncClient, role: str, **acting: str) -> httpx.Response:
    headers = acting_headers(audience="notify", token=TOKEN, role=role, **acting)
    return await client.get(f"/internal/v1/cases/{CASE_ID}/notifications", headers=headers)


READERS = ("agent", "supervisor", "admin", "system")
OTHERS = (("manager", None), ("dpo", None), ("notify", None), ("unit_member", "pea-fault"))


async def test_only_staff_who_answer_customers_see_a_case_deliveries(
    notify: httpx.AsyncClient,
) -> None:
    for role in READERS:
        answer = await deliveries(notify, role)
        assert answer.status_code == 200, (role, answer.text)
        assert [item["id"] for item in answer.json()["items"]] == ["n-ev-1"]
    for role, unit in OTHERS:
        answer = await deliveries(notify, role, **({"unit": unit} if unit else {}))
        assert answer.status_code == 403, (role, answer.text)
        assert role in answer.json()["reason"]
        assert "items" not in answer.json()


async def test_a_self_declared_role_header_does_not_open_the_log(notify: httpx.AsyncClient) -> None:
    headers = acting_headers(audience="notify", token=TOKEN, role="manager")
    headers["X-Acting-Role"] = "admin"
    answer = await notify.get(f"/internal/v1/cases/{CASE_ID}/notifications", headers=headers)
    assert answer.status_code == 403
