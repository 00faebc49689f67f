"""Notify's use cases: decide which customer message a case event calls for."""

from __future__ import annotations

import logging

from services.notify import store as notify_store
from shared.bus import Subscription
from shared.messages import CaseEvent, Envelope, ReplyRequested
from shared.runtime import Runtime

log = logging.getLogger(__name__)

# Which case events tell the customer something, and what.
EVENT_KINDS = {
    "case.opened": "acknowledged",
    "case.routed": "routed",
    "case.info_requested": "info_requested",
    "case.resolved": "resolved",
    "case.reopened": "reopened",
}


class Notify:
    """Turn case events and agents' replies into notifications."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def on_event(self, envelope: Envelope) -> None:
        """Record the notification an event calls for (once per event)."""
        message = envelope.message()
        if isinstance(message, CaseEvent):
            kind = EVENT_KINDS.get(message.type)
            if kind is None:
                return
            doc = {
                "kind": kind,
                "case_id": message.case.id,
                "case_number": message.case.number,
                "channel": message.case.channel,
                "reply_handle": message.case.reply_handle,
                "language": message.case.language,
                "event_id": envelope.id,
            }
        elif isinstance(message, ReplyRequested):
            doc = {
                "kind": "reply",
                "case_id": message.case_id,
                "case_number": message.case_number,
                "reply_handle": message.reply_handle,
                "language": message.language,
                "event_id": envelope.id,
            }
        else:
            return
        created = await notify_store.record_intent(
            self._runtime.store,
            notification_id=f"n-{envelope.id}",
            doc=doc,
            at=self._runtime.clock.now(),
        )
        if created:
            log.info("notification queued", extra={"case_id": doc["case_id"], "kind": doc["kind"]})

    def subscriptions(self) -> list[Subscription]:
        """Return notify's consumers."""
        return [
            Subscription(queue="notify.events", handler=self.on_event, inbox=self._runtime.inbox())
        ]
