"""Versioned message contracts, one module per family; the envelope carries them."""

from shared.messages.base import Envelope, Message, parse_message, register
from shared.messages.cases import CASE_EVENT_TYPES, CaseEvent, CaseSnapshot
from shared.messages.consent import ConsentChanged
from shared.messages.contacts import (
    Attachment,
    Channel,
    Consent,
    Contact,
    ContactReceived,
    ContactScreened,
    Identity,
    Location,
    ScreenedAttachment,
    ThreadKeys,
)
from shared.messages.notifications import CallbackRequested, NotificationFailed
from shared.messages.replies import ReplyRequested

__all__ = [
    "CASE_EVENT_TYPES",
    "Attachment",
    "CallbackRequested",
    "CaseEvent",
    "CaseSnapshot",
    "Channel",
    "Consent",
    "ConsentChanged",
    "Contact",
    "ContactReceived",
    "ContactScreened",
    "Envelope",
    "Identity",
    "Location",
    "Message",
    "NotificationFailed",
    "ReplyRequested",
    "ScreenedAttachment",
    "ThreadKeys",
    "parse_message",
    "register",
]
