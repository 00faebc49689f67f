"""Case lists: pages read from bounded ranges of their order, totals from lane books.

Every view is one lane (``store.lane``), and each list order an index after
``lanes``. The embedded store reads every document an index range matches
before it sorts, skips and limits, and it answers a filter that adds any field
to ``lanes`` and the range by reading the whole collection. So here:

- a page is read from consecutive ranges of the order's leading key, each
  next to the last and twice as wide, until the page is full: a page
  costs about the cases its ranges hold, not the view. The first range is
  sized from the lane's density (its count over its span of time);
- ``after`` (a cursor naming the last case of the page before) starts the
  walk there, so page 1,000 costs what page 1 does;
- the store is only ever asked for ``lanes`` and the range; the list's other
  filters (status, channel, topic, …) are applied to what it answers, here;
  one customer's cases (``subject_ref``) are read through their own index
  instead, and the lane checked here;
- the lane book (collection ``case_lanes``, one document per lane) holds the
  lane's count and a lower bound of each order's key (``lo``; the soonest
  due time's upper bound ``hi`` too), kept on every case write that changes
  the lanes (``list_store.lane_ops``), so a view's count is one read and a
  walk knows where the lane begins and ends. A walk that finds the lane's
  first key above its bound raises the bound, only if the book did not change
  meanwhile (``v``). A crash between a case write and its book write leaves
  the book off; ``list_store.rebuild_books`` recounts every lane (routing's
  start runs it).

The reads and writes themselves (the books, the ranges, a customer's cases)
are ``list_store.py``'s; this module decides which to make.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING

from services.routing.cases import list_store
from services.routing.cases.list_store import NEVER_DUE
from shared.errors import Invalid
from shared.store import Store

SortKeys = list[tuple[str, int]]
# The narrowest first range, and how much wider each next one is.
MIN_SPAN = timedelta(minutes=5)
GROWTH = 2
# A filtered list of a lane this small reads it all, to count itself exactly.
COUNT_BUDGET = 600
URGENCY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
# Case numbers read VOC-<year>-<serial of six digits>; a walk over them counts in serials.
_NUMBER = re.compile(r"^VOC-(\d{4})-(\d{6})$")
_YEAR = 1_000_000


@dataclass(frozen=True)
class Phase:
    """One stretch of an order: a range walk over ``field`` with ``eq`` fixed."""

    field: str
    direction: int
    eq: tuple[tuple[str, Any], ...] = ()
    below: Any = None  # an exclusive upper limit of ``field`` within this phase


@dataclass(frozen=True)
class Order:
    """A list order: its sort keys (the last one unique) and the phases that walk it."""

    keys: SortKeys
    phases: tuple[Phase, ...]


ORDERS: dict[str, Order] = {
    "-created_at": Order(
        [("created_at", DESCENDING), ("_id", DESCENDING)], (Phase("created_at", DESCENDING),)
    ),
    "created_at": Order(
        [("created_at", ASCENDING), ("_id", ASCENDING)], (Phase("created_at", ASCENDING),)
    ),
    "-updated_at": Order(
        [("updated_at", DESCENDING), ("_id", DESCENDING)], (Phase("updated_at", DESCENDING),)
    ),
    "updated_at": Order(
        [("updated_at", ASCENDING), ("_id", ASCENDING)], (Phase("updated_at", ASCENDING),)
    ),
    # Soonest due first; cases without a due time last, newest first among them.
    "due": Order(
        [("due_sort", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
        (
            Phase("due_sort", ASCENDING, below=NEVER_DUE),
            Phase("created_at", DESCENDING, eq=(("due_sort", NEVER_DUE),)),
        ),
    ),
    "-urgency": Order(
        [("urgency_rank", DESCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
        tuple(Phase("created_at", DESCENDING, eq=(("urgency_rank", r),)) for r in (3, 2, 1, 0)),
    ),
    "number": Order([("number", ASCENDING)], (Phase("number", ASCENDING),)),
}
LIST_SORTS: dict[str, SortKeys] = {name: order.keys for name, order in ORDERS.items()}


@dataclass
class Page:
    """One page of a list, the total of the list, and where the next page starts."""

    docs: list[dict[str, Any]]
    total: int
    exact: bool = True
    next: str | None = None


# -- cursors ------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    return {"$d": value.isoformat()} if isinstance(value, datetime) else value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$d"}:
        return datetime.fromisoformat(value["$d"])
    return value


def cursor_of(doc: Mapping[str, Any], order: Order) -> str:
    """Return the cursor that starts a page after ``doc`` in ``order``."""
    raw = json.dumps([_encode(doc.get(key)) for key, _ in order.keys], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_cursor(text: str, order: Order) -> dict[str, Any]:
    """Return the sort-key values a cursor names; ``Invalid`` if it is not one of ``order``."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = [_decode(v) for v in json.loads(raw)]
    except (ValueError, TypeError) as exc:
        raise Invalid("after is not a cursor this list gave") from exc
    if len(values) != len(order.keys):
        raise Invalid("after is a cursor of another order")
    named = dict(zip((key for key, _ in order.keys), values, strict=True))
    for key, value in named.items():
        wanted: type | tuple[type, ...] = (
            datetime if key in ("created_at", "updated_at", "due_sort") else (str, int)
        )
        if not isinstance(value, wanted) or isinstance(value, bool):
            raise Invalid(f"after names no {key}")
        if isinstance(value, datetime) and value.tzinfo is None:
            raise Invalid(f"after names a {key} without a time zone")
    return named


