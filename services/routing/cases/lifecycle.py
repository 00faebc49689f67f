"""How a case comes to be and where it goes: open, route, assign, join, reopen. No I/O.

Each function changes the case and records the event that says so; the
caller writes the case (with those events in its outbox) in one update.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.routing.assignment.rules import Area, Choice
from services.routing.cases.domain import Case, Classification, contact_from
from services.routing.sla.case import SlaKeeper
from shared.errors import Conflict
from shared.messages import ContactScreened, Envelope


def open_case(
    message: ContactScreened,
    *,
    case_id: str,
    number: str,
    at: datetime,
    causation: Envelope,
    classification: Classification,
    area: Area,
    tier: str,
) -> Case:
    """Open a new case for a screened contact and record ``case.opened``."""
    case = Case(
        id=case_id,
        number=number,
        org=message.org,
        channel=message.channel,
        channels=[message.channel],
        consent=message.consent,
        subject_ref=message.subject_ref,
        reply_handle=message.reply_handle,
        language=message.language,
        contacts=[contact_from(message)],
        tier=tier,
        area={"province": area.province, "district": area.district, "branch": area.branch_code},
        last_contact_at=message.received_at,
        created_at=at,
        updated_at=at,
    )
    apply_classification(case, classification)
    case.record(
        "case.opened",
        at=at,
        causation=causation,
        detail={
            "contact_id": message.contact_id,
            "classification": classification.model_dump(mode="json"),
            "tier": tier,
            "area": case.area,
        },
    )
    return case


def apply_classification(case: Case, classification: Classification) -> None:
    """Copy a classification's answer onto the case."""
    case.classification = classification
    case.category = classification.category
    case.topic = classification.topic
    case.urgency = classification.urgency


def route(
    case: Case,
    choice: Choice,
    *,
    at: datetime,
    causation: Envelope | None,
    actor: str | None = None,
    assignee: str | None = None,
    strategy: str | None = None,
) -> None:
    """Put the case in ``choice.unit``'s queue, or with ``assignee``; record ``case.routed``."""
    case.move("routed")
    case.unit = choice.unit
    case.assignee = assignee
    case.record(
        "case.routed",
        at=at,
        actor=actor,
        causation=causation,
        detail={
            "unit": choice.unit,
            "rule": choice.rule,
            "reason": choice.reason,
            "assignee": assignee,
            "strategy": strategy,
        },
    )


def assign(case: Case, user: str, *, at: datetime, strategy: str, actor: str | None = None) -> None:
    """Give the case to ``user`` of its unit."""
    if not case.is_open:
        raise Conflict(f"case {case.number} is {case.status}; only open cases are assigned")
    previous, case.assignee = case.assignee, user
    detail = {"change": "assigned", "assignee": user, "previous": previous, "strategy": strategy}
    case.record("case.updated", at=at, actor=actor, detail=detail)


def unassign(case: Case, *, at: datetime, reason: str, actor: str | None = None) -> None:
    """Put the case back in its unit's queue."""
    previous, case.assignee = case.assignee, None
    detail = {"change": "unassigned", "previous": previous, "reason": reason}
    case.record("case.updated", at=at, actor=actor, detail=detail)


def add_contact(
    case: Case,
    message: ContactScreened,
    *,
    at: datetime,
    joined_by: str,
    sla: SlaKeeper,
    causation: Envelope,
    passive: bool = False,
) -> None:
    """Add a contact to the case; the customer answering resumes a paused case.

    ``passive`` contacts (an out-of-office reply, a sticker) are kept on the
    record but change nothing else.
    """
    case.contacts.append(contact_from(message))
    if message.channel not in case.channels:
        case.channels.append(message.channel)
    resumed = False
    if not passive:
        case.last_contact_at = max(case.last_contact_at, message.received_at)
        if case.status == "pending_customer":
            case.move("in_progress")
            sla.resume(case, at)
            resumed = True
    detail: dict[str, Any] = {
        "contact_id": message.contact_id,
        "channel": message.channel,
        "joined_by": joined_by,
        "resumed": resumed,
        "flags": list(message.flags),
    }
    case.record("case.contact_added", at=at, causation=causation, detail=detail)


def reopen(
    case: Case,
    *,
    at: datetime,
    reason: str,
    sla: SlaKeeper,
    actor: str | None = None,
    causation: Envelope | None = None,
    to_user: str | None = None,
    to_role: str | None = None,
) -> None:
    """Reopen a resolved or closed case with a fresh SLA clock; record ``case.reopened``."""
    if case.status not in ("resolved", "closed"):
        raise Conflict(f"case {case.number} is {case.status}; only resolved or closed cases reopen")
    case.move("in_progress")
    case.reopen_count += 1
    if to_user is not None:
        case.assignee = to_user
    sla.restart(case, at, why="reopened")
    detail: dict[str, Any] = {"reason": reason, "reopen_count": case.reopen_count}
    if to_role is not None:
        detail["to"] = {"role": to_role, "user": to_user}
    case.record("case.reopened", at=at, actor=actor, causation=causation, detail=detail)


def fire_sla(case: Case, *, at: datetime, sla: SlaKeeper) -> int:
    """Record every escalation step and breach due by ``at``; return how many fired."""
    events = sla.fire_due(case, at)
    for type_, detail in events:
        case.record(type_, at=at, actor="sla", detail=detail)
    return len(events)
