"""An optional Asterisk AMI listener (panoramisk): the same call contacts as the CTI webhook."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from panoramisk import Manager

from services.intake.channels.phone.channel import take_event
from services.intake.channels.phone.events import CtiEvent, ami_to_cti
from shared.errors import BusError
from shared.runtime import Runtime

log = logging.getLogger(__name__)

# Calls whose hangup never arrives (a listener restart mid-call) must not grow
# memory without bound; the oldest are dropped past this many.
MAX_OPEN_CALLS = 5_000
# A contact that could not be published (broker down) is retried this often.
PUBLISH_ATTEMPTS = 10
RETRY_DELAY_S = 3.0


class AmiCollector:
    """Gather a call's AMI events and give back its CTI events once it has hung up."""

    def __init__(self, *, agents: Mapping[str, str] | None = None) -> None:
        self._agents = dict(agents or {})
        self._calls: OrderedDict[str, list[dict[str, str]]] = OrderedDict()

    def feed(self, block: Mapping[str, str]) -> list[CtiEvent]:
        """Take one AMI event; return the call's CTI events when its caller's channel hangs up."""
        linked = block.get("Linkedid")
        if not linked:
            return []
        self._calls.setdefault(linked, []).append(dict(block))
        self._calls.move_to_end(linked)
        while len(self._calls) > MAX_OPEN_CALLS:
            dropped, _ = self._calls.popitem(last=False)
            log.warning("AMI call dropped unfinished", extra={"call_id": dropped})
        if block.get("Event") == "Hangup" and block.get("Uniqueid") == linked:
            return ami_to_cti(self._calls.pop(linked), agents=self._agents)
        return []

    @property
    def open_calls(self) -> int:
        """Return how many calls are waiting for their hangup."""
        return len(self._calls)


class AmiListener:
    """Log in to an Asterisk manager interface and turn finished calls into contacts."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        pbx: str = "ami",
        agents: Mapping[str, str] | None = None,
    ) -> None:
        self._runtime = runtime
        self._config: dict[str, Any] = {
            "host": host,
            "port": port,
            "username": username,
            "secret": secret,
            "events": "call",
            "reconnect_timeout": 2,
        }
        self._pbx = pbx
        self.collector = AmiCollector(agents=agents)
        self.contacts: list[str] = []

    async def run(self) -> None:
        """Listen until cancelled; panoramisk reconnects by itself after a drop."""
        manager = Manager(loop=asyncio.get_running_loop(), log=log, **self._config)
        manager.register_event("*", self._on_event)
        manager.connect()
        try:
            await asyncio.Event().wait()
        finally:
            manager.close()

    async def _on_event(self, _: Manager, message: Mapping[str, Any]) -> None:
        block = {str(k): str(v) for k, v in message.items()}
        for event in self.collector.feed(block):
            await self._take(event)

    async def _take(self, event: CtiEvent) -> None:
        sent = event.model_dump(mode="json", by_alias=True)
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            try:
                _, contact_id = await take_event(self._runtime, event, sent, pbx=self._pbx)
            except BusError:
                # The PBX will not resend an AMI event: hold on to it and retry.
                log.warning("AMI call waits for the bus", extra={"attempt": attempt})
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            if contact_id is not None:
                self.contacts.append(contact_id)
            return
        log.error("AMI call event given up", extra={"call_id": event.call_id})
