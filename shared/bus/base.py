"""The bus interface, and the one place a handler's outcome becomes ack, requeue or dead-letter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, Protocol

from pydantic import ValidationError
from pymongo.errors import ConnectionFailure

from shared.errors import BusUnavailable, Poison, Retry, StoreUnavailable, UpstreamUnavailable
from shared.messages.base import Envelope, knows_type

log = logging.getLogger(__name__)

# A message is delivered at most this many times before it is dead-lettered.
DELIVERY_LIMIT = 5

Handler = Callable[[Envelope], Awaitable[None]]
# A batch handler takes several envelopes and says, per envelope and in order,
# None (handled) or the exception that one message failed with; one message's
# failure must not fail the others.
BatchHandler = Callable[[Sequence[Envelope]], Awaitable[Sequence[BaseException | None]]]


# What claiming a message id found: ours to handle, handled before, or being handled.
Claim = Literal["new", "done", "busy"]


class Inbox(Protocol):
    """Claims a message id for one consumer, so only one delivery of it runs the handler."""

    async def claim(self, consumer: str, message_id: str) -> Claim:
        """Claim ``message_id`` for ``consumer``: ``new``, ``done`` (handled before) or ``busy``."""
        ...

    async def complete(self, consumer: str, message_id: str) -> None:
        """Record that ``consumer`` handled ``message_id``."""
        ...

    async def release(self, consumer: str, message_id: str) -> None:
        """Give a claim back after a failure, so a redelivery runs the handler again."""
        ...

    async def claim_many(self, consumer: str, message_ids: Sequence[str]) -> dict[str, Claim]:
        """Claim every id of ``message_ids`` at once; return each one's claim."""
        ...

    async def complete_many(self, consumer: str, message_ids: Sequence[str]) -> None:
        """Record that ``consumer`` handled every id of ``message_ids``."""
        ...

    async def release_many(self, consumer: str, message_ids: Sequence[str]) -> None:
        """Give back the claims of ``message_ids`` after a failure."""
        ...


class MemoryInbox:
    """An inbox in memory, for the embedded bus and unit tests."""

    def __init__(self) -> None:
        self._state: dict[tuple[str, str], str] = {}

    async def claim(self, consumer: str, message_id: str) -> Claim:
        """Claim ``message_id`` for ``consumer`` unless it is done or being handled."""
        key = (consumer, message_id)
        state = self._state.get(key)
        if state is None:
            self._state[key] = "busy"
            return "new"
        return "done" if state == "done" else "busy"

    async def complete(self, consumer: str, message_id: str) -> None:
        """Record that ``consumer`` handled ``message_id``."""
        self._state[(consumer, message_id)] = "done"

    async def release(self, consumer: str, message_id: str) -> None:
        """Forget an unfinished claim."""
        if self._state.get((consumer, message_id)) != "done":
            self._state.pop((consumer, message_id), None)

    async def claim_many(self, consumer: str, message_ids: Sequence[str]) -> dict[str, Claim]:
        """Claim each of ``message_ids`` in turn (an id given twice is claimed once)."""
        return {mid: await self.claim(consumer, mid) for mid in dict.fromkeys(message_ids)}

    async def complete_many(self, consumer: str, message_ids: Sequence[str]) -> None:
        """Record every id of ``message_ids`` as handled."""
        for message_id in message_ids:
            await self.complete(consumer, message_id)

    async def release_many(self, consumer: str, message_ids: Sequence[str]) -> None:
        """Forget the unfinished claims of ``message_ids``."""
        for message_id in message_ids:
            await self.release(consumer, message_id)


@dataclass(frozen=True)
class Subscription:
    """A consumer: the queue it reads, its handler (and batch handler), and its prefetch."""

    queue: str
    handler: Handler
    # Prefetch bounds the work in flight per consumer; handlers do I/O, so a
    # few at once keeps a replica busy without starving the other replicas.
    prefetch: int = 8
    inbox: Inbox | None = None
    # A consumer that can handle several messages at once (fewer store round
    # trips per message): the RabbitMQ consumer hands it up to ``batch_size``
    # deliveries, waiting at most ``max_wait`` seconds for a batch to fill.
    # The in-process bus and every fallback use ``handler``, one at a time.
    batch_handler: BatchHandler | None = None
    batch_size: int = 1
    max_wait: float = 0.02


