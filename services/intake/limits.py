"""Per-source and per-customer rate limits, and request body size limits, for intake.

The rate limiter is a token bucket per key, held in memory: one per source (an
app key, a LINE bot destination, a PBX token) and one per customer (an app
user, a LINE user, a caller's number). Each replica keeps its own buckets,
so N replicas admit up to N times the rate: the limits protect a replica from
one runaway source (a PBX replaying its spool in a loop, a misbehaving app
build) and the desk from one customer flooding it; they are not a quota
promised to anyone. The figures come from ``VOCDESK_RATE_*`` settings, whose
defaults are far above what the sample organisations see at peak, so a
healthy source is never refused. Customer keys are hashed: the buckets hold
no identifier in clear.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fastapi import Request

from shared.errors import PayloadTooLarge, RateLimited
from shared.settings import Settings


@dataclass(frozen=True)
class Limit:
    """A sustained rate with a burst allowance."""

    per_second: float
    burst: int


# What each channel's source and customer buckets are named after in settings.
_CHANNEL_SETTINGS = {
    "app": ("app", "app_user"),
    "line": ("line", "line_user"),
    "pbx": ("pbx", "caller"),
}

# Beyond this many sources, full buckets are forgotten: a full bucket is what a
# new source gets anyway, so dropping it changes nobody's allowance.
MAX_SOURCES = 10_000


class RateLimiter:
    """Token buckets in memory, one per source key."""

    def __init__(self, limit: Limit, *, clock: Callable[[], float] = time.monotonic) -> None:
        if limit.per_second <= 0 or limit.burst < 1:
            raise ValueError("a limit needs a positive rate and a burst of at least 1")
        self._limit = limit
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._swept_at = float("-inf")

    def check(self, key: str, *, who: str = "") -> None:
        """Take one token from ``key``'s bucket; raise ``RateLimited`` if it is empty."""
        now = self._clock()
        rate, burst = self._limit.per_second, float(self._limit.burst)
        tokens, at = self._buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - at) * rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            wait = math.ceil((1 - tokens) / rate)
            whose = f" for {who}" if who else ""
            raise RateLimited(
                f"rate limit{whose} of {rate:g} requests a second exceeded; retry in {wait} s",
                retry_after=max(1, wait),
            )
        self._buckets.pop(key, None)  # re-inserted last: the dict runs least recent first
        self._buckets[key] = (tokens - 1, now)
        # Swept at most once a second: with many customers a sweep per
        # request would cost more than the request.
        if len(self._buckets) > MAX_SOURCES and now - self._swept_at >= 1.0:
            self._swept_at = now
            self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        rate, burst = self._limit.per_second, self._limit.burst
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * rate >= burst:
                del self._buckets[key]
        # Still too many: the longest-idle go (they start again with a full bucket).
        for key in list(self._buckets)[: max(0, len(self._buckets) - 4 * MAX_SOURCES)]:
            del self._buckets[key]


@dataclass(frozen=True)
class ChannelLimits:
    """A channel's two kinds of bucket: per source and per customer."""

    source: RateLimiter
    customer: RateLimiter

    def check_source(self, key: str) -> None:
        """Take a token for the source ``key``; raise ``RateLimited`` if it is spent."""
        self.source.check(key)

    def check_customers(self, channel: str, customers: Iterable[str | None]) -> None:
        """Take a token for each customer (once each); raise ``RateLimited`` if one is spent."""
        for customer in dict.fromkeys(c for c in customers if c):
            digest = hashlib.sha256(f"{channel}:{customer}".encode()).hexdigest()[:24]
            self.customer.check(digest, who="this customer")


def channel_limits(settings: Settings, channel: str) -> ChannelLimits:
    """Build ``channel``'s (``app``, ``line``, ``pbx``) buckets from ``VOCDESK_RATE_*``."""
    source, customer = _CHANNEL_SETTINGS[channel]

    def limit(name: str) -> Limit:
        return Limit(
            per_second=getattr(settings, f"rate_{name}_per_s"),
            burst=getattr(settings, f"rate_{name}_burst"),
        )

    return ChannelLimits(source=RateLimiter(limit(source)), customer=RateLimiter(limit(customer)))


async def read_body(request: Request, max_bytes: int) -> bytes:
    """Read the raw body, refusing with ``PayloadTooLarge`` as soon as it exceeds ``max_bytes``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"body is {declared} bytes; the limit is {max_bytes}")
    # Content-Length may be absent (chunked) or wrong, so count while reading and
    # stop early rather than buffer whatever a client decides to send.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"body exceeds the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
