"""Case lists read their first pages from narrow ranges; what they answer is the view itself."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from services.routing import store as case_store
from shared.store import Store

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


async def _fill(store: Store) -> list[dict[str, object]]:
    rng = random.Random(7)
    docs = []
    for i in range(300):
        # Most cases are old, a few recent, some never due: every window is tried.
        age = timedelta(hours=rng.choice([1, 5, 30, 200, 2000, 9000]), minutes=i)
        due = None if i % 4 == 0 else NOW + timedelta(hours=rng.randint(-50, 5000))
        docs.append(
            {
                "_id": f"c{i:04d}",
                "lanes": ["all|*"],
                "created_at": NOW - age,
                "updated_at": NOW - age / 2,
                "due_sort": due or case_store.NEVER_DUE - timedelta(seconds=i),
                "urgency_rank": rng.randint(0, 3),
                "number": f"VOC-2026-{i:06d}",
            }
        )
    await store[case_store.CASES].insert_many(docs)
    return docs


def _expected(docs: list[dict[str, object]], keys: case_store.SortKeys) -> list[object]:
    ordered = list(docs)
    for field, direction in reversed(keys):
        ordered.sort(key=lambda d: d[field], reverse=direction < 0)  # type: ignore[arg-type,return-value]
    return [d["_id"] for d in ordered]


@pytest.mark.parametrize("sort", sorted(case_store.LIST_SORTS))
@pytest.mark.parametrize(("skip", "limit"), [(0, 25), (25, 25), (150, 50), (280, 50)])
async def test_every_page_is_the_views_page_whatever_range_it_was_read_from(
    store: Store, sort: str, skip: int, limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = await _fill(store)
    monkeypatch.setattr(case_store, "_from_doc", lambda doc: doc["_id"])
    keys = case_store.LIST_SORTS[sort]
    page, total = await case_store.list_cases(
        store, filters={"lanes": "all|*"}, skip=skip, limit=limit, sort=keys, now=NOW
    )
    assert total == 300
    assert page == _expected(docs, keys)[skip : skip + limit]


async def test_a_total_counts_again_after_a_case_is_written_here(store: Store) -> None:
    await _fill(store)
    first = await case_store.TOTALS.count(store, {"lanes": "all|*"})
    await store[case_store.CASES].insert_one({"_id": "extra", "lanes": ["all|*"]})
    # Written behind routing's back (another replica): the known total stands a while ...
    assert await case_store.TOTALS.count(store, {"lanes": "all|*"}) == first
    case_store.TOTALS.touch()  # ... and a write of this process counts again.
    assert await case_store.TOTALS.count(store, {"lanes": "all|*"}) == first + 1
