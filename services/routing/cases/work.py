"""What people do to a case: acknowledge, work, transfer, ask, reply, resolve, close. No I/O.

Closing needs the customer's acknowledgement: their rating, or an agent's
record of it made on their behalf and certified by a supervisor (not the
same person). A rating of 1 or 2 closes the case and reopens it to the
unit's supervisor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.routing.cases.domain import Case, Classification, Closure
from services.routing.cases.lifecycle import apply_classification, reopen
from services.routing.sla.case import SlaKeeper
from shared.errors import Conflict, Invalid
from shared.messages import Envelope, ReplyRequested
from shared.messages.cases import CaseStatus
from shared.messages.contacts import Consent

LOW_SCORE = 2  # a rating at or below this reopens the case to a supervisor


def acknowledge(
    case: Case, *, at: datetime, actor: str, sla: SlaKeeper, taker: str | None = None
) -> None:
    """The unit has seen the case; a ``taker`` (a member) acknowledging it unassigned takes it."""
    case.move("acknowledged")
    sla.met(case, "unit_ack", at)
    detail: dict[str, Any] = {"unit": case.unit}
    if taker is not None and case.assignee is None:
        case.assignee = detail["assignee"] = taker
    case.record("case.acknowledged", at=at, actor=actor, detail=detail)


def set_consent(
    case: Case,
    state: Consent,
    *,
    decided_at: datetime,
    at: datetime,
    source: str,
    actor: str | None = None,
    causation: Envelope | None = None,
) -> bool:
    """Apply a consent decision if it is newer than the one in force; return whether it was."""
    if case.consent_at is not None and case.consent_at >= decided_at:
        return False  # an older decision arriving late changes nothing
    case.consent, case.consent_at = state, decided_at
    detail = {
        "change": "consent",
        "consent": state,
        "decided_at": decided_at.isoformat(),
        "source": source,
    }
    case.record("case.updated", at=at, actor=actor, causation=causation, detail=detail)
    return True


def set_status(case: Case, status: CaseStatus, *, at: datetime, actor: str, sla: SlaKeeper) -> None:
    """Move the case to ``in_progress`` (the only status PATCH may set)."""
    if status != "in_progress":
        raise Invalid(
            "status may only be set to in_progress; use the case's actions", field="status"
        )
    previous = case.status
    case.move("in_progress")
    sla.met(case, "unit_ack", at)  # starting work acknowledges the case too
    if previous == "pending_customer":
        sla.resume(case, at)
    detail = {"change": "status", "from": previous, "to": status}
    case.record("case.updated", at=at, actor=actor, detail=detail)


def reclassify(
    case: Case, changes: dict[str, str], *, at: datetime, actor: str, sla: SlaKeeper
) -> dict[str, Any]:
    """Apply an agent's correction of category, topic or urgency; return what it was before."""
    before = {"category": case.category, "topic": case.topic, "urgency": case.urgency}
    after = before | changes
    if after == before:
        return {}
    classification = Classification(
        category=after["category"],
        topic=after["topic"],
        urgency=after["urgency"],
        confidence=1.0,
        confident=True,
        source="agent",
        hazards=case.classification.hazards,
        model_version=case.classification.model_version,
    )
    apply_classification(case, classification)
    if case.is_open:
        sla.reselect(case, at)
    detail = {"change": "classification", "before": before, "after": after}
    case.record("case.updated", at=at, actor=actor, detail=detail)
    return before


def transfer(
    case: Case, *, unit: str, reason: str, at: datetime, actor: str, sla: SlaKeeper
) -> str:
    """Move the case to another unit's queue with its SLA time carried over; return the old unit."""
    if not case.is_open:
        raise Conflict(f"case {case.number} is {case.status}; reopen it before transferring")
    if unit == case.unit:
        raise Conflict(f"case {case.number} is already with {unit}")
    previous = case.unit or ""
    case.move("routed")
    case.unit, case.assignee = unit, None
    sla.transfer(case, at)
    case.record(
        "case.transferred",
        at=at,
        actor=actor,
        detail={"from": previous, "to": unit, "reason": reason},
    )
    # The new unit learns of the case the same way as of any routed case.
    detail = {"unit": unit, "rule": None, "reason": f"transfer from {previous}", "assignee": None}
    case.record("case.routed", at=at, actor=actor, detail=detail)
    return previous


