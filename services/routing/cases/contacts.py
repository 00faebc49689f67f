"""Screened contact to case: thread it into an existing case, or classify, route and open one.

Every outcome is one write of one case document with its events in the
outbox. A write that finds the case changed meanwhile decides again on the
fresh state, so a contact racing an agent's action lands exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.routing.assignment.areas import Gazetteer
from services.routing.assignment.dispatch import read_once
from services.routing.assignment.rules import Choice, Facts, choose_unit
from services.routing.assignment.rules_in_force import RuleBook
from services.routing.cases import accounts, callbacks, lifecycle, threads
from services.routing.cases import work as casework
from services.routing.cases.commands import Seats, relate_cases
from services.routing.cases.domain import Case, case_number
from services.routing.cases.outbox import OutboxRelay
from services.routing.cases.repository import CaseRepository
from services.routing.cases.store import DuplicateContact, StaleCase
from services.routing.classification.pipeline import CaseClassifier
from services.routing.org.config import DEFAULT_TIER, OrgConfig
from services.routing.sla.case import SlaKeeper
from shared.bus import message_scope
from shared.errors import Poison, Retry
from shared.ids import new_id
from shared.messages import ContactScreened, Envelope
from shared.runtime import Runtime

log = logging.getLogger(__name__)

# A busy customer's case is written by several deliveries at once; each lost
# race waits a little longer before deciding again, so they spread out.
ATTEMPTS = 10
RACE_PAUSE_S = 0.02
# Customers of one batch routed side by side (each customer's contacts in turn):
# a contact waits on a few store round trips, which others' can overlap.
SIDE_BY_SIDE = 8


@dataclass(frozen=True)
class _Known:
    """What was read ahead for a contact of a batch: its case, its customer's cases and tier."""

    case: Case | None
    subject_cases: list[Case]
    tier: object


