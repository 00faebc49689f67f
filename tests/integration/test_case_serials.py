"""Routing's counters and loads on the real store: racing first cases, one query for a unit."""

from __future__ import annotations

import asyncio

import pytest

from services.routing.cases import store as case_store
from shared.store import Store

pytestmark = pytest.mark.integration


async def test_first_cases_of_a_year_racing_get_distinct_serials(store: Store) -> None:
    for year in (2031, 2032, 2033):
        serials = await asyncio.gather(*(case_store.next_serial(store, year) for _ in range(20)))
        assert sorted(serials) == list(range(1, 21))


async def test_member_loads_count_each_members_open_cases_in_one_query(store: Store) -> None:
    await store[case_store.CASES].insert_many(
        [
            {"_id": "c1", "holder": "u1:anna"},
            {"_id": "c2", "holder": "u1:anna"},
            {"_id": "c3", "holder": "u1:boon"},
            {"_id": "c4", "holder": "u2:anna"},  # another unit's case
            {"_id": "c5", "holder": None},
        ]
    )
    loads = await case_store.member_loads(store, "u1", ["anna", "boon", "chai"])
    assert loads == {"anna": 2, "boon": 1, "chai": 0}
    assert await case_store.member_loads(store, "u1", []) == {}
