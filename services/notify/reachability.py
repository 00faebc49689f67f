"""Who must get nothing, and on which channel: the store's record, mirrored in memory.

Every notification asks; a store read each time would cost more than the
send. The mirror follows the store by reading what changed since the last
look (each replica does so at every poll), and a change made through this
replica is mirrored at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.notify.store import DeliveryRepository
from shared.clock import Clock

# Read back this far before the newest change seen, so a change stamped by a
# replica whose clock lags a little is not missed.
_OVERLAP = timedelta(minutes=1)


class Reachability:
    """Answer which channels a customer is blocked on, from memory kept in step with the store."""

    def __init__(self, *, deliveries: DeliveryRepository, clock: Clock) -> None:
        self._deliveries = deliveries
        self._clock = clock
        self._blocked: dict[str, frozenset[str]] = {}
        self._seen: datetime | None = None
        self._synced = False

    def blocked(self, subject_ref: str) -> frozenset[str]:
        """Return the channels ``subject_ref`` gets nothing on (``*`` means every channel)."""
        return self._blocked.get(subject_ref, frozenset())

    @property
    def synced(self) -> bool:
        """Return whether the mirror has been loaded from the store at least once."""
        return self._synced

    async def sync(self) -> None:
        """Read what changed in the store since the last sync."""
        since = self._seen - _OVERLAP if self._seen else None
        for doc in await self._deliveries.reachability_changes(since=since):
            self._mirror(doc["_id"], frozenset(doc.get("blocked") or {}))
            stamp = doc.get("updated_at")
            if stamp is not None and (self._seen is None or stamp > self._seen):
                self._seen = stamp
        self._synced = True

    async def set(self, subject_ref: str, *, channel: str, reachable: bool, reason: str) -> None:
        """Record (and mirror) whether ``subject_ref`` may be sent anything on ``channel``."""
        await self._deliveries.set_reachable(
            subject_ref,
            channel=channel,
            reachable=reachable,
            reason=reason,
            at=self._clock.now(),
        )
        current = set(self.blocked(subject_ref))
        if reachable:
            current.discard(channel)
        else:
            current.add(channel)
        self._mirror(subject_ref, frozenset(current))

    def _mirror(self, subject_ref: str, channels: frozenset[str]) -> None:
        if channels:
            self._blocked[subject_ref] = channels
        else:
            self._blocked.pop(subject_ref, None)
