"""Routing's use cases: screened contact to case."""

from __future__ import annotations

import logging

from services.routing import store as case_store
from services.routing.domain import Case, case_number, open_case, route
from services.routing.org import OrgConfig
from services.routing.outbox import OutboxRelay
from shared.bus import Subscription
from shared.errors import Poison
from shared.ids import new_id
from shared.messages import ContactScreened, Envelope
from shared.runtime import Runtime

log = logging.getLogger(__name__)


class Routing:
    """Open and route cases for screened contacts."""

    def __init__(self, runtime: Runtime, *, org: OrgConfig, relay: OutboxRelay) -> None:
        self._runtime = runtime
        self._org = org
        self._relay = relay

    async def on_contact_screened(self, envelope: Envelope) -> None:
        """Open a case for the contact (once, however often it is delivered)."""
        message = envelope.message()
        if not isinstance(message, ContactScreened):
            raise Poison(f"routing.contacts cannot handle {envelope.type}")
        store = self._runtime.store
        if await case_store.find_by_contact(store, message.contact_id) is not None:
            return
        now = self._runtime.clock.now()
        serial = await case_store.next_serial(store, now.year)
        case = open_case(
            message,
            case_id=new_id(),
            number=case_number(now.year, serial),
            at=now,
            causation=envelope,
        )
        self._assign(case, envelope)
        try:
            await case_store.insert_case(store, case)
        except case_store.DuplicateContact:
            return  # a concurrent delivery of the same contact won
        log.info("case opened", extra={"case_id": case.id, "number": case.number})
        self._relay.wake()

    def _assign(self, case: Case, envelope: Envelope) -> None:
        unit = self._org.fallback_unit
        route(case, unit=unit, at=case.created_at, reason="fallback", causation=envelope)

    def subscriptions(self) -> list[Subscription]:
        """Return routing's consumers."""
        return [
            Subscription(
                queue="routing.contacts",
                handler=self.on_contact_screened,
                inbox=self._runtime.inbox(),
            )
        ]
