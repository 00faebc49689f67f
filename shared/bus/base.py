"""The bus interface, and the one place a handler's outcome becomes ack, requeue or dead-letter."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from shared.errors import Poison, Retry
from shared.messages.base import Envelope

log = logging.getLogger(__name__)

# A message is delivered at most this many times before it is dead-lettered.
DELIVERY_LIMIT = 5

Handler = Callable[[Envelope], Awaitable[None]]


class Inbox(Protocol):
    """Remembers which message ids a consumer has already handled."""

    async def seen(self, consumer: str, message_id: str) -> bool:
        """Return True if ``consumer`` already handled ``message_id``."""
        ...

    async def remember(self, consumer: str, message_id: str) -> None:
        """Record that ``consumer`` handled ``message_id``."""
        ...


class MemoryInbox:
    """An inbox in memory, for the embedded bus and unit tests."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()

    async def seen(self, consumer: str, message_id: str) -> bool:
        """Return True if ``consumer`` already handled ``message_id``."""
        return (consumer, message_id) in self._seen

    async def remember(self, consumer: str, message_id: str) -> None:
        """Record that ``consumer`` handled ``message_id``."""
        self._seen.add((consumer, message_id))


@dataclass(frozen=True)
class Subscription:
    """A consumer: the queue it reads, the handler, and its prefetch."""

    queue: str
    handler: Handler
    # Prefetch bounds the work in flight per consumer; handlers do I/O, so a
    # few at once keeps a replica busy without starving the other replicas.
    prefetch: int = 8
    inbox: Inbox | None = None


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


async def decide(
    subscription: Subscription, envelope: Envelope, *, delivery: int
) -> tuple[Decision, str]:
    """Run the handler (at most once per message id) and map its outcome to a decision."""
    inbox = subscription.inbox
    if inbox is not None and await inbox.seen(subscription.queue, envelope.id):
        log.info("duplicate delivery skipped", extra={"message_id": envelope.id})
        return Decision.ACK, "duplicate"
    try:
        await subscription.handler(envelope)
    except Poison as exc:
        return Decision.DEAD_LETTER, f"poison: {exc.reason}"
    except Retry as exc:
        return _retry_or_give_up(delivery, exc.reason)
    except Exception as exc:
        log.exception("handler failed", extra={"message_id": envelope.id})
        return _retry_or_give_up(delivery, f"{type(exc).__name__}: {exc}")
    if inbox is not None:
        await inbox.remember(subscription.queue, envelope.id)
    return Decision.ACK, "handled"


def _retry_or_give_up(delivery: int, reason: str) -> tuple[Decision, str]:
    if delivery >= DELIVERY_LIMIT:
        return Decision.DEAD_LETTER, f"delivery limit {DELIVERY_LIMIT} reached: {reason}"
    return Decision.REQUEUE, reason
