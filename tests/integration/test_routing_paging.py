"""Routing's case list refuses paging past its bounds with a reason, on the real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from services.routing.api.cases import MAX_PAGE, MAX_PER_PAGE
from shared.clock import BANGKOK, FrozenClock
from shared.store import Store
from tests.support.routing import Service, running_service

pytestmark = pytest.mark.integration


@pytest.fixture
async def service(mongo_url: str, store: Store, tmp_path: Path) -> AsyncIterator[Service]:
    clock = FrozenClock(datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK))
    async with running_service(mongo_url, store.db.name, clock=clock, tmp_path=tmp_path) as running:
        yield running


@pytest.mark.parametrize(
    "params",
    [
        {"page": 10**30},
        {"page": 2**62},  # page × per_page past a 64-bit skip
        {"page": MAX_PAGE + 1},
        {"page": 0},
        {"page": -3},
        {"per_page": MAX_PER_PAGE + 1},
        {"per_page": 10**30},
        {"per_page": -1},
    ],
)
async def test_paging_out_of_bounds_is_a_422_with_a_reason(
    service: Service, params: dict[str, Any]
) -> None:
    answer = await service.call("GET", "/cases", role="agent", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["reason"]


async def test_the_deepest_page_is_an_empty_page(service: Service) -> None:
    answer = await service.call(
        "GET", "/cases", role="agent", params={"page": MAX_PAGE, "per_page": MAX_PER_PAGE}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"] == []
    assert answer.json()["page"] == MAX_PAGE
