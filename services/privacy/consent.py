"""Consent to disclose the customer's identity to handling units, and who may see it.

Consent is recorded per case as granted, withheld or unknown; unknown is
treated as withheld. Every change is kept, with where it came from and who made it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime

from shared.errors import Invalid
from shared.messages.base import Frozen
from shared.messages.contacts import Consent

ConsentSource = Literal[
    "app_form",
    "walk_in_form",
    "line_quick_reply",
    "ivr",
    "email_default",
    "agent",
    "customer",
]
# Roles that handle the customer directly, and the data protection officer.
_SEES_IDENTITY = frozenset({"agent", "supervisor", "dpo"})
_SEES_IDENTITY_WITH_CONSENT = frozenset({"unit_member"})


class ConsentChange(Frozen):
    """One recorded consent decision: when, what, from which channel, by whom."""

    at: AwareDatetime
    state: Consent
    source: ConsentSource
    actor: str


class ConsentRecord(Frozen):
    """A case's consent and the history of how it came to be."""

    case_id: str
    history: tuple[ConsentChange, ...] = ()

    @property
    def state(self) -> Consent:
        """Return the latest decision, or unknown if none was ever recorded."""
        return self.history[-1].state if self.history else "unknown"


def discloses(state: Consent) -> bool:
    """Return True only for granted consent; unknown counts as withheld."""
    return state == "granted"


def change(
    record: ConsentRecord,
    state: Consent,
    *,
    source: ConsentSource,
    actor: str,
    at: datetime,
) -> ConsentRecord:
    """Return ``record`` with ``state`` recorded as its latest decision."""
    if at.tzinfo is None:
        raise Invalid("consent time must be timezone-aware", field="at")
    # The latest entry is the current state, so history must stay in time order.
    if record.history and at < record.history[-1].at:
        raise Invalid("a consent change cannot predate the latest one", field="at")
    entry = ConsentChange(at=at, state=state, source=source, actor=actor)
    return record.model_copy(update={"history": (*record.history, entry)})


def visible_identity(role: str, consent: Consent) -> bool:
    """Return True if ``role`` may see the customer's identity on a case with ``consent``."""
    if role in _SEES_IDENTITY:
        return True
    if role in _SEES_IDENTITY_WITH_CONSENT:
        return discloses(consent)
    # Any other role, including ones added later, sees masked data.
    return False
