"""Report rollups: one document per organisation and Bangkok day with that day's tally.

A report adds up the day documents of its periods (``period_tally``) instead
of reading their cases. A day document (``report_days``, ``_id`` the day key
of ``days.py``) holds the tally of the cases opened that day, a
generation ``gen`` that moves on whenever a case of the day changed, and
``dirty`` until a tally as new as that generation is written.

- Every case write stores its day's key in ``report_pending`` in the same
  update (``cases/store.py``), so a written case is never left unaccounted.
- ``settle`` takes the marks: it moves each marked day's ``gen`` on
  (``dirty``), then clears each mark only if the case is still at the
  version it saw (a newer write keeps its mark). The outbox relay takes the
  marks of the cases whose events it publishes the same way, in the write
  that marks those events published (``cases/repository.py``), so most
  cases are not written a third time for their mark.
- ``rebuild`` reads a day's ``gen``, then its cases, and writes their tally
  only if ``gen`` has not moved meanwhile; a case written during the read
  has left a mark, so the day is rebuilt again.
- A report settles its days' marks, then reads their documents, and
  rebuilds from the cases, first, any day that is missing, dirty or of an
  older ``SCHEMA``.

Any change a report must show was settled before the report read its day
documents, which move ``gen`` before they clear the mark; a clean document
was then written from a case read that began after that move. So builders in
several replicas, a crash between any two steps (marks and ``dirty`` stay),
and a redelivered message all leave the figures right. The lease a builder
takes on a dirty day only keeps two replicas from rebuilding it at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from services.routing.reports import store as report_store
from services.routing.reports.days import PENDING, day_key, days_between, parse_key
from services.routing.reports.tally import FIELDS, Tally
from shared.clock import Clock
from shared.store import Store

log = logging.getLogger(__name__)

SCHEMA = 1  # bump when a tally's content changes: older day documents are rebuilt


async def settle(store: Store, *, keys: Sequence[str] | None = None, limit: int = 5000) -> set[str]:
    """Move the marks cases left onto their days (all, or those of ``keys``); return the days."""
    return await take(store, await marked(store, keys=keys, limit=limit))


async def marked(
    store: Store, *, keys: Sequence[str] | None = None, limit: int = 5000
) -> list[dict[str, Any]]:
    """Return the marks of written cases (of ``keys``' days only, if given); 0: no limit."""
    return await report_store.marked_cases(store, keys=keys, limit=limit)


async def take(store: Store, marks: Sequence[dict[str, Any]]) -> set[str]:
    """Make the marked days dirty (a new generation), then clear the marks; return the days."""
    days = {doc[PENDING] for doc in marks}
    if not days:
        return days
    await report_store.make_dirty(store, sorted(days))
    # Only a mark as old as what was seen goes: a case written since keeps its own.
    await report_store.clear_marks(store, marks)
    return days


async def rebuild(store: Store, keys: Iterable[str]) -> dict[str, Tally]:
    """Rebuild the day documents of ``keys`` from their cases; return their tallies."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    await report_store.ensure_days(store, wanted)
    gens = await report_store.generations(store, wanted)
    # One read per day: a day's tally is what is held in memory, however long the period.
    out: dict[str, Tally] = {}
    for key in wanted:
        org, day = parse_key(key)
        tally = Tally()
        async for doc in report_store.opened_on(store, org=org, day=day, fields=FIELDS):
            tally.add(doc)
        out[key] = await _write(store, key, gens[key], tally)
    return out


async def _write(store: Store, key: str, gen: int, tally: Tally) -> Tally:
    """Store a day's tally if its generation is still ``gen``; return it as stored."""
    doc = tally.to_doc()
    await report_store.write_day(store, key=key, gen=gen, tally=doc, schema=SCHEMA)
    return Tally.from_doc(doc)


async def period_tally(
    store: Store, *, org: str, start: datetime, end: datetime, spans: bool = True
) -> Tally:
    """Return the tally of ``org``'s cases opened in [start, end), from the day documents.

    Without ``spans`` the SLA and resolution histograms are not read: the
    tally's counts are right, its medians are not (for comparison periods).
    """
    keys = [day_key(org, day) for day in days_between(start, end)]
    await settle(store, keys=keys, limit=0)
    docs = await report_store.day_documents(store, keys, spans=spans)
    rebuilt = await rebuild(store, [key for key in keys if not _current(docs.get(key))])
    return Tally.total(rebuilt.get(key) or Tally.from_doc(docs[key]) for key in keys)


def _current(doc: dict[str, Any] | None) -> bool:
    return doc is not None and not doc.get("dirty") and doc.get("schema") == SCHEMA


class RollupBuilder:
    """Keep the day documents current in the background: settle marks, rebuild dirty days."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        replica: str,
        poll_s: float = 5.0,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 20,
    ) -> None:
        self._store = store
        self._clock = clock
        self.replica = replica
        self._poll_s = poll_s
        self._lease = lease
        self._batch = batch

    async def run(self) -> None:
        """Build forever."""
        while True:
            try:
                await self.step()
            except Exception:
                log.exception("report rollups could not be rebuilt; will try again")
            await asyncio.sleep(self._poll_s)

    async def step(self) -> int:
        """Settle the marks and rebuild the dirty days this replica leases; return how many."""
        await settle(self._store)
        built = 0
        for key in await report_store.dirty_days(self._store, limit=self._batch):
            if await self._lease_day(key):
                try:
                    await rebuild(self._store, [key])
                finally:
                    await report_store.release_day(self._store, key=key, owner=self.replica)
                built += 1
        return built

    async def _lease_day(self, key: str) -> bool:
        now = self._clock.now()
        return await report_store.lease_day(
            self._store, key=key, now=now, until=now + self._lease, owner=self.replica
        )
