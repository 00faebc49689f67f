"""Privacy's consumers: screen every received contact and publish it without personal data."""

from __future__ import annotations

import logging

from services.privacy.screening import Screener
from shared.bus import Subscription
from shared.errors import Poison
from shared.messages import ContactReceived, Envelope
from shared.runtime import Runtime

log = logging.getLogger(__name__)


class Privacy:
    """Screen contacts; the only reader of ``contact.received.*``."""

    def __init__(self, runtime: Runtime, *, screener: Screener) -> None:
        self._runtime = runtime
        self._screener = screener

    async def on_contact_received(self, envelope: Envelope) -> None:
        """Vault, mask and publish ``contact.screened``."""
        message = envelope.message()
        if not isinstance(message, ContactReceived):
            raise Poison(f"privacy.contacts cannot handle {envelope.type}")
        screened = await self._screener.screen(message.contact, at=self._runtime.clock.now())
        # The screened message's id is derived from the received one, so a
        # redelivery republishes the same message and consumers skip it.
        out = Envelope.of(
            screened,
            causation=envelope,
            message_id=f"{envelope.id}-screened",
            occurred_at=message.contact.received_at,
        )
        await self._runtime.bus.publish(out)
        log.info("contact screened", extra={"contact_id": screened.contact_id})

    def subscriptions(self) -> list[Subscription]:
        """Return privacy's consumers."""
        return [
            Subscription(
                queue="privacy.contacts",
                handler=self.on_contact_received,
                inbox=self._runtime.inbox(),
            )
        ]