def request_info(
    case: Case,
    *,
    question: str,
    at: datetime,
    actor: str,
    sla: SlaKeeper,
    text_ref: str | None = None,
) -> None:
    """Ask the customer a question; the SLA waits for their answer."""
    case.move("pending_customer")
    sla.met(case, "first_response", at)
    sla.pause(case, at)
    detail: dict[str, Any] = {"question": question}
    if text_ref:
        detail["text_ref"] = text_ref  # the clear question is in privacy's vault
    case.record("case.info_requested", at=at, actor=actor, detail=detail)


def reply(
    case: Case,
    *,
    text: str,
    request_id: str,
    at: datetime,
    actor: str,
    sla: SlaKeeper,
    text_ref: str | None = None,
) -> None:
    """Record a reply to the customer and queue ``reply.requested`` in the case's outbox."""
    if case.status == "closed":
        raise Conflict(f"case {case.number} is closed; reopen it to write to the customer")
    sla.met(case, "first_response", at)
    case.record(
        "case.updated",
        at=at,
        actor=actor,
        detail={"change": "replied", "request_id": request_id, "text": text}
        | ({"text_ref": text_ref} if text_ref else {}),
    )
    case.send(
        ReplyRequested(
            request_id=request_id,
            case_id=case.id,
            case_number=case.number,
            text=text,
            text_ref=text_ref,
            author=actor,
            reply_handle=case.reply_handle,
            language=case.language,
        ),
        at=at,
    )


def resolve(
    case: Case,
    *,
    summary: str,
    at: datetime,
    actor: str,
    sla: SlaKeeper,
    text_ref: str | None = None,
) -> None:
    """Resolve the case; notify tells the customer and asks for a rating."""
    case.move("resolved")
    for target in ("first_response", "unit_ack", "resolution"):
        sla.met(case, target, at)
    case.resolution = {"summary": summary, "by": actor, "at": at}
    if text_ref:
        case.resolution["text_ref"] = text_ref
    case.pending_closure = None
    resolved: dict[str, Any] = {"summary": summary}
    if text_ref:
        resolved["text_ref"] = text_ref
    case.record("case.resolved", at=at, actor=actor, detail=resolved)


def rate(
    case: Case,
    *,
    score: int,
    comment: str | None,
    channel: str,
    at: datetime,
    actor: str,
    sla: SlaKeeper,
    supervisor: str | None,
) -> None:
    """Close the case with the customer's rating; a low one reopens it to the supervisor."""
    if case.status != "resolved":
        raise Conflict(f"case {case.number} is {case.status}; only a resolved case takes a rating")
    closure = Closure(acknowledged_at=at, channel=channel, score=score, comment=comment)
    _close(case, closure, at=at, actor=actor, sla=sla, supervisor=supervisor)


def record_on_behalf(
    case: Case,
    *,
    channel: str,
    note: str,
    score: int | None,
    at: datetime,
    actor: str,
) -> None:
    """Record that the customer acknowledged the outcome to an agent; a supervisor must certify."""
    if case.status != "resolved":
        raise Conflict(f"case {case.number} is {case.status}; only a resolved case is acknowledged")
    case.pending_closure = Closure(
        acknowledged_at=at,
        channel=channel,
        score=score,
        comment=note,
        on_behalf=True,
        recorded_by=actor,
    )
    detail = {
        "change": "closure_recorded_on_behalf",
        "channel": channel,
        "score": score,
        "awaiting": "certification by a supervisor",
    }
    case.record("case.updated", at=at, actor=actor, detail=detail)


def certify_closure(
    case: Case, *, at: datetime, actor: str, sla: SlaKeeper, supervisor: str | None
) -> None:
    """Certify an acknowledgement recorded on the customer's behalf and close the case."""
    pending = case.pending_closure
    if case.status != "resolved" or pending is None:
        raise Conflict(f"case {case.number} has no acknowledgement awaiting certification")
    if pending.recorded_by == actor:
        raise Conflict("the person who recorded the acknowledgement cannot also certify it")
    closure = pending.model_copy(update={"certified_by": actor})
    _close(case, closure, at=at, actor=actor, sla=sla, supervisor=supervisor)


def _close(
    case: Case,
    closure: Closure,
    *,
    at: datetime,
    actor: str,
    sla: SlaKeeper,
    supervisor: str | None,
) -> None:
    case.move("closed")
    case.closure, case.pending_closure = closure, None
    case.record(
        "case.closed", at=at, actor=actor, detail={"closure": closure.model_dump(mode="json")}
    )
    if closure.score is not None and closure.score <= LOW_SCORE:
        reopen(
            case,
            at=at,
            reason=f"customer rated {closure.score} of 5; reopened to the supervisor",
            sla=sla,
            actor=actor,
            to_user=supervisor,
            to_role="supervisor",
        )
