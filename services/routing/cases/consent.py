"""Keep a case's consent current when privacy announces a change (``consent.changed``)."""

from __future__ import annotations

import logging

from services.routing.cases import work as casework
from services.routing.cases.outbox import OutboxRelay
from services.routing.cases.repository import CaseRepository
from services.routing.cases.store import StaleCase
from shared.errors import NotFound, Poison, Retry
from shared.messages import Envelope
from shared.messages.consent import ConsentChanged
from shared.runtime import Runtime

log = logging.getLogger(__name__)

ATTEMPTS = 5


class ConsentKeeper:
    """Apply consent changes to cases; the newest decision wins, however late it arrives."""

    def __init__(self, runtime: Runtime, *, cases: CaseRepository, relay: OutboxRelay) -> None:
        self._runtime = runtime
        self._cases = cases
        self._relay = relay

    async def on_consent_changed(self, envelope: Envelope) -> None:
        """Set the case's consent if this decision is newer than the one it holds."""
        message = envelope.message()
        if not isinstance(message, ConsentChanged):
            raise Poison(f"routing.consent cannot handle {envelope.type}")
        for _ in range(ATTEMPTS):
            try:
                case = await self._cases.get_case(message.case_id)
            except NotFound as exc:
                raise Poison(f"consent for a case routing does not have: {exc}") from exc
            changed = casework.set_consent(
                case,
                message.state,
                decided_at=message.at,
                at=self._runtime.clock.now(),
                source="privacy",
                causation=envelope,
            )
            if not changed:
                return
            try:
                await self._cases.save_case(case)
            except StaleCase:
                continue
            self._relay.wake()
            return
        raise Retry(f"case {message.case_id} kept changing; try the consent change again")
