"""Cases: state, lifecycle rules and the events every change emits. No I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.errors import Conflict
from shared.messages import CaseEvent, CaseSnapshot, ContactScreened, Envelope
from shared.messages.cases import CaseEventType, CaseStatus

# Which status each status may move to; "reopen" moves resolved/closed back.
TRANSITIONS: dict[str, set[str]] = {
    "new": {"routed"},
    "routed": {"acknowledged", "in_progress", "pending_customer", "resolved", "routed"},
    "acknowledged": {"in_progress", "pending_customer", "resolved", "routed"},
    "in_progress": {"pending_customer", "resolved", "routed"},
    "pending_customer": {"in_progress", "resolved", "routed"},
    "resolved": {"closed", "in_progress"},
    "closed": {"in_progress"},
}


class CaseContact(BaseModel):
    """A contact as the case keeps it: masked text, no identity."""

    contact_id: str
    channel: str
    received_at: datetime
    text: str
    subject: str | None = None
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    location: dict[str, Any] | None = None
    flags: list[str] = Field(default_factory=list)


class Case(BaseModel):
    """A case and its pending outbox; stored as one document."""

    id: str
    number: str
    org: Literal["pea", "or"]
    status: CaseStatus = "new"
    category: str | None = None
    topic: str | None = None
    urgency: Literal["low", "normal", "high", "urgent"] = "normal"
    unit: str | None = None
    channel: str
    channels: list[str] = Field(default_factory=list)
    consent: Literal["granted", "withheld", "unknown"] = "unknown"
    subject_ref: str | None = None
    reply_handle: str | None = None
    language: Literal["th", "en"] = "th"
    contacts: list[CaseContact] = Field(default_factory=list)
    sla: dict[str, Any] = Field(default_factory=dict)
    seq: int = 0
    version: int = 0
    created_at: datetime
    updated_at: datetime
    timeline: list[dict[str, Any]] = Field(default_factory=list)
    outbox: list[dict[str, Any]] = Field(default_factory=list)

    def snapshot(self) -> CaseSnapshot:
        """Return the event-safe view of the case."""
        return CaseSnapshot.model_validate(
            {
                "id": self.id,
                "number": self.number,
                "org": self.org,
                "status": self.status,
                "category": self.category,
                "topic": self.topic,
                "urgency": self.urgency,
                "unit": self.unit,
                "channel": self.channel,
                "channels": tuple(self.channels),
                "consent": self.consent,
                "subject_ref": self.subject_ref,
                "reply_handle": self.reply_handle,
                "language": self.language,
            }
        )

    def record(
        self,
        type_: CaseEventType,
        *,
        at: datetime,
        actor: str | None = None,
        detail: dict[str, Any] | None = None,
        causation: Envelope | None = None,
    ) -> Envelope:
        """Append a case event to the timeline and the outbox; return its envelope."""
        self.seq += 1
        self.updated_at = at
        event = CaseEvent(
            type=type_, seq=self.seq, at=at, case=self.snapshot(), actor=actor, detail=detail or {}
        )
        envelope = Envelope.of(event, causation=causation, occurred_at=at)
        self.timeline.append(
            {"seq": self.seq, "type": type_, "at": at, "actor": actor, "detail": detail or {}}
        )
        self.outbox.append(envelope.model_dump(mode="json"))
        return envelope

    def move(self, status: CaseStatus) -> None:
        """Change status if the lifecycle allows it; raise ``Conflict`` otherwise."""
        if status not in TRANSITIONS[self.status]:
            raise Conflict(f"a case that is {self.status} cannot become {status}")
        self.status = status


def case_number(year: int, serial: int) -> str:
    """Return a case number people can read aloud, e.g. ``VOC-2026-000123``."""
    return f"VOC-{year}-{serial:06d}"


def contact_from(message: ContactScreened) -> CaseContact:
    """Return the case's copy of a screened contact."""
    return CaseContact(
        contact_id=message.contact_id,
        channel=message.channel,
        received_at=message.received_at,
        text=message.text,
        subject=message.subject,
        attachments=[a.model_dump(mode="json") for a in message.attachments],
        location=message.location.model_dump() if message.location else None,
        flags=list(message.flags),
    )


def open_case(
    message: ContactScreened, *, case_id: str, number: str, at: datetime, causation: Envelope
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
        created_at=at,
        updated_at=at,
    )
    case.record(
        "case.opened", at=at, causation=causation, detail={"contact_id": message.contact_id}
    )
    return case


def route(case: Case, *, unit: str, at: datetime, reason: str, causation: Envelope | None) -> None:
    """Assign the case to ``unit`` and record ``case.routed``."""
    case.move("routed")
    case.unit = unit
    case.record("case.routed", at=at, causation=causation, detail={"unit": unit, "reason": reason})
