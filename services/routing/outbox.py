"""The outbox relay: publishes case events written with their case change, then forgets them."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.routing import store as case_store
from shared.errors import BusError
from shared.messages import Envelope
from shared.runtime import Runtime

log = logging.getLogger(__name__)


class OutboxRelay:
    """Publish pending case events; woken after each write and polling as a safety net."""

    def __init__(self, runtime: Runtime, *, poll_s: float = 1.0) -> None:
        self._runtime = runtime
        self._poll_s = poll_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Ask the relay to publish now."""
        self._wake.set()

    async def run(self) -> None:
        """Relay forever."""
        while True:
            try:
                await self.relay_once()
            except BusError as exc:
                log.warning("outbox relay waiting for the bus: %s", exc)
            except Exception:
                log.exception("outbox relay failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)
            self._wake.clear()

    async def relay_once(self) -> int:
        """Publish every pending event in sequence order; return how many were published."""
        published = 0
        store = self._runtime.store
        for doc in await case_store.pending_outbox(store):
            for raw in doc["outbox"]:
                envelope = Envelope.model_validate(raw)
                await self._runtime.bus.publish(envelope)
                await case_store.mark_published(store, doc["_id"], envelope.id)
                published += 1
        return published
