"""Privacy's consumers: screen every received contact and publish it without personal data."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from services.privacy.screening import Screener
from shared.bus import Subscription, message_scope
from shared.errors import Poison
from shared.messages import ContactReceived, ContactScreened, Envelope
from shared.runtime import Runtime

log = logging.getLogger(__name__)

# Contacts screened per batch, and how long a batch waits to fill by default
# (``privacy_batch_wait_s``): one read and a few writes serve the whole batch,
# and 20 ms is little beside a contact's way to its case. Twice the batch is
# prefetched, so the next batch fills while one is screened.
BATCH_SIZE = 32
BATCH_WAIT_S = 0.02


class Privacy:
    """Screen contacts; the only reader of ``contact.received.*``."""

    def __init__(
        self, runtime: Runtime, *, screener: Screener, batch_wait_s: float = BATCH_WAIT_S
    ) -> None:
        self._runtime = runtime
        self._screener = screener
        self._batch_wait_s = batch_wait_s

    async def on_contact_received(self, envelope: Envelope) -> None:
        """Vault, mask and publish ``contact.screened``."""
        (outcome,) = await self.on_contacts_received([envelope])
        if outcome is not None:
            raise outcome

    async def on_contacts_received(
        self, envelopes: Sequence[Envelope]
    ) -> list[BaseException | None]:
        """Screen a batch of ``contact.received`` and publish each; say each one's outcome."""
        outcomes: list[BaseException | None] = [None] * len(envelopes)
        received: list[tuple[int, ContactReceived]] = []
        for index, envelope in enumerate(envelopes):
            message = envelope.message()
            if isinstance(message, ContactReceived):
                received.append((index, message))
            else:
                outcomes[index] = Poison(f"privacy.contacts cannot handle {envelope.type}")
        screened_all = await self._screener.screen_many(
            [message.contact for _, message in received], at=self._runtime.clock.now()
        )
        for (index, message), screened in zip(received, screened_all, strict=True):
            if isinstance(screened, Exception):
                outcomes[index] = screened
                continue
            envelope = envelopes[index]
            with message_scope(envelope):
                try:
                    await self._publish(envelope, message, screened)
                except Exception as exc:
                    outcomes[index] = exc
        return outcomes

    async def _publish(
        self, envelope: Envelope, message: ContactReceived, screened: ContactScreened
    ) -> None:
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
                batch_handler=self.on_contacts_received,
                batch_size=BATCH_SIZE,
                max_wait=self._batch_wait_s,
                prefetch=2 * BATCH_SIZE,
            )
        ]
