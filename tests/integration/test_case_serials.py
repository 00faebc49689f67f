"""Case numbers on the real store: the year's first cases racing for the counter all get one."""

from __future__ import annotations

import asyncio

import pytest

from services.routing import store as case_store
from shared.store import Store

pytestmark = pytest.mark.integration


async def test_first_cases_of_a_year_racing_get_distinct_serials(store: Store) -> None:
    for year in (2031, 2032, 2033):
        serials = await asyncio.gather(*(case_store.next_serial(store, year) for _ in range(20)))
        assert sorted(serials) == list(range(1, 21))
