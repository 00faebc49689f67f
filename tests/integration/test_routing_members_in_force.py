"""Members an admin added at run time are members everywhere: assigning, taking, the overview."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from shared.clock import BANGKOK, FrozenClock
from shared.store import Store
from tests.support.routing import Service, case_of, deliver, running_service, screened

pytestmark = pytest.mark.integration

MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)
RELIEF = "billing.relief"


@pytest.fixture
async def service(mongo_url: str, store: Store, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(
        mongo_url, store.db.name, clock=FrozenClock(MORNING), tmp_path=tmp_path
    ) as running:
        yield running


async def _billing_case(service: Service) -> dict[str, Any]:
    clock = service.routing.runtime.clock
    assert isinstance(clock, FrozenClock)
    message = screened(clock, text="ค่าไฟเดือนนี้แพงผิดปกติ")
    await deliver(service.routing, message)
    case = await case_of(service.routing, message.contact_id)
    return dict((await service.call("GET", f"/cases/{case.id}", role="agent")).json())


async def test_a_supervisor_assigns_to_a_member_only_the_override_names(service: Service) -> None:
    case = await _billing_case(service)
    assert case["unit"] == "pea-billing"
    before = await service.call(
        "POST", f"/cases/{case['id']}/assign", role="supervisor", json={"user": RELIEF}
    )
    assert before.status_code == 422  # not a member in the file
    members = [{"user": RELIEF, "capacity": 3}, {"user": "billing.orawan", "capacity": None}]
    changed = await service.call(
        "PUT",
        "/admin/units/pea-billing/members",
        role="admin",
        user="root",
        json={"members": members},
    )
    assert changed.status_code == 200, changed.text
    after = await service.call(
        "POST", f"/cases/{case['id']}/assign", role="supervisor", json={"user": RELIEF}
    )
    assert after.status_code == 200, after.text
    assert after.json()["assignee"] == RELIEF

    overview = (await service.call("GET", "/supervisor/overview", role="admin")).json()
    billing = next(u for u in overview["units"] if u["unit"] == "pea-billing")
    assert [m["user"] for m in billing["members"]] == [RELIEF, "billing.orawan"]
    assert next(m for m in billing["members"] if m["user"] == RELIEF)["open"] == 1
