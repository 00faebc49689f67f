"""Privacy's answers that the console passes on: reveals, consent, subject rights, staff texts.

Privacy declares them as its routes' response models and the console as the
shape of what it forwards, so ``/openapi.json`` of both documents one shape.
Times are ISO 8601 strings as privacy writes them. A reply target is read
from what was sealed with the contact, and one sealed long ago may lack a key:
its route leaves unset fields out (``response_model_exclude_unset``), so a key
is on the wire exactly when privacy put it there.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.messages import Consent

# --- Reveals -------------------------------------------------------------------


class AttachmentRead(BaseModel):
    """An attachment of a contact: masked text, or its clear name and text once revealed."""

    model_config = ConfigDict(extra="allow")

    ref: str
    name: str
    text: str | None = None


class ContactRead(BaseModel):
    """A contact as the caller's role may see it: masked, or revealed with identity."""

    id: str
    channel: str
    received_at: str
    subject_ref: str
    text: str
    subject: str | None = None
    attachments: list[AttachmentRead]
    identity: dict[str, Any] | None = None
    revealed: bool
    erased: bool


class ContactViewRead(ContactRead):
    """One contact as the caller may see it, with the consent that decided it."""

    consent: Consent


class CustomerRead(BaseModel):
    """A customer whose identity a view revealed."""

    subject_ref: str
    identity: dict[str, str | None]


class CaseViewRead(BaseModel):
    """A case's contacts as the caller may see them, under the case's consent."""

    case_id: str
    consent: Consent
    revealed: bool
    customers: list[CustomerRead]
    contacts: list[ContactRead]


class ReplyTargetRead(BaseModel):
    """Where to answer the customer; the channel's ``reply_*`` keys come as they were kept."""

    model_config = ConfigDict(extra="allow")

    subject_ref: str
    channel: str | None = None
    line_user_id: str | None = None
    email: str | None = None
    phone: str | None = None
    app_user_id: str | None = None
    message_id: str | None = None
    references: list[str] | None = None
    conversation: str | None = None
    name: str | None = None


# --- Consent -------------------------------------------------------------------


class ConsentChangeRead(BaseModel):
    """One recorded consent decision: when, what, from where, by whom."""

    at: str
    state: Consent
    source: str
    actor: str


class ConsentRead(BaseModel):
    """A case's consent: the latest decision and the history of how it came to be."""

    state: Consent
    case_id: str
    history: list[ConsentChangeRead]
    customer_ref: str | None = None


# --- Audit -----------------------------------------------------------------------


class AuditEntryRead(BaseModel):
    """One access to personal data, chained to the entry before it."""

    seq: int
    at: str
    actor: str
    role: str
    action: str
    subject_ref: str | None = None
    case_id: str | None = None
    purpose: str | None = None
    reason: str
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    """The latest audit entries that match, oldest first."""

    items: list[AuditEntryRead]


class AuditVerifyRead(BaseModel):
    """The outcome of checking the audit chain: ok, or where and why it first breaks."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


# --- Subject rights --------------------------------------------------------------


class SubjectMatchRead(BaseModel):
    """Which identifier pointed at which customer."""

    kind: str
    subject_ref: str


class LookupRead(BaseModel):
    """The customer the officer's identifiers point at; ``conflict`` if they point at several."""

    subject_ref: str
    conflict: bool
    matches: list[SubjectMatchRead]


class SearchRead(BaseModel):
    """The customers an agent's search found: references only, never identity."""

    subject_refs: list[str]


class ExportedContactRead(BaseModel):
    """A contact in an export: masked text, and the clear data unless it was purged."""

    id: str
    channel: str
    received_at: str
    case_id: str | None = None
    case_number: str | None = None
    consent: Consent
    consent_source: str | None = None
    masked_text: str
    clear: dict[str, Any] | None = None
    purged: bool


class ExportedCaseRead(BaseModel):
    """A case privacy has seen the customer's contacts joined to."""

    case_id: str
    number: str | None = None
    contact_ids: list[str]


class ExportRead(BaseModel):
    """Everything privacy holds about a customer, in clear (an access request's answer)."""

    format: int
    subject_ref: str
    exported_at: str
    erased: bool
    first_seen: str
    last_seen: str
    identity: dict[str, str | None] | None = None
    identifiers_known: list[str]
    contacts: list[ExportedContactRead]
    cases: list[ExportedCaseRead]
    contacts_without_known_case: list[str]
    consents: list[ConsentRead]
    audit: list[AuditEntryRead]


class ErasureRead(BaseModel):
    """What an erasure did: the key is gone, the masked contacts stay."""

    subject_ref: str
    erased: bool
    already_erased: bool
    contacts_kept_masked: int


# --- Staff texts -----------------------------------------------------------------


class StaffTextRead(BaseModel):
    """A staff text vaulted: its reference and its masked copy."""

    text_ref: str
    masked: str


class StaffTextViewRead(BaseModel):
    """One staff text as the caller may see it."""

    text: str
    revealed: bool
    erased: bool


class StaffRevealRead(BaseModel):
    """A case's staff texts by reference, clear where the caller may see them."""

    case_id: str
    texts: dict[str, StaffTextViewRead]
