"""Notify's consumer: record the notification each case event or reply calls for, then ack."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from services.notify.directory import OrgDirectory
from services.notify.domain import SILENT_UNIT_KINDS, Intent, intent_for, reachability_change
from services.notify.reachability import Reachability
from shared.bus import Subscription
from shared.messages import Envelope

log = logging.getLogger(__name__)


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

    def subscriptions(self) -> list[Subscription]:
        """Return notify's consumers."""
        return [
            Subscription(
                queue="notify.events",
                handler=self.on_event,
                # Each event is one small write, grouped with its neighbours
                # into bulk writes: enough in flight to fill them, few enough
                # that little waits for redelivery if this replica dies.
                prefetch=64,
                # No inbox: the delivery's id derives from the event id, so a
                # redelivered event meets a duplicate key and records nothing.
                inbox=None,
            )
        ]
