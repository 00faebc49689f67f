"""Consent to disclose the customer's identity to handling units, and who may see it.

Consent is recorded per case as granted, withheld or unknown; unknown is
treated as withheld. Every change is kept, with where it came from and who made it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime

from shared.errors import Invalid
from shared.messages.base import Frozen
from shared.messages.contacts import Consent, Contact, MetaValue

ConsentSource = Literal[
    "app_form",
    "walk_in_form",
    "line_quick_reply",
    "ivr",
    "email_default",
    "agent",
    "customer",
]
# The meta key a channel sets when the customer answered the consent question
# (a LINE quick reply, an IVR menu choice): "granted" or "withheld".
CONSENT_CHOICE_META = "consent_choice"
# A LINE quick-reply button posts back "action=consent&choice=granted", which
# intake passes on as postback_action and postback_choice.
_POSTBACK_ACTION, _POSTBACK_CHOICE = "postback_action", "postback_choice"
_CHOICE_SOURCES: dict[str, ConsentSource] = {"line": "line_quick_reply", "phone": "ivr"}
_FORM_SOURCES: dict[str, ConsentSource] = {"app": "app_form", "walk_in": "walk_in_form"}
# Who may record a decision, and as coming from where: staff record their own
# decision or what the customer told them; the system relays the customer's own choices.
_RECORDS: dict[str, frozenset[ConsentSource]] = {
    "agent": frozenset({"agent", "customer"}),
    "supervisor": frozenset({"agent", "customer"}),
    "system": frozenset({"customer", "line_quick_reply", "ivr", "app_form", "walk_in_form"}),
}
# Channel captures that are the customer's own verified act: an answer to the
# consent question from their signed LINE account, the authenticated app's form.
# A walk-in form (typed by whoever stands at the counter), an email's default
# or an IVR key press on a later contact says nothing about an existing case.
VERIFIED_SOURCES: frozenset[ConsentSource] = frozenset({"line_quick_reply", "app_form"})
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
    customer_ref: str | None = None  # the case's own customer, whose consent this is

    @property
    def state(self) -> Consent:
        """Return the latest decision, or unknown if none was ever recorded."""
        return self.history[-1].state if self.history else "unknown"


def choice_in(meta: Mapping[str, MetaValue]) -> Consent | None:
    """Return the consent choice a channel put in ``meta``, or None if there is none."""
    choice = meta.get(CONSENT_CHOICE_META)
    if choice is None and meta.get(_POSTBACK_ACTION) == "consent":
        choice = meta.get(_POSTBACK_CHOICE)
    if choice == "granted":
        return "granted"
    if choice == "withheld":
        return "withheld"
    return None


def captured(contact: Contact) -> tuple[Consent, ConsentSource | None]:
    """Return the consent the contact's channel captured and its source (None: never asked)."""
    choice = choice_in(contact.meta)
    if choice is not None:
        return choice, _CHOICE_SOURCES.get(contact.channel, "customer")
    form = _FORM_SOURCES.get(contact.channel)
    if form is not None:
        return contact.consent, form
    if contact.channel == "email":
        return "unknown", "email_default"
    # LINE, phone and fax carry a decision only when the customer made one.
    return contact.consent, ("customer" if contact.consent != "unknown" else None)


def case_captures(
    contacts: Sequence[Mapping[str, Any]], *, customer: str | None, opener: str | None
) -> list[ConsentChange]:
    """Return the channel captures that count towards a case's consent.

    The contact that opened the case says what its channel captured; any later
    one counts only if it is the case's own customer's verified act
    (``VERIFIED_SOURCES``). Contacts of anyone else never count.
    """
    changes = []
    for doc in contacts:
        source = doc.get("consent_source")
        if not source or doc.get("subject_ref") != customer:
            continue
        if doc["_id"] != opener and source not in VERIFIED_SOURCES:
            continue
        at, state = doc["received_at"], doc["consent"]
        changes.append(ConsentChange(at=at, state=state, source=source, actor="customer"))
    return changes


def may_record(role: str, source: ConsentSource) -> bool:
    """Return True if ``role`` may record a consent decision coming from ``source``."""
    return source in _RECORDS.get(role, frozenset())


def merged(record: ConsentRecord, changes: Iterable[ConsentChange]) -> ConsentRecord:
    """Return ``record`` with ``changes`` (channel captures learned late) placed in time order."""
    known = set(record.history)
    fresh = [c for c in changes if c not in known]
    if not fresh:
        return record
    # Stable sort: at equal times what was recorded first stays first.
    history = tuple(sorted((*record.history, *fresh), key=lambda c: c.at))
    return record.model_copy(update={"history": history})


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
