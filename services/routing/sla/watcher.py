"""The SLA watcher: fire escalation steps and breaches when they come due, once, in any replica.

Every routing replica runs it. A sweep asks the ``sla_next_due`` index for
cases due by now (so its cost grows with the cases coming due, not with all
open cases), leases each one (``lease_until``/``lease_owner``, taken with one
atomic findOneAndUpdate) and fires what is due through the case's outbox in
the same write that releases the lease. The case's version check makes a
second write of the same step impossible even if a lease expired mid-work.
A replica that was down finds everything that came due meanwhile on its
first sweep, because due times are only ever in the past or the future.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import datetime, timedelta

from services.routing.cases import lifecycle
from services.routing.cases.outbox import OutboxRelay
from services.routing.cases.repository import CaseLeases, CaseRepository
from services.routing.cases.store import StaleCase
from services.routing.org.config import OrgConfig
from services.routing.sla.case import SlaKeeper
from shared.ids import new_id
from shared.runtime import Runtime

log = logging.getLogger(__name__)


def replica_id() -> str:
    """Return a name for this process that no other replica shares."""
    return f"{socket.gethostname()}-{os.getpid()}-{new_id()[-6:]}"


class SlaWatcher:
    """Sweep for due SLA work on a timer; ``sweep`` once for tests and catch-up."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        cases: CaseRepository,
        leases: CaseLeases,
        org: OrgConfig,
        relay: OutboxRelay,
        replica: str | None = None,
        lease: timedelta = timedelta(seconds=30),
        batch: int = 100,
        poll_s: float = 1.0,
    ) -> None:
        self._runtime = runtime
        self._cases = cases
        self._leases = leases
        self._sla = SlaKeeper(org)
        self._relay = relay
        self.replica = replica or replica_id()
        self._lease = lease
        self._batch = batch
        self._poll_s = poll_s

    async def run(self) -> None:
        """Sweep forever."""
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("SLA sweep failed; will try again")
            await asyncio.sleep(self._poll_s)

    async def sweep(self) -> int:
        """Fire everything due by the clock's now; return how many events were recorded."""
        fired = 0
        while True:
            now = self._runtime.clock.now()
            due = await self._leases.due_case_ids(now=now, limit=self._batch)
            handled = 0
            for case_id in due:
                if await self._leases.take_lease(
                    case_id, now=now, until=now + self._lease, owner=self.replica
                ):
                    fired += await self._fire(case_id, now)
                    handled += 1
            # A short page means all due work was seen; a page of others' leases means wait.
            if len(due) < self._batch or handled == 0:
                break
        if fired:
            self._relay.wake()
        return fired

    async def _fire(self, case_id: str, now: datetime) -> int:
        try:
            case = await self._cases.get_case(case_id)
            count = lifecycle.fire_sla(case, at=now, sla=self._sla)
            await self._cases.save_case(case, release_lease=True)
        except StaleCase:
            # Someone changed the case while we held it: the next sweep sees the fresh due time.
            await self._leases.release_lease(case_id, owner=self.replica)
            return 0
        except Exception:
            await self._leases.release_lease(case_id, owner=self.replica)
            raise
        if count:
            log.info("SLA events fired", extra={"case_id": case_id, "count": count})
        return count
