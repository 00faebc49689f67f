"""The delivery worker: attempt deliveries, record the outcome, tell agents.

Work survives restarts because it lives in the delivery log. The consumer
records each delivery leased to this replica and hands it over in memory; a
failed attempt is written back with its next time (exponential backoff, full
jitter), and the worker claims from the store whatever has come due, including
deliveries whose replica died before finishing them. Messages to agents
(``notification.failed``, ``notification.callback_requested``) are written
with the outcome and published after it, and republished by the sweep if the
process died between."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.notify.announcements import attempt_entry, callback_request, failure_report
from services.notify.delivery import Attempter, Outcome
from services.notify.domain import Intent, retry_at
from services.notify.library import TemplateLibrary
from services.notify.reachability import Reachability
from services.notify.retry import backoff_delay
from services.notify.settings import NotifySettings
from services.notify.store import DeliveryRepository
from shared.clock import Clock
from shared.errors import BusError
from shared.ids import new_id
from shared.messages.base import Envelope
from shared.store import Document

log = logging.getLogger(__name__)

_ANNOUNCE_GRACE = timedelta(seconds=10)
# While the store has nothing due, each look finding nothing doubles the wait
# before the next, up to this many poll intervals: what comes due is mostly
# known here (this worker's own retries), the rest is a dead replica's work.
_IDLE_BACKOFF = 8
_SWEEP_PAGE = 100


class Publisher(Protocol):
    """Where messages to agents go: the bus."""

    async def publish(self, envelope: Envelope) -> None:
        """Publish ``envelope`` with confirms; raise a ``BusError`` if it was not taken."""
        ...


class DeliveryWorker:
    """Work the delivery log until cancelled."""

    def __init__(
        self,
        *,
        deliveries: DeliveryRepository,
        attempter: Attempter,
        reachability: Reachability,
        library: TemplateLibrary,
        settings: NotifySettings,
        clock: Clock,
        publisher: Publisher,
        rng: random.Random | None = None,
    ) -> None:
        self._deliveries = deliveries
        self._attempter = attempter
        self._clock = clock
        self._publisher = publisher
        self._reachability = reachability
        self._library = library
        self._settings = settings
        self._rng = rng or random.Random()
        self._lease = timedelta(seconds=settings.notify_lease_s)
        self._owner = new_id()
        self._local: deque[Document] = deque()
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._maintained_at: datetime | None = None
        self._swept_at: datetime | None = None
        self._claim_at: datetime | None = None  # when to look in the store for due work next
        self._soonest: datetime | None = None  # the earliest due time this worker wrote
        self._idle_polls = 1  # poll intervals to the next look while nothing is due

    async def enqueue(self, intent: Intent) -> bool:
        """Record ``intent`` leased to this worker and queue it; False if recorded before."""
        doc = await self._deliveries.record_intent(
            intent, at=self._clock.now(), owner=self._owner, lease=self._lease
        )
        if doc is None:
            return False
        self._local.append(doc)
        self._wake.set()
        return True

    async def run(self) -> None:
        """Loop: maintain, work everything due, then wait for a wake-up or the poll interval."""
        try:
            while True:
                self._wake.clear()
                try:
                    await self._maintain()
                    await self._drain()
                except Exception:  # the store or broker may be down: keep the loop alive
                    log.exception("delivery loop failed; trying again")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._settings.notify_poll_interval_s)
        finally:
            await self._stop()

    async def work_once(self) -> None:
        """Do one round of the loop, then wait until every attempt it started is settled."""
        await self._maintain()
        await self._drain()
        await asyncio.gather(*tuple(self._in_flight), return_exceptions=True)

    async def _stop(self) -> None:
        for task in self._in_flight:
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        # Deliveries queued here but not started go back at once; the ones cut
        # off mid-attempt wait for their lease to run out, then go again with
        # the same provider idempotency keys.
        with contextlib.suppress(Exception):
            await self._deliveries.release(list(self._local), now=self._clock.now())

    async def _maintain(self) -> None:
        now = self._clock.now()
        if not self._due(self._maintained_at, now):
            return
        self._maintained_at = now
        await self._library.refresh_if_stale()
        await self._reachability.sync()
        if self._swept_at is not None and now - self._swept_at < _ANNOUNCE_GRACE:
            return
        self._swept_at = now
        # Only what the worker that settled it had time to publish itself: the
        # sweep is for a process that died in between, or a publish that
        # failed, so once per grace period is soon enough.
        settled_before = now - _ANNOUNCE_GRACE
        found = await self._deliveries.unannounced(settled_before=settled_before, limit=_SWEEP_PAGE)
        if len(found) == _SWEEP_PAGE:
            self._swept_at = None  # more left: the next round goes on at once
        await asyncio.gather(*(self._publish(doc["_id"], doc["announce"]) for doc in found))

    async def _drain(self) -> None:
        settings = self._settings
        # Retries and deliveries orphaned by a dead replica are looked for when
        # a retry this worker wrote comes due, and otherwise once per poll
        # interval, backing off while nothing is found; again at once while
        # they come in full batches.
        claim = self._claim_due_now(self._clock.now())
        while True:
            room = settings.notify_concurrency - len(self._in_flight)
            if room <= 0:
                await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
                continue
            docs: list[Document] = []
            if claim:
                limit = min(settings.notify_batch_size, room)
                now = self._clock.now()
                docs = await self._deliveries.claim_due(now=now, lease=self._lease, limit=limit)
                self._claimed(len(docs), now)
                claim = len(docs) == limit
            docs += self._take_local(room - len(docs))
            if not docs:
                return
            for doc in docs:
                task = asyncio.create_task(self._work(doc))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)

    def _claim_due_now(self, now: datetime) -> bool:
        if self._claim_at is None or now >= self._claim_at:
            return True
        return self._soonest is not None and now >= self._soonest

    def _claimed(self, found: int, now: datetime) -> None:
        """Set when to look again after a claim at ``now`` that found ``found`` deliveries."""
        self._idle_polls = 1 if found else min(2 * self._idle_polls, _IDLE_BACKOFF)
        wait = self._settings.notify_poll_interval_s * self._idle_polls
        self._claim_at = now + timedelta(seconds=wait)
        if self._soonest is not None and self._soonest <= now:
            self._soonest = None  # the claim took what was due by now

    def _comes_due(self, at: datetime) -> None:
        """Note that a delivery comes due in the store at ``at``: look for it then."""
        if self._soonest is None or at < self._soonest:
            self._soonest = at

    def _take_local(self, count: int) -> list[Document]:
        # A delivery whose lease is nearly over is left for the store's claim:
        # another replica may take it then, and two must never send at once.
        cutoff = self._clock.now() + self._lease / 3
        taken: list[Document] = []
        while self._local and len(taken) < count:
            doc = self._local.popleft()
            if doc["lease_until"] > cutoff:
                taken.append(doc)
            else:
                self._comes_due(doc["lease_until"])
        return taken

    def _due(self, last: datetime | None, now: datetime) -> bool:
        interval = timedelta(seconds=self._settings.notify_poll_interval_s)
        return last is None or now - last >= interval

    async def _work(self, doc: Document) -> None:
        intent = Intent.model_validate(doc["intent"])
        rate_counted = bool(doc.get("rate_counted"))
        try:
            outcome = await self._attempter.attempt(
                intent, rate_counted=rate_counted, delivery_id=doc["_id"]
            )
        except Exception as exc:
            # A bug or an outage mid-attempt: keep the delivery and try later.
            log.exception("delivery attempt failed", extra=_ids(doc, intent))
            outcome = Outcome("retry", f"{type(exc).__name__}", rate_counted=rate_counted)
        try:
            await self._record(doc, intent, outcome)
        except Exception:
            # The lease runs out and the delivery is attempted again.
            log.exception("delivery outcome not recorded", extra=_ids(doc, intent))
            self._comes_due(doc["lease_until"])

    async def _record(self, doc: Document, intent: Intent, outcome: Outcome) -> None:
        now = self._clock.now()
        fields: dict[str, Any] = {"updated_at": now, "rate_counted": outcome.rate_counted}
        attempt = attempt_entry(outcome, now)
        if attempt is not None:
            fields["channel"] = outcome.channel
            fields["first_attempt_at"] = doc.get("first_attempt_at") or now
        verdict, announce = outcome.verdict, None
        if verdict == "retry":
            next_at = self._next_attempt(doc, outcome, now)
            if next_at is None:
                verdict = "failed"
            else:
                fields |= {"status": "queued", "next_attempt_at": next_at, "lease_until": now}
        if verdict == "deferred" and outcome.channel is not None and outcome.until is not None:
            # Waiting out a provider outage still ends at the delivery's deadline.
            deadline = doc["created_at"] + timedelta(seconds=self._settings.notify_give_up_after_s)
            if outcome.until > deadline:
                verdict = "failed"
        if verdict == "deferred":
            fields |= {"status": "queued", "next_attempt_at": outcome.until, "lease_until": now}
        elif verdict == "sent":
            result = outcome.result
            assert result is not None
            fields |= {
                "status": "sent",
                "sent_at": now,
                "via": result.via,
                "provider_message_id": result.provider_message_id,
            }
        elif verdict in ("failed", "skipped", "callback_task"):
            fields |= {"status": verdict, "reason": outcome.reason, "finished_at": now}
        if verdict == "failed":
            attempts = len(doc["attempts"]) + (attempt is not None)
            announce = failure_report(doc, intent, outcome, attempts=attempts, now=now)
        elif verdict == "callback_task":
            announce = callback_request(doc, intent, outcome, now=now)
        await self._deliveries.settle(
            doc,
            fields=fields,
            attempt=attempt,
            announce=announce.model_dump(mode="json") if announce else None,
        )
        if verdict in ("retry", "deferred"):
            if (again := fields.get("next_attempt_at")) is not None:
                self._comes_due(again)
        else:
            self._attempter.forget(doc["_id"])
        extra = {**_ids(doc, intent), "channel": outcome.channel, "outcome": verdict}
        log.info("notification %s", verdict, extra=extra)
        if announce is not None:
            await self._publish(doc["_id"], announce.model_dump(mode="json"))

    def _next_attempt(self, doc: Document, outcome: Outcome, now: datetime) -> datetime | None:
        settings = self._settings
        wait = backoff_delay(
            len(doc["attempts"]),
            settings.notify_retry_base_s,
            2.0,
            settings.notify_retry_max_s,
            rng=self._rng,
            min_delay=settings.notify_retry_min_s,
        )
        deadline = doc["created_at"] + timedelta(seconds=settings.notify_give_up_after_s)
        retry_after = outcome.result.retry_after if outcome.result else None
        return retry_at(now, wait, deadline=deadline, retry_after=retry_after)

    async def _publish(self, delivery_id: str, envelope: dict[str, Any]) -> None:
        try:
            await self._publisher.publish(Envelope.model_validate(envelope))
        except BusError as exc:
            log.warning(
                "agents not told yet, will retry: %s", exc, extra={"notification_id": delivery_id}
            )
            return
        await self._deliveries.announced(delivery_id)


def _ids(doc: Document, intent: Intent) -> dict[str, str]:
    return {"notification_id": doc["_id"], "case_id": intent.case_id, "kind": intent.kind}
