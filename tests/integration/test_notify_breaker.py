"""A LINE outage: the circuit opens, attempts stay bounded, one address look-up per delivery."""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.acting import acting_headers
from tests.support.messages import line_contact
from tests.support.notify_stack import SERVICE_TOKEN, NotifyStack, case_event, notify_stack

# A loop of its own: retries held back by an open circuit end with this module
# instead of running on in the loop that later tests share.
pytestmark = pytest.mark.asyncio(loop_scope="module")

pytestmark = pytest.mark.integration

CUSTOMERS = 6
FAILURES_TO_OPEN = 3
OPEN_S = 0.5
OUTAGE_S = 3.0


@pytest.fixture
async def stack(mongo_url: str) -> AsyncIterator[NotifyStack]:
    async with notify_stack(
        mongo_url,
        notify_breaker_failures=FAILURES_TO_OPEN,
        notify_breaker_open_s=OPEN_S,
        notify_breaker_open_max_s=2 * OPEN_S,
    ) as running:
        yield running



async def providers(stack: NotifyStack) -> dict[str, dict[str, Any]]:
    async with stack.notify_client() as client:
        answer = await client.get(
            "/internal/v1/providers",
            headers=acting_headers(audience="notify", token=SERVICE_TOKEN, role="agent"),
        )
    assert answer.status_code == 200
    return {p["provider"]: p for p in answer.json()["providers"]}


async def notify_lookups(stack: NotifyStack) -> int:
    audit = stack.notify_store.client[f"{stack.settings.mongo_db_prefix}_privacy"]["audit"]
    return await audit.count_documents({"action": "reveal", "purpose": "notify_customer"})


async def test_line_outage_opens_the_circuit_and_bounds_attempts_and_lookups(
    stack: NotifyStack,
) -> None:
    stack.line.script = [(503, False)] * 100_000  # LINE answers 503 to everything
    contacts = [line_contact("U" + secrets.token_hex(16)) for _ in range(CUSTOMERS)]
    screened = [await stack.screen(c) for c in contacts]
    started = asyncio.get_running_loop().time()
    events = [await stack.publish(case_event(s, "case.opened")) for s in screened]

    for _ in range(500):
        if (await providers(stack)).get("line", {}).get("state") in ("open", "half_open"):
            break
        await asyncio.sleep(0.02)
    at_open = len(stack.line.requests)
    status = (await providers(stack))["line"]
    assert status["state"] in ("open", "half_open")
    assert "503" in status["reason"]
    await asyncio.sleep(OUTAGE_S)
    outage_s = asyncio.get_running_loop().time() - started
    during_outage = len(stack.line.requests)

    # Without the breaker each delivery retries every ~0.1 s here (about 30
    # tries each); with it: the first wave, then one probe per open period.
    assert during_outage <= CUSTOMERS + math.ceil(outage_s / OPEN_S) + 2
    assert during_outage > at_open  # probes did go out while LINE was down
    assert await notify_lookups(stack) == CUSTOMERS  # one audited look-up per delivery

    stack.line.script = []  # LINE is back
    docs = [await stack.delivery(e, timeout=60) for e in events]
    assert {d["status"] for d in docs} == {"sent"}
    users = sorted(str(c.customer.line_user_id) for c in contacts)
    assert sorted(to for _, to, _ in stack.line.delivered) == users  # each told once
    assert (await providers(stack))["line"]["state"] == "closed"
    assert await notify_lookups(stack) == CUSTOMERS  # the cached address served every retry