@dataclass
class BusHealth:
    """What the health check reports about the bus."""

    kind: str
    connected: bool
    consumers: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Return True if connected and every subscribed queue has a consumer."""
        return self.connected and all(count > 0 for count in self.consumers.values())


class Bus(Protocol):
    """Publish envelopes on the topic exchange and consume work queues."""

    kind: str

    async def connect(self) -> None:
        """Connect and declare the topology."""
        ...

    async def publish(self, envelope: Envelope) -> None:
        """Publish and return only once the broker has confirmed it."""
        ...

    async def subscribe(self, subscription: Subscription) -> None:
        """Start consuming ``subscription.queue``."""
        ...

    async def health(self) -> BusHealth:
        """Report connection and consumer counts per subscribed queue."""
        ...

    async def close(self) -> None:
        """Stop consuming and disconnect."""
        ...


class Decision(Enum):
    """What to do with a delivery."""

    ACK = "ack"
    REQUEUE = "requeue"
    DEAD_LETTER = "dead_letter"


# Failures of the store, the broker or another service pass: the delivery is
# retried in place with backoff for up to this long before it is requeued, so a
# short outage does not use up the delivery limit and dead-letter good messages.
HOLD_S = 20.0
# Requeues wait a little first, so a failing message does not spin.
REQUEUE_DELAY_S = 0.2
_TRANSIENT: tuple[type[BaseException], ...] = (
    StoreUnavailable,
    BusUnavailable,
    UpstreamUnavailable,
    ConnectionFailure,
    TimeoutError,
    OSError,
)


def transient(exc: BaseException) -> bool:
    """Return True if ``exc`` is a passing failure of the store, the broker or a service."""
    return isinstance(exc, _TRANSIENT) or bool(getattr(exc, "timeout", False))


async def decide(
    subscription: Subscription, envelope: Envelope, *, delivery: int
) -> tuple[Decision, str]:
    """Run the handler (at most once per message id) and map its outcome to a decision.

    Every path ends in ack, requeue (after a short delay) or dead-letter: a
    message that can never be decoded is parked at once with its reason, store
    and broker failures are retried in place for ``HOLD_S`` before a requeue,
    and a failing inbox never leaves a delivery unanswered.
    """
    unreadable = undecodable(envelope)
    if unreadable is not None:
        return Decision.DEAD_LETTER, unreadable
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HOLD_S
    pause = 0.25
    while True:
        decision, reason, transient = await _attempt(subscription, envelope, delivery=delivery)
        if not transient or loop.time() + pause > deadline:
            break
        log.warning("transient failure, retrying in place: %s", reason)
        await asyncio.sleep(pause)
        pause = min(pause * 2, 4.0)
    if decision is Decision.REQUEUE:
        await asyncio.sleep(REQUEUE_DELAY_S * delivery)
    return decision, reason


def undecodable(envelope: Envelope) -> str | None:
    """Return why ``envelope`` can never be decoded, or None (decodable, or the handler's)."""
    # A version this process does not know of a type it does know, or data that
    # does not validate, fails the same way on every delivery. A type it does
    # not know at all is left to the handler (some consumers pass events on).
    try:
        envelope.message()
    except KeyError as exc:
        if not knows_type(envelope.type):
            return None
        return f"undecodable {envelope.type} v{envelope.version}: unknown version ({exc})"[:500]
    except ValidationError as exc:
        return f"undecodable {envelope.type} v{envelope.version}: {exc}"[:500]
    return None


async def _attempt(
    subscription: Subscription, envelope: Envelope, *, delivery: int
) -> tuple[Decision, str, bool]:
    inbox, queue = subscription.inbox, subscription.queue
    if inbox is not None:
        try:
            claim = await inbox.claim(queue, envelope.id)
        except Exception as exc:
            return (*retry_or_give_up(delivery, f"inbox: {type(exc).__name__}: {exc}"), True)
        if claim == "done":
            log.info("duplicate delivery skipped", extra={"message_id": envelope.id})
            return Decision.ACK, "duplicate", False
        if claim == "busy":
            # Another delivery of this message is running (or died holding the
            # claim, which then expires): wait for it rather than run twice.
            return Decision.REQUEUE, "another delivery of this message is in progress", True
    try:
        await subscription.handler(envelope)
    except Exception as exc:
        await _release(inbox, queue, envelope.id)
        return failure(exc, envelope, delivery=delivery)
    if inbox is not None:
        try:
            await inbox.complete(queue, envelope.id)
        except Exception:
            # The effect is stored and handlers are idempotent: ack; the claim expires.
            log.warning("inbox could not record a handled message", exc_info=True)
    return Decision.ACK, "handled", False


def failure(exc: Exception, envelope: Envelope, *, delivery: int) -> tuple[Decision, str, bool]:
    """Map a handler's failure to a decision, its reason, and whether it is transient."""
    if isinstance(exc, Poison):
        return Decision.DEAD_LETTER, f"poison: {exc.reason}", False
    if isinstance(exc, Retry):
        return (*retry_or_give_up(delivery, exc.reason), False)
    reason = f"{type(exc).__name__}: {exc}"
    if transient(exc):
        return (*retry_or_give_up(delivery, reason), True)
    log.error("handler failed", exc_info=exc, extra={"message_id": envelope.id})
    return (*retry_or_give_up(delivery, reason), False)


async def _release(inbox: Inbox | None, queue: str, message_id: str) -> None:
    if inbox is None:
        return
    try:
        await inbox.release(queue, message_id)
    except Exception:
        log.warning("inbox could not release a claim; it expires", exc_info=True)


def retry_or_give_up(delivery: int, reason: str) -> tuple[Decision, str]:
    """Return requeue, or dead-letter once the delivery limit is reached."""
    if delivery >= DELIVERY_LIMIT:
        return Decision.DEAD_LETTER, f"delivery limit {DELIVERY_LIMIT} reached: {reason}"
    return Decision.REQUEUE, reason
