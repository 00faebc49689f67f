"""Retention: purge what privacy keeps in clear once its purpose is over, by data class.

======================  ===============================================  =====================
data class              purged                                           when
======================  ===============================================  =====================
``contact_text``        a contact's sealed clear text, attachment text   N days after its case
                        and reply address (the masked copy stays)        closed
``identity``            a customer's identity, data key and blind        M days after their last
                        indexes                                          contact, once none of
                                                                         their contacts is clear
======================  ===============================================  =====================

N and M come from ``PrivacySettings``. Raw payloads are intake's and purged
there. Cases are routing's: a ``CaseDirectory`` says which are closed and since
when. Every purge is written to the audit log.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from services.privacy.settings import PrivacySettings
from services.privacy.store.audit import append_audit
from services.privacy.store.retention import (
    note_closed_case,
    sealed_contact_count,
    sealed_subjects,
    unused_subjects,
)
from services.privacy.vaulting import SubjectVault
from shared.clock import Clock
from shared.errors import UpstreamUnavailable
from shared.internal_api import Acting, service_headers
from shared.store import Store

RETENTION = Acting(user="privacy-retention", role="system")

log = logging.getLogger(__name__)

ROUTING_PAGE = 200


@dataclass(frozen=True)
class ClosedCase:
    """A case routing has closed: when, and which contacts it holds."""

    case_id: str
    number: str
    closed_at: datetime
    contact_ids: tuple[str, ...]


class CaseDirectory(Protocol):
    """Where privacy learns which cases are closed."""

    async def closed_cases(self, *, closed_before: datetime) -> list[ClosedCase]:
        """Return the cases closed (and still closed) before ``closed_before``."""
        ...


class RoutingCases:
    """Read closed cases from routing's internal API, as the system."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        acting_key: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = base_url
        self._token = token
        self._acting_key = acting_key
        self._transport = transport

    def _headers(self) -> dict[str, str]:
        # A fresh assertion per page: each lives only seconds.
        return service_headers(
            RETENTION, token=self._token, acting_key=self._acting_key, audience="routing"
        )

    async def closed_cases(self, *, closed_before: datetime) -> list[ClosedCase]:
        """Page through routing's closed cases and keep those closed early enough."""
        found: list[ClosedCase] = []
        async with httpx.AsyncClient(
            base_url=self._base, transport=self._transport, timeout=30
        ) as http:
            page = 1
            while True:
                params: dict[str, str | int] = {
                    "status": "closed",
                    "page": page,
                    "per_page": ROUTING_PAGE,
                }
                try:
                    response = await http.get(
                        "/internal/v1/cases", params=params, headers=self._headers()
                    )
                    response.raise_for_status()
                except httpx.HTTPError as exc:
                    raise UpstreamUnavailable(f"routing: {type(exc).__name__}") from exc
                body = response.json()
                found += [
                    c for c in map(_closed_case, body["items"]) if c.closed_at <= closed_before
                ]
                if page * ROUTING_PAGE >= int(body["total"]) or not body["items"]:
                    return found
                page += 1


def _closed_case(item: dict[str, Any]) -> ClosedCase:
    closings = [e["at"] for e in item.get("timeline", []) if e.get("type") == "case.closed"]
    closed_at = datetime.fromisoformat(closings[-1] if closings else item["updated_at"])
    return ClosedCase(
        case_id=item["id"],
        number=item["number"],
        closed_at=closed_at,
        contact_ids=tuple(c["id"] for c in item.get("contacts", [])),
    )


@dataclass(frozen=True)
class RetentionReport:
    """What one run purged."""

    contacts_purged: int = 0
    subjects_purged: int = 0


class Retention:
    """Apply the retention rules; ``run`` repeats them on a schedule."""

    def __init__(
        self,
        store: Store,
        *,
        vault: SubjectVault,
        cases: CaseDirectory,
        settings: PrivacySettings,
        clock: Clock,
    ) -> None:
        self._store = store
        self._vault = vault
        self._cases = cases
        self._settings = settings
        self._clock = clock

    async def run_once(self) -> RetentionReport:
        """Purge every data class whose period is over at the clock's current time."""
        now = self._clock.now()
        contacts = await self._purge_contact_text(now)
        subjects = await self._purge_identities(now)
        return RetentionReport(contacts_purged=contacts, subjects_purged=subjects)

    async def run(self) -> None:
        """Run the rules every ``retention_interval_s`` until cancelled (first run after one)."""
        while True:
            # Waiting first lets routing come up before it is asked anything.
            await asyncio.sleep(self._settings.retention_interval_s)
            try:
                report = await self.run_once()
            except UpstreamUnavailable as exc:
                log.warning("retention skipped: %s", exc)
                continue
            except Exception:
                log.exception("retention run failed; the next run retries")
                continue
            if report.contacts_purged or report.subjects_purged:
                log.info(
                    "retention purged",
                    extra={
                        "contacts": report.contacts_purged,
                        "subjects": report.subjects_purged,
                    },
                )

    async def _purge_contact_text(self, now: datetime) -> int:
        days = self._settings.retention_contact_text_days
        purged = 0
        for case in await self._cases.closed_cases(closed_before=now - timedelta(days=days)):
            ids = list(case.contact_ids)
            await note_closed_case(self._store, ids, case_id=case.case_id, number=case.number)
            subjects = await sealed_subjects(self._store, ids)
            count = await self._vault.purge_contacts(ids, at=now)
            purged += count
            for subject in subjects if count else []:
                await self._audit(
                    now,
                    subject,
                    case_id=case.case_id,
                    reason=f"contact_text: {days} days after the case closed",
                )
        return purged

    async def _purge_identities(self, now: datetime) -> int:
        days = self._settings.retention_identity_days
        stale = await unused_subjects(self._store, updated_before=now - timedelta(days=days))
        purged = 0
        for ref in stale:
            if await sealed_contact_count(self._store, ref):
                continue  # a contact still in use (open or recently closed case)
            if await self._vault.destroy(ref, at=now):
                purged += 1
                await self._audit(now, ref, case_id=None, reason=f"identity: {days} days unused")
        return purged

    async def _audit(
        self, at: datetime, subject_ref: str, *, case_id: str | None, reason: str
    ) -> None:
        await append_audit(
            self._store,
            at=at,
            actor="retention",
            role="system",
            action="purge",
            subject_ref=subject_ref,
            case_id=case_id,
            purpose="retention",
            reason=reason,
        )
