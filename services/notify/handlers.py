"""Notify's consumer: record the notification each case event or reply calls for, then ack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from services.notify.directory import OrgDirectory
from services.notify.domain import SILENT_UNIT_KINDS, Intent, intent_for, reachability_change
from services.notify.reachability import Reachability
from shared.bus import Subscription, message_scope
from shared.messages import Envelope

log = logging.getLogger(__name__)

# Events taken per batch, and how long a batch waits to fill: their records
# go to the store together (with whatever else is being written then), and
# 20 ms is little beside a case event's way here. Twice the batch is
# prefetched, so the next batch fills while one is recorded.
BATCH_SIZE = 32
BATCH_WAIT_S = 0.02


class Notify:
    """Turn case events and agents' replies into recorded, due deliveries."""

    def __init__(
        self,
        *,
        directory: OrgDirectory,
        reachability: Reachability,
        enqueue: Callable[[Intent], Awaitable[bool]],
    ) -> None:
        self._directory = directory
        self._reachability = reachability
        self._enqueue = enqueue

    async def on_event(self, envelope: Envelope) -> None:
        """Record the notification an event calls for (once per event) for the worker."""
        change = reachability_change(envelope)
        if change is not None:
            subject_ref, reachable = change
            await self._reachability.set(
                subject_ref,
                channel="line",
                reachable=reachable,
                reason="follow" if reachable else "unfollow",
            )
        intent = intent_for(envelope)
        if intent is None:
            return
        if intent.kind == "routed" and (
            self._directory.unit_kind(intent.org, intent.unit) in SILENT_UNIT_KINDS
        ):
            return
        if await self._enqueue(intent):
            log.info(
                "notification queued",
                extra={"case_id": intent.case_id, "kind": intent.kind, "event_id": intent.event_id},
            )

    async def on_events(self, envelopes: Sequence[Envelope]) -> list[BaseException | None]:
        """Record the notifications a batch of events calls for; say how each event went."""
        return await asyncio.gather(
            *map(self._on_event_of_batch, envelopes), return_exceptions=True
        )

    async def _on_event_of_batch(self, envelope: Envelope) -> None:
        with message_scope(envelope):
            await self.on_event(envelope)

    def subscriptions(self) -> list[Subscription]:
        """Return notify's consumers."""
        return [
            Subscription(
                queue="notify.events",
                handler=self.on_event,
                batch_handler=self.on_events,
                batch_size=BATCH_SIZE,
                max_wait=BATCH_WAIT_S,
                # Enough in flight to fill the bulk writes, few enough that
                # little waits for redelivery if this replica dies.
                prefetch=2 * BATCH_SIZE,
                # No inbox: the delivery's id derives from the event id, so a
                # redelivered event meets a duplicate key and records nothing.
                inbox=None,
            )
        ]