class ContactRouter:
    """Turn each screened contact into exactly one change: a case opened, joined or rated."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        cases: CaseRepository,
        org: OrgConfig,
        rulebook: RuleBook,
        classifier: CaseClassifier,
        dispatcher: Seats,
        relay: OutboxRelay,
    ) -> None:
        self._runtime = runtime
        self._cases = cases
        self._org = org
        self._rulebook = rulebook
        self._classifier = classifier
        self._dispatcher = dispatcher
        self._relay = relay
        self._sla = SlaKeeper(org)
        self._places = Gazetteer(org)

    async def on_contact_screened(self, envelope: Envelope) -> None:
        """Handle one delivery of ``contact.screened`` (redeliveries change nothing)."""
        await self._route(self._screened(envelope), envelope, known=None)

    async def on_contacts_screened(
        self, envelopes: Sequence[Envelope]
    ) -> list[BaseException | None]:
        """Handle a batch of ``contact.screened``; say each one's outcome.

        What the contacts need is read once for the batch (their cases, their
        customers' cases and tiers, who is offline); a contact whose customer
        or contact id came earlier in the batch reads afresh, so it sees what
        the earlier one did, as one by one. Each customer's contacts are
        routed in order; different customers' side by side (``SIDE_BY_SIDE``),
        as two replicas would route them.
        """
        outcomes: list[BaseException | None] = [None] * len(envelopes)
        messages: list[tuple[int, ContactScreened]] = []
        for index, envelope in enumerate(envelopes):
            try:
                messages.append((index, self._screened(envelope)))
            except Poison as exc:
                outcomes[index] = exc
        known = await self._read_ahead(messages)
        # One customer's contacts (or one contact's deliveries) in order, as one by one;
        # different customers side by side.
        turns: dict[str, list[tuple[int, ContactScreened]]] = {}
        for index, message in messages:
            turns.setdefault(message.subject_ref or f"contact:{message.contact_id}", []).append(
                (index, message)
            )
        gate = asyncio.Semaphore(SIDE_BY_SIDE)

        async def route_in_turn(turn: list[tuple[int, ContactScreened]]) -> None:
            async with gate:
                for index, message in turn:
                    envelope = envelopes[index]
                    with message_scope(envelope):
                        try:
                            await self._route(
                                message, envelope, known=known.pop(index, None), wake=False
                            )
                        except Exception as exc:
                            outcomes[index] = exc

        # The batch's lane books are written once, then the relay publishes its events.
        async with self._cases.batched_writes():
            with read_once():
                await asyncio.gather(*(route_in_turn(turn) for turn in turns.values()))
        self._relay.wake()
        return outcomes

    def _screened(self, envelope: Envelope) -> ContactScreened:
        message = envelope.message()
        if not isinstance(message, ContactScreened):
            raise Poison(f"routing.contacts cannot handle {envelope.type}")
        if message.org != self._org.org:
            raise Poison(
                f"contact for organisation {message.org}; this routing serves {self._org.org}"
            )
        return message

    async def _read_ahead(
        self, messages: Sequence[tuple[int, ContactScreened]]
    ) -> dict[int, _Known]:
        """Read, one query each, what the first contact of each customer in the batch needs."""
        firsts: list[tuple[int, ContactScreened]] = []
        contacts: set[str] = set()
        subjects: set[str] = set()
        for index, message in messages:
            ref = message.subject_ref
            if message.contact_id not in contacts and not (ref and ref in subjects):
                firsts.append((index, message))
            contacts.add(message.contact_id)
            if ref:
                subjects.add(ref)
        if not firsts:
            return {}
        refs = [str(m.subject_ref) for _, m in firsts if m.subject_ref]
        cased = await self._cases.find_by_contacts([m.contact_id for _, m in firsts])
        cases_of = await self._cases.subjects_cases(refs)
        tiers = await accounts.recorded_tiers(self._runtime.store, refs)
        return {
            index: _Known(
                case=cased.get(message.contact_id),
                subject_cases=cases_of.get(message.subject_ref or "", []),
                tier=tiers.get(message.subject_ref or ""),
            )
            for index, message in firsts
        }

    async def _route(
        self,
        message: ContactScreened,
        envelope: Envelope,
        *,
        known: _Known | None,
        wake: bool = True,
    ) -> None:
        for attempt in range(ATTEMPTS):
            fresh = known if attempt == 0 else None  # a lost race reads everything again
            cased = fresh.case if fresh else await self._cases.find_by_contact(message.contact_id)
            if cased is not None:
                return
            decision = await self._decide(message, known=fresh)
            try:
                await self._act(decision, message, envelope, known=fresh)
            except StaleCase:
                # The case moved on between reading and writing: decide again.
                await asyncio.sleep(RACE_PAUSE_S * (attempt + 1))
                continue
            except DuplicateContact:
                return  # a concurrent delivery of the same contact won
            if wake:
                self._relay.wake()
            return
        raise Retry(f"contact {message.contact_id}: its case kept changing; try again later")

    async def _decide(self, message: ContactScreened, *, known: _Known | None) -> threads.Decision:
        numbers, message_ids = threads.references(message)
        rating = threads.rating_of(message)
        if rating is not None:
            numbers, message_ids = [rating.case_number], []
        choice = threads.consent_choice_of(message)
        if choice is not None:
            numbers, message_ids = ([choice[1]] if choice[1] else []), []
        referenced = None
        if numbers or message_ids:
            referenced = await self._cases.find_referenced(numbers=numbers, message_ids=message_ids)
        if known is not None:
            subject_cases = known.subject_cases
        else:
            subject_cases = await self._cases.subject_cases(message.subject_ref)
        return threads.decide(
            message,
            referenced=referenced,
            subject_cases=subject_cases,
            policy=self._org.threading,
            now=self._runtime.clock.now(),
        )

    async def _act(
        self,
        decision: threads.Decision,
        message: ContactScreened,
        envelope: Envelope,
        *,
        known: _Known | None,
    ) -> None:
        store, now = self._runtime.store, self._runtime.clock.now()
        log.info(
            "contact %s: %s (%s)",
            message.contact_id,
            decision.action,
            decision.reason,
            extra={"case_id": decision.case_id},
        )
        if decision.action == "ignore":
            return
        if decision.action == "callback":
            await callbacks.add(store, message)
            return
        if decision.action == "callback_attempt":
            await callbacks.attempt(store, message)
            return
        if decision.action == "open":
            opened = await self._open(
                message, envelope, related=decision.related_case, now=now, known=known
            )
            if decision.related_case is not None:
                await relate_cases(
                    decision.related_case,
                    opened.id,
                    cases=self._cases,
                    at=now,
                    reason=decision.reason,
                )
            return
        assert decision.case_id is not None
        case = await self._cases.get_case(decision.case_id)
        if decision.action == "rate":
            rating = threads.rating_of(message)
            assert rating is not None
            assert rating.score is not None
            supervisor = self._supervisor(case)
            casework.rate(
                case,
                score=rating.score,
                comment=rating.comment,
                channel=message.channel,
                at=now,
                actor="customer",
                sla=self._sla,
                supervisor=supervisor,
            )
        elif decision.action == "consent":
            assert decision.consent is not None
            lifecycle.add_contact(
                case,
                message,
                at=now,
                joined_by=decision.reason,
                sla=self._sla,
                causation=envelope,
                passive=True,
            )
            casework.set_consent(
                case,
                decision.consent,
                decided_at=message.received_at,
                at=now,
                source="line_quick_reply",
                actor="customer",
                causation=envelope,
            )
        else:
            if decision.action == "reopen":
                lifecycle.reopen(
                    case,
                    at=now,
                    reason=decision.reason,
                    sla=self._sla,
                    actor="customer",
                    causation=envelope,
                )
            lifecycle.add_contact(
                case,
                message,
                at=now,
                joined_by=decision.reason,
                sla=self._sla,
                causation=envelope,
                passive=decision.passive,
            )
        await self._cases.save_case(case)

    async def _open(
        self,
        message: ContactScreened,
        envelope: Envelope,
        *,
        related: str | None,
        now: datetime,
        known: _Known | None,
    ) -> Case:
        store = self._runtime.store
        classification = await self._classifier.classify(message)
        area = self._places.area_of(message)
        tiers = self._org.tiers
        if known is not None:
            tier = accounts.tier_from(known.tier, message, tiers=tiers, default=DEFAULT_TIER)
        else:
            tier = await accounts.tier_of(store, message, tiers=tiers, default=DEFAULT_TIER)
        facts = Facts(
            topic=classification.topic,
            category=classification.category,
            urgency=classification.urgency,
            channel=message.channel,
            tier=tier,
            language=message.language,
            area=area,
        )
        if classification.confident:
            choice = choose_unit(
                self._rulebook.rules,
                facts,
                area_unit=self._org.unit_for_area,
                fallback=self._org.fallback_unit,
            )
        else:
            confidence = f"{classification.confidence:.2f}" if classification.confidence else "none"
            choice = Choice(
                self._org.triage_unit, None, f"classifier unsure (confidence {confidence})"
            )
        serial = await self._cases.next_serial(now.year)
        case = lifecycle.open_case(
            message,
            case_id=new_id(),
            number=case_number(now.year, serial),
            at=now,
            causation=envelope,
            classification=classification,
            area=area,
            tier=tier,
        )
        case.related_case = related
        if related is not None:
            case.relate(related, at=now, reason="opened from a contact naming it")
        unit = self._org.unit(choice.unit)
        assignee = await self._dispatcher.choose(choice.unit)
        lifecycle.route(
            case,
            choice,
            at=now,
            causation=envelope,
            assignee=assignee,
            strategy=unit.assignment if unit else None,
        )
        # The customer has waited since they made contact, not since routing got to it.
        self._sla.start(case, min(message.received_at, now))
        await self._cases.insert_case(case)
        log.info(
            "case opened", extra={"case_id": case.id, "number": case.number, "unit": case.unit}
        )
        return case

    def _supervisor(self, case: Case) -> str | None:
        unit = self._org.unit(case.unit)
        return unit.supervisor if unit else None
