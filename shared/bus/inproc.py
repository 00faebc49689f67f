"""The in-process bus: same interface and topic semantics, for embedded single-machine mode.

Every message is serialised to JSON and parsed back on delivery, so a model
that would not survive the wire fails here too.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from shared.bus.base import BusHealth, Decision, Subscription, decide
from shared.bus.topology import QUEUES, QueueSpec, topic_matches
from shared.errors import BusUnavailable, Unroutable
from shared.logging import correlation_scope
from shared.messages.base import Envelope

log = logging.getLogger(__name__)


@dataclass
class DeadLetter:
    """A parked message and why it was parked."""

    body: bytes
    reason: str


@dataclass
class _Queue:
    spec: QueueSpec
    pending: asyncio.Queue[tuple[bytes, int]] = field(default_factory=asyncio.Queue)
    dead: list[DeadLetter] = field(default_factory=list)
    workers: list[asyncio.Task[None]] = field(default_factory=list)


class InProcessBus:
    """A topic exchange and work queues inside one process."""

    kind = "in-process"

    def __init__(self, queues: dict[str, QueueSpec] = QUEUES) -> None:
        self._queues = {name: _Queue(spec) for name, spec in queues.items()}
        self._closed = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def connect(self) -> None:
        """Nothing to connect; the topology exists from construction."""

    async def publish(self, envelope: Envelope) -> None:
        """Route to every queue bound to the routing key; raise if none is."""
        if self._closed:
            raise BusUnavailable("the in-process bus is closed")
        body = envelope.to_json()
        targets = [
            q
            for q in self._queues.values()
            if any(topic_matches(p, envelope.routing_key) for p in q.spec.bindings)
        ]
        if not targets:
            raise Unroutable(f"no queue took {envelope.routing_key}")
        for queue in targets:
            self._track(+1)
            queue.pending.put_nowait((body, 1))

    async def subscribe(self, subscription: Subscription) -> None:
        """Start ``prefetch`` workers on the queue."""
        queue = self._queues[subscription.queue]
        for _ in range(subscription.prefetch):
            queue.workers.append(asyncio.create_task(self._work(queue, subscription)))

    async def _work(self, queue: _Queue, subscription: Subscription) -> None:
        while True:
            body, delivery = await queue.pending.get()
            try:
                await self._deliver(queue, subscription, body, delivery)
            finally:
                self._track(-1)

    async def _deliver(
        self, queue: _Queue, subscription: Subscription, body: bytes, delivery: int
    ) -> None:
        try:
            envelope = Envelope.from_json(body)
        except ValueError as exc:
            queue.dead.append(DeadLetter(body, f"unreadable envelope: {exc}"))
            return
        with correlation_scope(envelope.correlation_id):
            decision, reason = await decide(subscription, envelope, delivery=delivery)
        if decision is Decision.REQUEUE:
            self._track(+1)
            queue.pending.put_nowait((body, delivery + 1))
        elif decision is Decision.DEAD_LETTER:
            log.error("dead-lettered", extra={"message_id": envelope.id, "reason": reason})
            queue.dead.append(DeadLetter(body, reason))

    def _track(self, delta: int) -> None:
        self._in_flight += delta
        if self._in_flight == 0:
            self._idle.set()
        else:
            self._idle.clear()

    async def drain(self) -> None:
        """Wait until every published message has been handled (for tests)."""
        await self._idle.wait()

    def dead_letters(self, queue: str) -> list[DeadLetter]:
        """Return what was parked for ``queue``."""
        return list(self._queues[queue].dead)

    async def health(self) -> BusHealth:
        """Report worker counts per queue that has any."""
        return BusHealth(
            kind=self.kind,
            connected=not self._closed,
            consumers={n: len(q.workers) for n, q in self._queues.items() if q.workers},
        )

    async def close(self) -> None:
        """Stop the workers."""
        self._closed = True
        for queue in self._queues.values():
            for task in queue.workers:
                task.cancel()
            await asyncio.gather(*queue.workers, return_exceptions=True)
            queue.workers.clear()
