"""Cases: state, lifecycle rules and the events every change emits. No I/O."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.errors import Conflict
from shared.kinds import OrgId, Urgency
from shared.messages import CaseEvent, CaseSnapshot, ContactScreened, Envelope, Message
from shared.messages.cases import CaseEventType, CaseStatus

# Which status each status may move to; resolved/closed go back to in_progress on reopen.
TRANSITIONS: dict[str, set[str]] = {
    "new": {"routed"},
    "routed": {"acknowledged", "in_progress", "pending_customer", "resolved", "routed"},
    "acknowledged": {"in_progress", "pending_customer", "resolved", "routed"},
    "in_progress": {"pending_customer", "resolved", "routed"},
    "pending_customer": {"in_progress", "resolved", "routed"},
    "resolved": {"closed", "in_progress"},
    "closed": {"in_progress"},
}
OPEN_STATUSES = ("new", "routed", "acknowledged", "in_progress", "pending_customer")
# Assigned but nobody has started on them: handed back when their member goes offline.
UNSTARTED_STATUSES = ("routed", "acknowledged")
CASE_NUMBER = re.compile(r"(?<![A-Za-z0-9])VOC-(\d{4})-(\d{6,})(?!\d)", re.IGNORECASE)


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
    message_id: str | None = None  # an email's Message-ID, so replies find the case


class Classification(BaseModel):
    """What the case is about and how it was decided."""

    category: str | None = None
    topic: str | None = None
    urgency: Urgency = "normal"
    confidence: float | None = None
    confident: bool = False
    source: Literal["hazard_rule", "model", "agent", "none"] = "none"
    hazards: list[str] = Field(default_factory=list)
    model_version: str | None = None


class Closure(BaseModel):
    """How the customer acknowledged the outcome: rated it, or told an agent."""

    acknowledged_at: datetime
    channel: str
    score: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = None
    on_behalf: bool = False
    recorded_by: str | None = None
    certified_by: str | None = None


class Case(BaseModel):
    """A case and its pending outbox; stored as one document."""

    id: str
    number: str
    org: OrgId
    status: CaseStatus = "new"
    category: str | None = None
    topic: str | None = None
    urgency: Urgency = "normal"
    classification: Classification = Field(default_factory=Classification)
    unit: str | None = None
    assignee: str | None = None
    tier: str = "standard"
    area: dict[str, str | None] = Field(default_factory=dict)
    channel: str
    channels: list[str] = Field(default_factory=list)
    consent: Literal["granted", "withheld", "unknown"] = "unknown"
    consent_at: datetime | None = None  # when the consent in force was decided, if changed
    subject_ref: str | None = None
    reply_handle: str | None = None
    language: Literal["th", "en"] = "th"
    contacts: list[CaseContact] = Field(default_factory=list)
    sla: dict[str, Any] = Field(default_factory=dict)
    sla_next_due: datetime | None = None
    sla_history: list[dict[str, Any]] = Field(default_factory=list)
    resolution: dict[str, Any] | None = None
    closure: Closure | None = None
    pending_closure: Closure | None = None
    reopen_count: int = 0
    related_case: str | None = None
    # Every case linked to this one as related, in both directions.
    related_cases: list[str] = Field(default_factory=list)
    # Merging: the case this one was closed into, and the cases closed into this one.
    merged_into: str | None = None
    merged_cases: list[str] = Field(default_factory=list)
    # Splitting: the case this one was split from, and the contact on its way over
    # (held here until the source has let go of it; see
    # services/routing/cases/workspace_commands.py).
    split_from: str | None = None
    moving_contact: CaseContact | None = None
    last_contact_at: datetime
    seq: int = 0
    version: int = 0
    created_at: datetime
    updated_at: datetime
    timeline: list[dict[str, Any]] = Field(default_factory=list)
    outbox: list[dict[str, Any]] = Field(default_factory=list)
    # The role of whoever is changing the case through the API; never stored.
    acting_role: str | None = Field(default=None, exclude=True)
    # The lanes and order keys the lane books last counted for this case (set by the
    # store when it reads or writes the case; see services/routing/cases/lists.py); never stored.
    stored_lanes: dict[str, Any] | None = Field(default=None, exclude=True)

    @property
    def is_open(self) -> bool:
        """Say whether the case is still being worked (not resolved or closed)."""
        return self.status in OPEN_STATUSES

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
        if self.acting_role is not None:
            # The timeline is the case's audit trail: it says in which role someone acted.
            detail = {**(detail or {}), "actor_role": self.acting_role}
        event = CaseEvent(
            type=type_, seq=self.seq, at=at, case=self.snapshot(), actor=actor, detail=detail or {}
        )
        envelope = Envelope.of(event, causation=causation, occurred_at=at)
        entry: dict[str, Any] = {
            "seq": self.seq,
            "type": type_,
            "at": at,
            "actor": actor,
            "detail": detail or {},
        }
        if self.acting_role is not None:
            entry["role"] = self.acting_role
        self.timeline.append(entry)
        self.outbox.append(envelope.model_dump(mode="json"))
        return envelope

    def send(self, message: Message, *, at: datetime, causation: Envelope | None = None) -> None:
        """Queue a message that is not a case event (e.g. a reply) in the same outbox."""
        envelope = Envelope.of(message, causation=causation, occurred_at=at)
        self.outbox.append(envelope.model_dump(mode="json"))

    def move(self, status: CaseStatus) -> None:
        """Change status if the lifecycle allows it; raise ``Conflict`` otherwise."""
        if status not in TRANSITIONS[self.status]:
            raise Conflict(f"a case that is {self.status} cannot become {status}")
        self.status = status

    def relate(self, other_id: str, *, at: datetime, reason: str) -> bool:
        """Link ``other_id`` as a related case; return False if it already was."""
        if other_id == self.id or other_id in self.related_cases:
            return False
        self.related_cases.append(other_id)
        detail = {"change": "related_case", "related_case": other_id, "reason": reason}
        self.record("case.updated", at=at, detail=detail)
        return True

    def link(self, other_id: str) -> None:
        """Record ``other_id`` as related without an event of its own (the caller records one)."""
        if other_id != self.id and other_id not in self.related_cases:
            self.related_cases.append(other_id)

    def has_contact(self, contact_id: str) -> bool:
        """Say whether the contact is already part of the case."""
        return any(c.contact_id == contact_id for c in self.contacts)


def case_number(year: int, serial: int) -> str:
    """Return a case number people can read aloud, e.g. ``VOC-2026-000123``."""
    return f"VOC-{year}-{serial:06d}"


def case_numbers_in(*texts: str | None) -> list[str]:
    """Return every case number written in ``texts``, in the canonical form, first seen first."""
    found: dict[str, None] = {}
    for text in texts:
        for match in CASE_NUMBER.finditer(text or ""):
            found[f"VOC-{match[1]}-{match[2]}"] = None
    return list(found)


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
        message_id=message.thread.message_id,
    )
