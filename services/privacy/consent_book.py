"""Each case's consent record: channel captures, later decisions, and ``consent.changed``.

A case's record holds its history (``consent.ConsentRecord``), the customers it
concerns, and an outbox: a ``consent.changed`` message is written in the same
update as the change it announces and published afterwards by a relay, so a
crash between the write and the publish loses nothing. The records, their
outbox and the contacts they are made of are reached through a
``ConsentRepository`` (``store/consent.py``).

Privacy does not see cases being opened; it learns which contacts form a case
when a caller names them (a consent change, a case view) and then adds those
contacts' channel captures to the case's history: the capture of the contact
that opened the case, and later only the case's own customer's verified acts
(``consent.case_captures``). A later contact never flips consent by what its
form says; staff change it with a reason, audited as ``consent_change``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from services.privacy.consent import (
    ConsentRecord,
    ConsentSource,
    case_captures,
    change,
    may_record,
    merged,
)
from services.privacy.messages import ConsentChanged
from services.privacy.store.consent import ConsentRepository
from shared.bus import Bus
from shared.clock import Clock
from shared.errors import BusError, Conflict, Forbidden, Invalid, NotFound
from shared.logging import current_correlation_id
from shared.messages import Consent, Envelope

log = logging.getLogger(__name__)

_WRITE_ATTEMPTS = 10


class ConsentBook:
    """Keep every case's consent with its history, and announce changes on the bus."""

    def __init__(self, consents: ConsentRepository, *, bus: Bus, clock: Clock) -> None:
        self._consents = consents
        self._bus = bus
        self._clock = clock
        self._said_unbound = False

    async def get(self, case_id: str) -> ConsentRecord | None:
        """Return the case's record, or None if privacy has not seen the case."""
        held = await self._consents.held(case_id)
        return held.record if held else None

    async def for_subject(self, subject_ref: str) -> list[ConsentRecord]:
        """Return the records of every case that concerns ``subject_ref``."""
        return await self._consents.for_subject(subject_ref)

    async def link(
        self,
        case_id: str,
        contact_ids: Sequence[str],
        *,
        customer: str | None = None,
        moved_from: str | None = None,
    ) -> ConsentRecord:
        """Tie contacts to their case and add the captures that count to its history.

        ``customer`` is the case's own customer as routing knows it; privacy
        keeps the first one it learns. ``moved_from`` is the case this one was
        split off: contacts tied to it move here.
        """
        record, _ = await self._link(case_id, contact_ids, customer=customer, moved_from=moved_from)
        return record

    async def record(
        self,
        case_id: str,
        state: Consent,
        *,
        source: ConsentSource,
        actor: str,
        role: str,
        reason: str,
        contact_ids: Sequence[str] = (),
        subject_ref: str | None = None,
    ) -> ConsentRecord:
        """Record a decision for the case, audit it, and announce it if the state changed."""
        if not may_record(role, source):
            raise Forbidden(f"a {role} cannot record consent coming from {source}")
        if role != "system" and not reason.strip():
            raise Invalid("a consent change by staff must give a reason", field="reason")
        if not contact_ids and not subject_ref:
            raise Invalid("name the case's contacts or its customer", field="contact_ids")
        subjects: set[str] = set()
        if contact_ids:
            _, subjects = await self._link(case_id, contact_ids, customer=subject_ref)
        if subject_ref:
            if not await self._consents.subject_exists(subject_ref):
                raise NotFound(f"no subject {subject_ref}")
            subjects.add(subject_ref)
        now = self._clock.now()

        def decide(rec: ConsentRecord) -> ConsentRecord:
            # A capture stamped by another machine's clock may be a little ahead.
            at = max(now, rec.history[-1].at) if rec.history else now
            return change(rec, state, source=source, actor=actor, at=at)

        updated = await self._write(
            case_id, decide, subjects=subjects, announce_new=True, customer=subject_ref
        )
        for subject in sorted(subjects):
            await self._consents.append_audit(
                at=now,
                actor=actor,
                role=role,
                action="consent_change",
                subject_ref=subject,
                case_id=case_id,
                reason=reason or f"{state} via {source}",
            )
        await self.relay(case_id)
        return updated

    async def relay(self, case_id: str | None = None) -> int:
        """Publish pending ``consent.changed`` messages in order; return how many went out."""
        sent = 0
        async for pending in self._consents.pending(case_id):
            for raw in pending.outbox:
                envelope = Envelope.model_validate(raw)
                try:
                    await self._bus.publish(envelope)
                except BusError as exc:
                    self._held_back(exc)
                    break  # keep this case's messages in order: retry from here later
                await self._consents.delivered(pending.case_id, envelope.id)
                sent += 1
        return sent

    async def run_relay(self, interval_s: float) -> None:
        """Relay pending messages every ``interval_s`` until cancelled."""
        while True:
            try:
                await self.relay()
            except Exception:
                log.exception("consent relay failed; retrying")
            await asyncio.sleep(interval_s)

    def _held_back(self, exc: BusError) -> None:
        # Until a queue binds consent.changed the broker returns it: say so once.
        if not self._said_unbound:
            log.warning("consent.changed kept for later: %s", exc)
            self._said_unbound = True

    async def _link(
        self,
        case_id: str,
        contact_ids: Sequence[str],
        *,
        customer: str | None,
        moved_from: str | None = None,
    ) -> tuple[ConsentRecord, set[str]]:
        docs = await self._contacts(case_id, contact_ids, moved_from=moved_from)
        # The earliest contact privacy knows on the case is the one that opened it.
        first = await self._consents.opener(case_id)
        opener = first or min(docs, key=lambda d: d["received_at"])
        held = await self._consents.customer_of(case_id)
        customer = held or customer or str(opener["subject_ref"])
        captures = case_captures(docs, customer=customer, opener=str(opener["_id"]))
        subjects = {str(d["subject_ref"]) for d in docs}
        # A capture learned late changes what routing was told only if the case
        # already had a history; a new record repeats what the contact said.
        record = await self._write(
            case_id,
            lambda rec: merged(rec, captures),
            subjects=subjects,
            announce_new=False,
            customer=customer,
        )
        return record, subjects

    async def _contacts(
        self, case_id: str, contact_ids: Sequence[str], *, moved_from: str | None
    ) -> list[dict[str, Any]]:
        ids = list(dict.fromkeys(contact_ids))
        docs = await self._consents.contacts(ids)
        missing = set(ids) - {d["_id"] for d in docs}
        if missing:
            raise NotFound(f"privacy has not screened contact {sorted(missing)[0]}")
        # Untied contacts are tied here; so are those split off the case this one came from.
        free: list[str | None] = [None, moved_from] if moved_from else [None]
        elsewhere = [d["_id"] for d in docs if d.get("case_id") not in (*free, case_id)]
        if elsewhere:
            raise Conflict(f"contact {elsewhere[0]} belongs to another case")
        await self._consents.tie(ids, case_id=case_id, free=free)
        return docs

    async def _write(
        self,
        case_id: str,
        update: Callable[[ConsentRecord], ConsentRecord],
        *,
        subjects: set[str],
        announce_new: bool,
        customer: str | None = None,
    ) -> ConsentRecord:
        for _ in range(_WRITE_ATTEMPTS):
            held = await self._consents.held(case_id)
            version = held.version if held else 0
            record = held.record if held else ConsentRecord(case_id=case_id)
            updated = update(record)
            known = held.subject_refs if held else frozenset()
            first_customer = customer is not None and not record.customer_ref
            if held and updated == record and subjects <= known and not first_customer:
                return record
            if first_customer:
                updated = updated.model_copy(update={"customer_ref": customer})
            told = bool(record.history) or announce_new
            changed = told and updated.state != record.state
            if await self._consents.write(
                case_id,
                version=version,
                record=updated,
                subjects=subjects,
                customer=customer if first_customer else None,
                announce=_announcement(updated, version + 1) if changed else None,
            ):
                return updated
            # Another writer changed the record since it was read: apply ours on top of theirs.
        raise Conflict("the case's consent is being changed concurrently; try again")


def _announcement(record: ConsentRecord, version: int) -> dict[str, Any]:
    at: datetime = record.history[-1].at
    message = ConsentChanged(case_id=record.case_id, state=record.state, at=at)
    # One id per version: a republished message is recognised as the same one.
    envelope = Envelope.of(
        message,
        correlation_id=current_correlation_id(),  # the request that changed it, if any
        message_id=f"consent-{record.case_id}-{version}",
        occurred_at=at,
    )
    return envelope.model_dump(mode="json")
