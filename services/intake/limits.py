"""Per-source rate limits and request body size limits for intake's endpoints.

The rate limiter is a token bucket per source key (an app key, a LINE bot
destination, a PBX token), held in memory. Each replica keeps its own buckets,
so N replicas admit up to N times the rate: the limits protect a replica from
one runaway source (a PBX replaying its spool in a loop, a misbehaving app
build), they are not a quota promised to anyone. The figures below are far
above what the sample organisations see at peak, so a healthy source is never
refused.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from shared.errors import PayloadTooLarge, RateLimited


@dataclass(frozen=True)
class Limit:
    """A sustained rate with a burst allowance."""

    per_second: float
    burst: int


# LINE sends one request per batch of events; a busy official account peaks at
# a few dozen requests a second during a province-wide outage.
LINE_LIMIT = Limit(per_second=100, burst=500)
# A PBX posts three or four events per call; 50/s is several thousand calls a
# minute, and the burst absorbs a PBX flushing events queued while we were down.
PBX_LIMIT = Limit(per_second=50, burst=1000)
# One app key is one app build for many users; it submits contacts, not chatter.
APP_LIMIT = Limit(per_second=20, burst=100)

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

    def check(self, key: str) -> None:
        """Take one token from ``key``'s bucket; raise ``RateLimited`` if it is empty."""
        now = self._clock()
        rate, burst = self._limit.per_second, float(self._limit.burst)
        tokens, at = self._buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - at) * rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            wait = math.ceil((1 - tokens) / rate)
            raise RateLimited(
                f"rate limit of {rate:g} requests a second exceeded; retry in {wait} s",
                retry_after=max(1, wait),
            )
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > MAX_SOURCES:
            self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        rate, burst = self._limit.per_second, self._limit.burst
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * rate >= burst:
                del self._buckets[key]


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
