"""The per-source token bucket: burst, refusal with a retry time, refill, separate sources."""

from __future__ import annotations

import pytest

from services.intake.limits import Limit, RateLimiter
from shared.errors import RateLimited


class Ticks:
    """A monotonic clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_is_admitted_then_refused_with_the_wait_until_the_next_token() -> None:
    ticks = Ticks()
    limiter = RateLimiter(Limit(per_second=0.5, burst=3), clock=ticks)
    for _ in range(3):
        limiter.check("pbx:a")
    with pytest.raises(RateLimited) as refused:
        limiter.check("pbx:a")
    assert refused.value.retry_after == 2


def test_bucket_refills_at_the_sustained_rate() -> None:
    ticks = Ticks()
    limiter = RateLimiter(Limit(per_second=1, burst=1), clock=ticks)
    limiter.check("line:bot")
    ticks.now += 1.0
    limiter.check("line:bot")
    with pytest.raises(RateLimited):
        limiter.check("line:bot")


def test_each_source_has_a_bucket_of_its_own() -> None:
    limiter = RateLimiter(Limit(per_second=1, burst=1), clock=Ticks())
    limiter.check("app:one")
    limiter.check("app:two")
    with pytest.raises(RateLimited):
        limiter.check("app:one")


def test_a_limit_without_a_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        RateLimiter(Limit(per_second=0, burst=1))
