"""The workspace's changes to cases: notes, hand-overs, merging two cases, splitting one. No I/O.

None of them tells the customer anything: notify reacts to an allow-list of
event types, and ``case.note_added``, ``case.assigned``, ``case.merged`` and
``case.split`` are not on it.
"""

from __future__ import annotations

from datetime import datetime

from services.routing.cases.domain import Case, CaseContact
from services.routing.sla.case import SlaKeeper
from shared.errors import Conflict, Invalid


def add_note(
    case: Case, *, text: str, text_ref: str | None, mentions: list[str], at: datetime, actor: str
) -> None:
    """Add an internal note for colleagues to the case's timeline."""
    detail = {"text": text, "text_ref": text_ref, "mentions": mentions, "by": actor}
    case.record("case.note_added", at=at, actor=actor, detail=detail)


def reassign(case: Case, user: str | None, *, reason: str | None, at: datetime, actor: str) -> bool:
    """Give the open case to ``user`` (None: back to its unit's queue); False if nothing changed."""
    if not case.is_open:
        raise Conflict(f"case {case.number} is {case.status}; only open cases are assigned")
    if case.assignee == user:
        return False
    detail = {"from": case.assignee, "to": user, "by": actor, "reason": reason}
    case.assignee = user
    case.record("case.assigned", at=at, actor=actor, detail=detail)
    return True


def merge_away(case: Case, *, into: str, reason: str, at: datetime, actor: str) -> None:
    """Close ``case`` as merged into the case ``into``; its contacts stay where they are."""
    if not case.is_open:
        raise Conflict(f"case {case.number} is {case.status}; only open cases are merged")
    # Closing normally needs the customer's acknowledgement (TRANSITIONS); a merge
    # closes without one, because the customer's matter carries on in ``into``.
    case.status = "closed"
    case.merged_into = into
    case.link(into)
    # The clock stops where it stood: the target's clock carries the customer's wait.
    case.sla_next_due = None
    detail = {"source": case.id, "target": into, "by": actor, "reason": reason}
    case.record("case.merged", at=at, actor=actor, detail=detail)


def take_merged(case: Case, *, source: str, reason: str, at: datetime, actor: str) -> None:
    """Record on ``case`` that ``source`` was closed into it."""
    if source in case.merged_cases:
        return
    if not case.is_open:
        raise Conflict(f"case {case.number} is {case.status}; only open cases take a merge")
    case.merged_cases.append(source)
    case.link(source)
    detail = {"source": source, "target": case.id, "by": actor, "reason": reason}
    case.record("case.merged", at=at, actor=actor, detail=detail)


def contact_to_split(case: Case, contact_id: str) -> CaseContact:
    """Return the contact to move out of the open ``case``; refuse its only one."""
    if not case.is_open:
        raise Conflict(f"case {case.number} is {case.status}; only open cases are split")
    found = next((c for c in case.contacts if c.contact_id == contact_id), None)
    if found is None:
        raise Invalid(f"case {case.number} holds no contact {contact_id}", field="contact_id")
    if len(case.contacts) == 1:
        raise Conflict(f"contact {contact_id} is case {case.number}'s only one; nothing to split")
    return found


def split_off(
    source: Case,
    contact: CaseContact,
    *,
    case_id: str,
    number: str,
    assignee: str | None,
    reason: str,
    at: datetime,
    actor: str,
    role: str | None,
    sla: SlaKeeper,
) -> Case:
    """Return the new case for ``contact`` split off ``source``, the contact held as moving."""
    case = Case(
        id=case_id,
        number=number,
        org=source.org,
        status="routed",
        classification=source.classification,
        category=source.category,
        topic=source.topic,
        urgency=source.urgency,
        unit=source.unit,
        assignee=assignee,
        tier=source.tier,
        area=dict(source.area),
        channel=contact.channel,
        channels=[contact.channel],
        consent=source.consent,
        consent_at=source.consent_at,
        subject_ref=source.subject_ref,
        reply_handle=source.reply_handle,
        language=source.language,
        related_cases=[source.id],
        split_from=source.id,
        moving_contact=contact,
        last_contact_at=contact.received_at,
        created_at=at,
        updated_at=at,
    )
    case.acting_role = role
    # The customer has waited since they wrote; the unit already knows the matter.
    sla.start(case, min(contact.received_at, at))
    sla.met(case, "unit_ack", at)
    detail = _split_detail(source.id, case, reason=reason, actor=actor)
    case.record("case.split", at=at, actor=actor, detail=detail)
    return case


def let_go(source: Case, new_case: Case, *, reason: str, at: datetime, actor: str) -> None:
    """Remove the moving contact from ``source`` and link it to ``new_case``."""
    assert new_case.moving_contact is not None
    moving = new_case.moving_contact.contact_id
    source.contacts = [c for c in source.contacts if c.contact_id != moving]
    source.link(new_case.id)
    detail = _split_detail(source.id, new_case, reason=reason, actor=actor)
    source.record("case.split", at=at, actor=actor, detail=detail)


def arrive(case: Case) -> None:
    """Put the moving contact among the case's contacts (the source no longer holds it)."""
    if case.moving_contact is not None:
        case.contacts.append(case.moving_contact)
        case.moving_contact = None


def _split_detail(source: str, new_case: Case, *, reason: str, actor: str) -> dict[str, str]:
    assert new_case.moving_contact is not None
    contact_id = new_case.moving_contact.contact_id
    return {
        "source": source,
        "target": new_case.id,
        "contact_id": contact_id,
        "by": actor,
        "reason": reason,
    }
