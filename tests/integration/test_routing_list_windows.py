"""Case lists read pages from bounded ranges of their order; what they answer is the view itself.

Also the lane books: the counts kept on every case write, recounted from the
cases when they are off.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.routing.cases import list_store
from services.routing.cases import lists as case_lists
from services.routing.cases import store as case_store
from shared.errors import Invalid
from shared.store import Store

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
STATUSES = ["routed", "acknowledged", "in_progress", "closed"]


def _docs(count: int = 300, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        # Most cases are old, a few recent, some never due, some sharing a time: every
        # range width and tie is tried.
        age = timedelta(hours=rng.choice([1, 5, 30, 200, 2000, 9000]), minutes=(i // 3) * 3)
        due = None if i % 4 == 0 else NOW + timedelta(hours=rng.randint(-50, 5000))
        docs.append(
            {
                "_id": f"c{i:04d}",
                "lanes": ["all|*"] + (["unit|*"] if i % 3 else []),
                "created_at": NOW - age,
                "updated_at": NOW - age / 2,
                "due_sort": due or case_store.NEVER_DUE,
                "urgency_rank": (rank := rng.randint(0, 3)),
                "urgency": ["low", "normal", "high", "urgent"][rank],
                "number": f"VOC-{2025 + i % 2}-{i:06d}",
                "status": rng.choice(STATUSES),
                "channels": ["line", "email"] if i % 5 == 0 else ["phone"],
            }
        )
    return docs


async def _fill(store: Store, docs: list[dict[str, Any]]) -> None:
    # Written behind routing's back (as an older install or another tool would): the
    # books come from the recount.
    await store[case_store.CASES].insert_many([dict(d) for d in docs])
    await list_store.rebuild_books(store)


def _expected(docs: list[dict[str, Any]], keys: case_store.SortKeys) -> list[object]:
    ordered = list(docs)
    for field, direction in reversed(keys):
        ordered.sort(key=lambda d: d[field], reverse=direction < 0)
    return [d["_id"] for d in ordered]


async def _page(store: Store, sort: str, **kwargs: Any) -> case_lists.Page:
    filters = kwargs.pop("filters", {})
    return await case_lists.read_page(
        store,
        lane=kwargs.pop("lane", "all|*"),
        filters=filters,
        order=case_lists.ORDERS[sort],
        now=NOW,
        **kwargs,
    )


@pytest.mark.parametrize("sort", sorted(case_lists.ORDERS))
@pytest.mark.parametrize(("skip", "limit"), [(0, 25), (25, 25), (150, 50), (280, 50)])
async def test_a_page_by_number_is_the_views_page_whatever_ranges_it_was_read_from(
    store: Store, sort: str, skip: int, limit: int
) -> None:
    docs = _docs()
    await _fill(store, docs)
    page = await _page(store, sort, skip=skip, limit=limit)
    assert page.total == 300
    assert page.exact
    expected = _expected(docs, case_lists.LIST_SORTS[sort])
    assert [d["_id"] for d in page.docs] == expected[skip : skip + limit]
    assert (page.next is not None) == (skip + limit < 300)


@pytest.mark.parametrize("sort", sorted(case_lists.ORDERS))
async def test_following_next_walks_the_whole_view_once_in_order(store: Store, sort: str) -> None:
    docs = _docs()
    await _fill(store, docs)
    seen: list[object] = []
    after = None
    for _ in range(20):
        page = await _page(store, sort, skip=0, limit=40, after=after)
        seen.extend(d["_id"] for d in page.docs)
        after = page.next
        if after is None:
            break
    assert seen == _expected(docs, case_lists.LIST_SORTS[sort])


@pytest.mark.parametrize("sort", ["-created_at", "due", "-urgency", "number"])
async def test_filters_applied_here_keep_the_order_and_count_exactly_once_read_whole(
    store: Store, sort: str
) -> None:
    docs = _docs()
    await _fill(store, docs)
    wanted = [d for d in docs if d["status"] == "closed" and "unit|*" in d["lanes"]]
    expected = _expected(wanted, case_lists.LIST_SORTS[sort])
    first = await _page(store, sort, lane="unit|*", filters={"status": "closed"}, skip=0, limit=10)
    assert [d["_id"] for d in first.docs] == expected[:10]
    # Within the counting budget the filtered list counts itself exactly ...
    assert (first.total, first.exact) == (len(expected), True)
    whole = await _page(store, sort, lane="unit|*", filters={"status": "closed"}, skip=0, limit=300)
    assert [d["_id"] for d in whole.docs] == expected
    assert (whole.total, whole.exact) == (len(expected), True)
    # An array field matches by member, and an $or of regexes as the store would.
    two = await _page(
        store,
        sort,
        filters={
            "channels": "email",
            "$or": [{"number": {"$regex": "-00001", "$options": "i"}}, {"_id": "none"}],
        },
        skip=0,
        limit=300,
    )
    picked = [d for d in docs if "email" in d["channels"] and "-00001" in d["number"]]
    assert [d["_id"] for d in two.docs] == _expected(picked, case_lists.LIST_SORTS[sort])


@pytest.mark.parametrize("sort", sorted(case_lists.ORDERS))
async def test_one_urgency_is_read_from_its_own_index_range_in_every_order(
    store: Store, sort: str
) -> None:
    docs = _docs()
    await _fill(store, docs)
    high = [d for d in docs if d["urgency"] == "high"]
    seen: list[object] = []
    after = None
    while True:
        page = await _page(store, sort, filters={"urgency": "high"}, skip=0, limit=15, after=after)
        seen.extend(d["_id"] for d in page.docs)
        after = page.next
        if after is None:
            break
    assert seen == _expected(high, case_lists.LIST_SORTS[sort])
    first = await _page(store, sort, filters={"urgency": "high"}, skip=0, limit=15)
    assert (first.total, first.exact) == (len(high), True)


async def test_past_the_counting_budget_a_filtered_total_is_an_estimate_and_says_so(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = _docs()
    await _fill(store, docs)
    monkeypatch.setattr(case_lists, "COUNT_BUDGET", 40)
    closed = [d for d in docs if d["status"] == "closed"]
    page = await _page(store, "-created_at", filters={"status": "closed"}, skip=0, limit=10)
    assert [d["_id"] for d in page.docs] == _expected(closed, case_lists.LIST_SORTS["-created_at"])[
        :10
    ]
    assert page.exact is False
    assert len(closed) / 3 < page.total < len(closed) * 3  # the share read, scaled to the lane
    # One urgency is read from its own range: scaled by the stretch of time walked instead.
    both = [d for d in closed if d["urgency"] == "normal"]
    page = await _page(
        store, "-created_at", filters={"status": "closed", "urgency": "normal"}, skip=0, limit=5
    )
    assert [d["_id"] for d in page.docs] == _expected(both, case_lists.LIST_SORTS["-created_at"])[
        :5
    ]
    assert page.exact is False
    assert len(both) / 4 < page.total < len(both) * 4


async def test_one_customers_cases_are_read_by_customer_and_checked_for_the_lane(
    store: Store,
) -> None:
    docs = _docs(60)
    for i, doc in enumerate(docs):
        doc["subject_ref"] = "sub_a" if i % 7 == 0 else "sub_b"
    await _fill(store, docs)
    page = await _page(
        store, "-created_at", lane="unit|*", filters={"subject_ref": "sub_a"}, skip=0, limit=50
    )
    mine = [d for d in docs if d["subject_ref"] == "sub_a" and "unit|*" in d["lanes"]]
    assert [d["_id"] for d in page.docs] == _expected(mine, case_lists.LIST_SORTS["-created_at"])
    assert page.total == len(mine)


async def test_a_cursor_of_another_order_or_made_up_is_refused(store: Store) -> None:
    await _fill(store, _docs(30))
    page = await _page(store, "number", skip=0, limit=10)
    assert page.next is not None
    with pytest.raises(Invalid):
        await _page(store, "-created_at", skip=0, limit=10, after=page.next)
    for junk in ("%%%", "bm90IGpzb24", "WzEsMl0"):
        with pytest.raises(Invalid):
            await _page(store, "number", skip=0, limit=10, after=junk)


async def test_case_writes_keep_the_lane_counts_and_a_recount_repairs_them(store: Store) -> None:
    docs = _docs(40)
    await _fill(store, docs)
    assert await case_store.count_lanes(store, ["all|*", "unit|*", "none|*"]) == [
        40,
        sum("unit|*" in d["lanes"] for d in docs),
        0,
    ]
    # A case leaving a lane and entering another, as a write would record it.
    before = list_store.book_fields(docs[1])
    after = dict(before, lanes=["all|*", "breached|*"])
    await list_store.apply_ops(store, list_store.lane_ops(before, after))
    counts = await case_store.count_lanes(store, ["unit|*", "breached|*"])
    assert counts == [sum("unit|*" in d["lanes"] for d in docs) - 1, 1]
    # The write that never reached the cases (a crash between the two): recounted away.
    assert await list_store.rebuild_books(store) >= 2
    assert await case_store.count_lanes(store, ["unit|*", "breached|*"]) == [
        sum("unit|*" in d["lanes"] for d in docs),
        0,
    ]


async def test_an_old_case_entering_a_lane_lowers_its_bound_so_oldest_first_shows_it(
    store: Store,
) -> None:
    docs = _docs(50)
    await _fill(store, docs)
    first = await _page(store, "created_at", lane="unit|*", skip=0, limit=5)
    oldest = min(d["created_at"] for d in docs)
    newcomer = dict(docs[0], _id="old", lanes=["unit|*"], created_at=oldest - timedelta(days=400))
    await store[case_store.CASES].insert_one(newcomer)
    await list_store.apply_ops(store, list_store.lane_ops(None, list_store.book_fields(newcomer)))
    again = await _page(store, "created_at", lane="unit|*", skip=0, limit=5)
    assert again.docs[0]["_id"] == "old"
    assert [d["_id"] for d in again.docs[1:]] == [d["_id"] for d in first.docs[:4]]


@pytest.mark.parametrize("sort", sorted(case_lists.ORDERS))
async def test_a_lane_without_a_book_yet_is_read_whole_not_shown_empty(
    store: Store, sort: str
) -> None:
    docs = _docs(30)
    await store[case_store.CASES].insert_many([dict(d) for d in docs])  # no recount yet
    page = await _page(store, sort, skip=0, limit=30)
    assert [d["_id"] for d in page.docs] == _expected(docs, case_lists.LIST_SORTS[sort])


async def test_books_kept_write_by_write_agree_with_a_recount_after_a_reclassification(
    store: Store,
) -> None:
    docs = _docs(40)
    for doc in docs:  # as insert_case writes them: the case, then its books
        await store[case_store.CASES].insert_one(dict(doc))
        await list_store.apply_ops(store, list_store.lane_ops(None, list_store.book_fields(doc)))
    moved = docs[3]
    before = list_store.book_fields(moved)
    moved["urgency_rank"] = (moved["urgency_rank"] + 1) % 4
    moved["due_sort"] = NOW - timedelta(days=900)  # overdue long ago: the bound must hold it
    await store[case_store.CASES].replace_one({"_id": moved["_id"]}, moved)
    await list_store.apply_ops(store, list_store.lane_ops(before, list_store.book_fields(moved)))

    kept = {doc["_id"]: doc async for doc in store[list_store.LANES].find({})}
    await list_store.rebuild_books(store)
    recounted = {doc["_id"]: doc async for doc in store[list_store.LANES].find({})}
    for lane, book in recounted.items():
        assert kept[lane]["n"] == book["n"]
        assert {k: v for k, v in kept[lane]["u"].items() if v} == book["u"]
        assert kept[lane]["lo"]["due_sort"] == book["lo"]["due_sort"]
    page = await _page(store, "due", skip=0, limit=1)
    assert page.docs[0]["_id"] == moved["_id"]


async def test_a_batch_keeps_its_books_in_one_write_a_lane_that_a_recount_agrees_with(
    store: Store,
) -> None:
    docs = _docs(40)
    moved = docs[3]
    async with list_store.deferred_books(store):
        for doc in docs:
            await store[case_store.CASES].insert_one(dict(doc))
            await list_store.write_books(store, None, list_store.book_fields(doc))
        # Nothing reached the books yet.
        assert await store[list_store.LANES].count_documents({}) == 0
        before = list_store.book_fields(moved)
        moved["urgency_rank"] = (moved["urgency_rank"] + 1) % 4
        moved["due_sort"] = NOW - timedelta(days=900)
        await store[case_store.CASES].replace_one({"_id": moved["_id"]}, moved)
        await list_store.write_books(store, before, list_store.book_fields(moved))

    kept = {doc["_id"]: doc async for doc in store[list_store.LANES].find({})}
    await list_store.rebuild_books(store)
    recounted = {doc["_id"]: doc async for doc in store[list_store.LANES].find({})}
    assert set(kept) == set(recounted)
    for lane, book in recounted.items():
        assert kept[lane]["n"] == book["n"]
        assert {k: v for k, v in kept[lane]["u"].items() if v} == book["u"]
        assert kept[lane]["lo"]["due_sort"] == book["lo"]["due_sort"]
    # One update per lane, whatever the number of cases in it.
    changes = [
        change
        for doc in docs
        for change in list_store.lane_changes(None, list_store.book_fields(doc))
    ]
    assert len(list_store.merged_ops(changes)) == len(kept) < len(changes)
