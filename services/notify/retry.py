"""Retry a delivery with exponential backoff and full jitter until a deadline.

Only retryable results are tried again; a provider's final refusal (a 4xx) is
returned at once. Retrying the same ``OutboundMessage`` is safe because every
adapter derives its provider idempotency key from the notification id.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import timedelta
from typing import NamedTuple

from pydantic import AwareDatetime

from services.notify.adapters.base import ChannelAdapter, DeliveryResult, OutboundMessage
from shared.clock import Clock, SystemClock
from shared.messages.base import Frozen

Sleep = Callable[[float], Awaitable[None]]

_RNG = random.Random()


class Attempt(Frozen):
    """One try at delivering: when it started and what the provider answered."""

    at: AwareDatetime
    result: DeliveryResult


class RetryOutcome(NamedTuple):
    """The last answer and every attempt that led to it, oldest first."""

    result: DeliveryResult
    attempts: tuple[Attempt, ...]


def backoff_delays(
    base: float = 1.0,
    factor: float = 2.0,
    max_delay: float = 300.0,
    *,
    jitter: bool = True,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """Yield endless waits: ``base * factor**n`` capped at ``max_delay``, fully jittered."""
    draw = rng or random.Random()
    attempt = 0
    while True:
        yield backoff_delay(attempt, base, factor, max_delay, jitter=jitter, rng=draw)
        attempt += 1


def backoff_delay(
    attempt: int,
    base: float = 1.0,
    factor: float = 2.0,
    max_delay: float = 300.0,
    *,
    jitter: bool = True,
    rng: random.Random | None = None,
    min_delay: float = 0.0,
) -> float:
    """Return the wait after failed try ``attempt`` (0 first), jittered, at least ``min_delay``."""
    # Full jitter (a uniform draw up to the cap) spreads the retries of many
    # notifications that failed together, so a recovering provider is not
    # hit by all of them at the same instant; the floor keeps a draw near
    # zero from retrying at once.
    ceiling = max(min(base * factor ** min(attempt, 64), max_delay), min_delay)
    return (rng or _RNG).uniform(min_delay, ceiling) if jitter else ceiling


async def send_with_retry(
    adapter: ChannelAdapter,
    msg: OutboundMessage,
    *,
    give_up_after: timedelta,
    sleep: Sleep = asyncio.sleep,
    clock: Clock | None = None,
    delays: Iterable[float] | None = None,
) -> RetryOutcome:
    """Send ``msg`` until it is accepted, refused for good, or ``give_up_after`` passes."""
    clock = clock or SystemClock()
    waits = iter(delays if delays is not None else backoff_delays())
    deadline = clock.now() + give_up_after
    attempts: list[Attempt] = []
    while True:
        started = clock.now()
        result = await adapter.send(msg)
        attempts.append(Attempt(at=started, result=result))
        if not result.retryable:
            break
        wait = next(waits, None)
        if wait is None:
            break
        if result.retry_after is not None:
            wait = max(wait, result.retry_after)  # the provider asked for at least this
        if clock.now() + timedelta(seconds=wait) > deadline:
            break
        await sleep(wait)
    return RetryOutcome(result=result, attempts=tuple(attempts))