def _key(value: Any) -> Any:
    # The store answers aware datetimes; a cursor's may carry another offset.
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _after(doc: Mapping[str, Any], cursor: Mapping[str, Any], keys: SortKeys) -> bool:
    """Return whether ``doc`` comes after the cursor's case in the order ``keys``."""
    for key, direction in keys:
        mine, theirs = _key(doc.get(key)), _key(cursor[key])
        if mine == theirs:
            continue
        if mine is None or theirs is None:
            return theirs is None if direction < 0 else mine is not None
        return bool(mine > theirs) if direction > 0 else bool(mine < theirs)
    return False


# -- filters applied here -----------------------------------------------------------------


def _values(doc: Any, path: str) -> list[Any]:
    """Return every value at a dotted ``path`` of ``doc``, looking through arrays."""
    found = [doc]
    for part in path.split("."):
        nxt: list[Any] = []
        for item in found:
            items = item if isinstance(item, list) else [item]
            nxt.extend(i[part] for i in items if isinstance(i, Mapping) and part in i)
        found = nxt
    flat: list[Any] = []
    for item in found:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


def matcher(filters: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """Return a test of the list filters the workspace uses, applied to a case document.

    Equality (on a value or an array member), ``$in`` and an ``$or`` of
    ``$regex`` (with option ``i``) are what the case list builds.
    """
    tests: list[Callable[[Mapping[str, Any]], bool]] = []
    for path, wanted in filters.items():
        if path == "$or":
            tests.append(_any_of([matcher(part) for part in wanted]))
        elif isinstance(wanted, Mapping) and "$regex" in wanted:
            flags = re.IGNORECASE if "i" in str(wanted.get("$options", "")) else 0
            tests.append(_regex(path, re.compile(str(wanted["$regex"]), flags)))
        elif isinstance(wanted, Mapping) and "$in" in wanted:
            tests.append(_member(path, list(wanted["$in"])))
        elif isinstance(wanted, Mapping):
            raise ValueError(f"no list filter {path}: {sorted(wanted)}")
        else:
            tests.append(_member(path, [wanted]))
    return lambda doc: all(test(doc) for test in tests)


def _any_of(
    tests: list[Callable[[Mapping[str, Any]], bool]],
) -> Callable[[Mapping[str, Any]], bool]:
    return lambda doc: any(test(doc) for test in tests)


def _regex(path: str, pattern: re.Pattern[str]) -> Callable[[Mapping[str, Any]], bool]:
    return lambda doc: any(isinstance(v, str) and pattern.search(v) for v in _values(doc, path))


def _member(path: str, wanted: list[Any]) -> Callable[[Mapping[str, Any]], bool]:
    return lambda doc: any(v in wanted for v in _values(doc, path))


# -- walking ------------------------------------------------------------------------------


@dataclass
class _Walk:
    """What one page's walk has read: cases read from the store, and how many matched."""

    read: int = 0
    matched: int = 0
    finished: bool = False
    enough: bool = False  # the page is full: finish the range in hand, read no other
    cut: bool = False  # a range was left unread because the page was full


def _ordinal(number: str) -> int | None:
    match = _NUMBER.match(number)
    return int(match[1]) * _YEAR + int(match[2]) if match else None


def _number(ordinal: int) -> str:
    return f"VOC-{ordinal // _YEAR:04d}-{ordinal % _YEAR:06d}"


class _Axis:
    """Arithmetic on one walked field: datetimes in time, case numbers in serials."""

    def __init__(self, name: str) -> None:
        self.numbers = name == "number"

    def to_point(self, value: Any) -> Any:
        return _ordinal(value) if self.numbers else value

    def to_value(self, point: Any) -> Any:
        return _number(point) if self.numbers else point

    def span(self, width: Any) -> Any:
        return max(int(width), 1) if self.numbers else max(width, MIN_SPAN)


async def _phase(
    store: Store,
    lane: str,
    phase: Phase,
    order: Order,
    *,
    book: Mapping[str, Any],
    start: Mapping[str, Any] | None,
    now: datetime,
    want: int,
    walk: _Walk,
) -> AsyncIterator[dict[str, Any]]:
    """Yield the lane's cases of one phase in order, from ``start`` (a cursor) or the beginning."""
    axis = _Axis(phase.field)
    lo = book.get("lo", {}).get(phase.field)
    n = max(int(book.get("n", 0)), 1)
    if lo is None or (axis.numbers and axis.to_point(lo) is None):
        # No usable bound (a book not yet made, numbers of another shape): read it whole.
        whole = {"$lt": phase.below} if phase.below is not None else {}
        async for doc in _read(store, lane, phase, order, whole, start, walk):
            yield doc
        return
    if phase.field == "due_sort":
        top = book.get("hi", {}).get("due_sort")
        if top is None:
            return  # no case of the lane has a due time
    elif axis.numbers:
        top = _number((now.year + 1) * _YEAR)
    else:
        top = now
    lo_p, top_p = axis.to_point(lo), axis.to_point(top)
    # The first range holds about what the page needs at the lane's mean density.
    if axis.numbers:
        width = axis.span(want)  # serials are dense in the views that are long
    elif top_p > lo_p:
        width = axis.span((top_p - lo_p) * (want * 1.5 / n))
    else:
        width = axis.span(MIN_SPAN)
    ascending = phase.direction > 0
    if start is not None and start.get(phase.field) is not None:
        pos = axis.to_point(_key(start[phase.field]))
        if pos is None:
            return
        inclusive = True
    else:
        pos, inclusive = (lo_p if ascending else None), True
    while True:
        if ascending:
            upper = pos + width
            last = upper > top_p
            bounds = {"$gte": axis.to_value(pos)} if inclusive else {"$gt": axis.to_value(pos)}
            if not last:
                bounds["$lt"] = axis.to_value(upper)
        else:
            ceiling = pos if pos is not None else top_p
            lower = ceiling - width
            last = lower < lo_p
            bounds = {}
            if pos is not None:
                bounds["$lte" if inclusive else "$lt"] = axis.to_value(pos)
            if not last:
                bounds["$gte"] = axis.to_value(lower)
            upper = lower
        if phase.below is not None:
            bounds["$lt"] = min(bounds.get("$lt", phase.below), phase.below)
        async for doc in _read(store, lane, phase, order, bounds, start, walk):
            yield doc
        if last:
            return
        if walk.enough:
            walk.cut = True  # the page is full: no further range is read for it
            return
        pos, inclusive = upper, ascending
        width = width * GROWTH


async def _read(
    store: Store,
    lane: str,
    phase: Phase,
    order: Order,
    bounds: Mapping[str, Any],
    start: Mapping[str, Any] | None,
    walk: _Walk,
) -> AsyncIterator[dict[str, Any]]:
    docs = await list_store.read_range(
        store, lane=lane, eq=phase.eq, field=phase.field, bounds=bounds, sort=order.keys
    )
    for doc in docs:
        walk.read += 1
        if start is not None and not _after(doc, start, order.keys):
            continue
        yield doc


async def read_page(
    store: Store,
    *,
    lane: str,
    filters: Mapping[str, Any],
    order: Order,
    skip: int,
    limit: int,
    after: str | None = None,
    now: datetime | None = None,
) -> Page:
    """Return one page of the lane's cases matching ``filters`` in ``order``.

    ``after`` (a cursor from an earlier page's ``next``) starts the page after
    that case, and ``skip`` counts from there.
    """
    now = now or datetime.now(UTC)
    start = parse_cursor(after, order) if after else None
    rest = {key: value for key, value in filters.items() if key != "subject_ref"}
    if "subject_ref" in filters:
        refs = filters["subject_ref"]
        return await _customer_page(store, lane, refs, rest, order, skip, limit, start)
    book = await list_store.read_book(store, lane)
    filtered = bool(rest)  # then the lane's count is not the list's
    phases, rest = _narrowed(order, rest)
    test = matcher(rest) if rest else None
    walk = _Walk()
    found: list[dict[str, Any]] = []
    want = skip + limit + 1
    if start is not None:
        phases = _phases_from(order, phases, start)
    # A filtered list counts what the ranges it read hold past its page (they are
    # read whole anyway), and reads on to the lane's end when the lane is small.
    count_all = filtered and int(book.get("n", 0)) <= COUNT_BUDGET
    for index, phase in enumerate(phases):
        async for doc in _phase(
            store, lane, phase, order, book=book, start=start, now=now, want=want, walk=walk
        ):
            if test is not None and not test(doc):
                continue
            walk.matched += 1
            if len(found) < want:
                found.append(doc)
            if len(found) >= want:
                if not filtered:
                    break
                walk.enough = not count_all
        else:
            # The phase is read to its end, or up to the range that filled the page.
            start = None  # the next phase starts at its beginning
            if walk.cut or (walk.enough and index < len(phases) - 1):
                break
            continue
        break
    else:
        walk.finished = True
    if not filtered and after is None:
        await _raise_bound(store, lane, book, order, found)
    page = found[skip : skip + limit]
    more = len(found) > skip + limit
    total = int(book.get("n", 0))
    exact = not filtered
    if filtered:
        if walk.finished and after is None:
            total, exact = walk.matched, True
        else:
            narrowed = len(rest) < len(filters)
            total = _estimate(_population(book, filters, narrowed=narrowed), walk)
            total = max(total, skip + len(page) + (1 if more else 0))
    return Page(
        docs=page,
        total=max(total, skip + len(page)),
        exact=exact,
        next=cursor_of(page[-1], order) if more and page else None,
    )


def _estimate(population: int, walk: _Walk) -> int:
    """Return a filtered list's likely total: the share of cases read that matched, scaled.

    ``population`` is how many cases the walk could read: the lane's, or one
    urgency's in the lane when the index narrowed it to that urgency.
    """
    return round(population * walk.matched / walk.read) if walk.read else 0


def _population(book: Mapping[str, Any], filters: Mapping[str, Any], *, narrowed: bool) -> int:
    """Return how many of the lane's cases a walk chooses from (one urgency's, if narrowed)."""
    if narrowed:
        ranks = book.get("u") or {}
        return max(0, int(ranks.get(str(URGENCY_RANK.get(str(filters.get("urgency")), -1)), 0)))
    return int(book.get("n", 0))


def _narrowed(order: Order, rest: Mapping[str, Any]) -> tuple[tuple[Phase, ...], dict[str, Any]]:
    """Return the order's phases with an urgency filter moved into the index, and what is left.

    ``urgency_rank`` follows ``lanes`` in the index the most-urgent order walks,
    with ``created_at`` after it, so a list by creation time or urgency that
    asks for one urgency reads only that urgency's cases.
    """
    left = dict(rest)
    urgency = left.get("urgency")
    if not isinstance(urgency, str) or urgency not in URGENCY_RANK:
        return order.phases, left
    rank = URGENCY_RANK[urgency]
    phases = order.phases
    if phases and all(p.eq and p.eq[0][0] == "urgency_rank" for p in phases):
        phases = tuple(p for p in phases if p.eq[0][1] == rank)
    elif len(phases) == 1 and phases[0].field == "created_at" and not phases[0].eq:
        only = phases[0]
        phases = (Phase(only.field, only.direction, eq=(("urgency_rank", rank),)),)
    else:
        return phases, left
    del left["urgency"]
    return phases, left


def _phases_from(
    order: Order, phases: tuple[Phase, ...], start: Mapping[str, Any]
) -> tuple[Phase, ...]:
    """Return the phases from the one that holds the cursor's case on."""
    ordered = {key for key, _ in order.keys}
    for index, phase in enumerate(phases):
        held = all(_key(start.get(key)) == _key(value) for key, value in phase.eq if key in ordered)
        if held and (phase.below is None or _key(start.get(phase.field)) < phase.below):
            return phases[index:]
    return ()


async def _raise_bound(
    store: Store,
    lane: str,
    book: Mapping[str, Any],
    order: Order,
    found: list[dict[str, Any]],
) -> None:
    """Raise the lane's lower bound of an ascending order's key to the first case found.

    Called for a walk that began at the lane's start with no filter skipping
    cases; written only if the book did not change since it was read.
    """
    phase = order.phases[0]
    if phase.direction < 0 or phase.eq or not found or "v" not in book:
        return
    first = found[0].get(phase.field)
    lo = book.get("lo", {}).get(phase.field)
    if first is None or lo is None or _key(first) <= _key(lo):
        return
    await list_store.raise_bound(
        store, lane=lane, version=book["v"], field=phase.field, value=first
    )


async def _customer_page(
    store: Store,
    lane: str,
    refs: Any,
    rest: Mapping[str, Any],
    order: Order,
    skip: int,
    limit: int,
    start: Mapping[str, Any] | None,
) -> Page:
    """Return a page of one or a few customers' cases: read by customer, checked for the lane."""
    docs = await list_store.customer_cases(store, refs=refs, sort=order.keys)
    test = matcher({"lanes": lane, **rest})
    matched = [d for d in docs if test(d) and (start is None or _after(d, start, order.keys))]
    page = matched[skip : skip + limit]
    more = len(matched) > skip + limit
    return Page(
        docs=page,
        total=len(matched) if start is None else skip + len(matched),
        exact=start is None,
        next=cursor_of(page[-1], order) if more and page else None,
    )
