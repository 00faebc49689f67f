"""The outbox relay: publishes case events written with their case change, then forgets them.

Delivery is at least once: an event is removed from the outbox only after the
broker confirmed it, so a crash in between publishes it again with the same
envelope id, which consumers' inboxes recognise. Within a process, passes run
one at a time so a woken pass and a polling pass do not publish an event twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from services.routing.cases.repository import CaseOutbox
from shared.errors import BusError
from shared.messages import Envelope
from shared.runtime import Runtime

log = logging.getLogger(__name__)

# Cases relayed side by side per page.
PAGE = 100


class OutboxRelay:
    """Publish pending case events; woken after each write and polling as a safety net."""

    def __init__(self, runtime: Runtime, *, outbox: CaseOutbox, poll_s: float = 1.0) -> None:
        self._runtime = runtime
        self._outbox = outbox
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._one_pass = asyncio.Lock()

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
        """Publish every pending event, each case's in sequence order; return how many."""
        published = 0
        async with self._one_pass:
            while True:
                page = await self._outbox.pending_outbox(limit=PAGE)
                # Cases are independent, so they go out side by side; one case's events in turn.
                done: dict[str, list[str]] = {doc["_id"]: [] for doc in page}
                results = await asyncio.gather(
                    *(self._relay_case(doc, done[doc["_id"]]) for doc in page),
                    return_exceptions=True,
                )
                # What the broker confirmed leaves the outboxes in one write, failures or not.
                await self._outbox.mark_published(
                    {k: ids for k, ids in done.items() if ids}, seen=page
                )
                for result in results:
                    if isinstance(result, BaseException):
                        raise result  # every case of the page has finished; the rest waits
                    published += result
                if len(page) < PAGE:
                    return published

    async def _relay_case(self, doc: dict[str, Any], done: list[str]) -> int:
        """Publish one case's pending events in order, adding each confirmed one to ``done``."""
        for raw in doc["outbox"]:
            envelope = Envelope.model_validate(raw)
            await self._runtime.bus.publish(envelope)
            done.append(envelope.id)
        return len(done)
