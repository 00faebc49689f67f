"""Monthly statistics: counts per category and channel, resolution time, satisfaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from shared.clock import BANGKOK, FrozenClock
from shared.store import Store
from tests.integration.test_routing_api import act, new_case
from tests.support.routing import Service, running_service

pytestmark = pytest.mark.integration

DECEMBER = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)


@pytest.fixture
async def service(mongo_url: str, store: Store, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(
        mongo_url, store.db.name, clock=FrozenClock(DECEMBER), tmp_path=tmp_path
    ) as running:
        yield running


async def test_month_counts_resolution_time_and_satisfaction(service: Service) -> None:
    clock = service.routing.runtime.clock
    assert isinstance(clock, FrozenClock)
    rated = await new_case(service, "ค่าไฟแพงผิดปกติ")
    await new_case(service, "ไฟดับทั้งซอย", channel="line")
    clock.advance(timedelta(hours=6))
    await act(service, rated, "resolve", {"summary": "ตรวจมิเตอร์แล้ว"}, role="agent")
    await act(service, rated, "satisfaction", {"score": 4, "channel": "sms"}, role="notify")
    clock.set(datetime(2027, 1, 2, 9, 0, tzinfo=BANGKOK))
    await new_case(service, "แรงดันไฟตก")  # next month: not counted in December

    answer = await service.call(
        "GET", "/reports/monthly", role="manager", params={"year": 2026, "month": 12}
    )

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["period"] == "2026-12"
    assert report["cases"] == 2
    assert report["by_channel"] == {"app": 1, "line": 1}
    assert report["resolved"] == 1
    assert report["resolution_hours"]["median"] == 6.0
    assert report["closed"] == 1
    assert report["satisfaction"] == {
        "responses": 1,
        "average": 4.0,
        "scores": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
    }


async def test_statistics_are_for_managers_not_units(service: Service) -> None:
    answer = await service.call(
        "GET",
        "/reports/monthly",
        role="unit_member",
        unit="pea-triage",
        params={"year": 2026, "month": 12},
    )
    assert answer.status_code == 403
