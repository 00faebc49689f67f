"""The case family: every change to a case is a ``case.*`` event with a sequence number."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import AwareDatetime, Field

from shared.kinds import OrgId, Urgency
from shared.messages.base import Frozen, Message, register
from shared.messages.contacts import Channel, Consent

CaseStatus = Literal[
    "new",
    "routed",
    "acknowledged",
    "in_progress",
    "pending_customer",
    "resolved",
    "closed",
]
CaseEventType = Literal[
    "case.opened",
    "case.routed",
    "case.contact_added",
    "case.acknowledged",
    "case.updated",
    "case.info_requested",
    "case.transferred",
    "case.resolved",
    "case.reopened",
    "case.closed",
    "case.sla.warning",
    "case.sla.breached",
    "case.escalated",
    # Workspace actions: an internal note, a hand-over, two cases made one, one made two.
    "case.note_added",
    "case.assigned",
    "case.merged",
    "case.split",
]
CASE_EVENT_TYPES: tuple[str, ...] = get_args(CaseEventType)


class CaseSnapshot(Frozen):
    """The case as it stands after the event (no personal data)."""

    id: str
    number: str
    org: OrgId
    status: CaseStatus
    category: str | None = None
    topic: str | None = None
    urgency: Urgency = "normal"
    unit: str | None = None
    channel: Channel
    channels: tuple[Channel, ...] = ()
    consent: Consent = "unknown"
    subject_ref: str | None = None
    reply_handle: str | None = None
    language: Literal["th", "en"] = "th"


@register(*CASE_EVENT_TYPES, version=1)
class CaseEvent(Message):
    """One change to a case; ``detail`` holds what is specific to the event type."""

    type: CaseEventType
    version: Literal[1] = 1
    seq: int = Field(ge=1)
    at: AwareDatetime
    case: CaseSnapshot
    actor: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)

    def routing_key(self) -> str:
        """Publish routed cases under ``case.routed.<unit>`` so units can bind."""
        if self.type == "case.routed" and self.case.unit:
            return f"case.routed.{self.case.unit}"
        return self.type
