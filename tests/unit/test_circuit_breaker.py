"""The provider circuit breaker: opens, lets one probe through, closes or opens for longer."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from services.notify.breaker import Breakers
from services.notify.retry import backoff_delay
from shared.clock import FrozenClock


def breakers() -> tuple[Breakers, FrozenClock]:
    clock = FrozenClock(datetime(2026, 4, 13, 9, 0, tzinfo=UTC))
    return Breakers(clock=clock, failures=3, open_s=10, open_max_s=25, rng=random.Random(1)), clock


def test_circuit_opens_after_failures_in_a_row_and_admits_one_probe() -> None:
    circuits, clock = breakers()
    for _ in range(2):
        assert circuits.admit("line") is None
        circuits.record("line", healthy=False, reason="line answered 503")
    assert circuits.state("line") == "closed"
    circuits.record("line", healthy=False, reason="line answered 503")
    assert circuits.state("line") == "open"
    wait = circuits.admit("line")
    assert wait is not None
    assert wait >= clock.now() + timedelta(seconds=10)

    clock.advance(timedelta(seconds=10))
    assert circuits.admit("line") is None  # the probe
    assert circuits.admit("line") is not None  # everyone else waits for its answer
    assert circuits.admit("sms") is None  # other providers are unaffected
    circuits.record("line", healthy=True)
    assert circuits.state("line") == "closed"
    assert circuits.admit("line") is None


def test_failed_probe_opens_for_twice_as_long_up_to_the_cap() -> None:
    circuits, clock = breakers()
    for _ in range(3):
        circuits.record("line", healthy=False)
    periods = []
    for _ in range(3):
        opened = clock.now()
        while circuits.admit("line") is not None:
            clock.advance(timedelta(seconds=1))
        periods.append((clock.now() - opened).total_seconds())
        circuits.record("line", healthy=False)
    assert periods == [10, 20, 25]


def test_released_probe_lets_the_next_one_through() -> None:
    circuits, clock = breakers()
    for _ in range(3):
        circuits.record("line", healthy=False)
    clock.advance(timedelta(seconds=10))
    assert circuits.admit("line") is None
    circuits.release("line")
    assert circuits.admit("line") is None


def test_retry_waits_at_least_the_minimum_first_delay() -> None:
    rng = random.Random(3)
    waits = [backoff_delay(0, 2.0, min_delay=1.0, rng=rng) for _ in range(200)]
    assert min(waits) >= 1.0
    assert max(waits) <= 2.0
    assert len({round(w, 3) for w in waits}) > 100  # jittered, not fixed
