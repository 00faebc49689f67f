"""Login throttling: lockout with backoff per username and per client address.

Failures are counted in the console's store, so every console replica sees
the same count. After ``free`` failures in a row the key is locked for
``LOCK_S`` seconds, doubling with each further failure up to ``MAX_LOCK_S``;
a login while locked is answered 429 with ``Retry-After`` before any
password is checked. A success clears the username's count, not the address's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.console.store import throttle as throttle_store
from shared.errors import RateLimited
from shared.store import Store

LOCK_S = 30
MAX_LOCK_S = 15 * 60
FORGET_AFTER = timedelta(minutes=30)  # a quiet half hour and the count starts again


@dataclass(frozen=True)
class Key:
    """One throttled thing: a username or a client address, with its free failures."""

    id: str
    free: int


def keys_for(username: str, address: str | None) -> list[Key]:
    """Return the throttle keys of a login attempt."""
    keys = [Key(f"user:{username.lower()}", free=5)]
    if address:
        keys.append(Key(f"addr:{address}", free=20))
    return keys


class LoginThrottle:
    """Refuse logins for locked usernames and addresses; count failures; clear on success."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def check(self, keys: list[Key], *, now: datetime) -> None:
        """Raise ``RateLimited`` if any key is locked at ``now``."""
        held = await throttle_store.counts(self._store, key_ids=[k.id for k in keys])
        waits = [
            (_aware(doc["locked_until"]) - now).total_seconds()
            for doc in held
            if doc.get("locked_until") and _aware(doc["locked_until"]) > now
        ]
        if waits:
            retry_after = max(1, math.ceil(max(waits)))
            raise RateLimited(
                f"too many failed logins; try again in {retry_after} s", retry_after=retry_after
            )

    async def failed(self, keys: list[Key], *, now: datetime) -> None:
        """Count one failure against every key and lock those past their free failures."""
        for key in keys:
            doc = await throttle_store.count(self._store, key_id=key.id)
            fresh = doc is None or _aware(doc["last_failure"]) < now - FORGET_AFTER
            failures = 1 if fresh else int(doc["failures"]) + 1  # type: ignore[index]
            over = failures - key.free + 1  # the free-th failure locks
            lock_s = min(MAX_LOCK_S, LOCK_S * 2 ** min(max(over - 1, 0), 10))
            locked_until = now + timedelta(seconds=lock_s)
            await throttle_store.save_count(
                self._store,
                key_id=key.id,
                failures=failures,
                last_failure=now,
                locked_until=locked_until if over > 0 else None,
            )

    async def succeeded(self, username: str) -> None:
        """Forget the username's failures after a good login."""
        await throttle_store.forget(self._store, key_id=f"user:{username.lower()}")


def _aware(value: datetime) -> datetime:
    # The store hands datetimes back naive (UTC); compare them as aware.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
