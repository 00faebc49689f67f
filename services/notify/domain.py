"""Notify's rules: which event tells the customer what, and where a message reaches them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import phonenumbers
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.notify.adapters.base import (
    Address,
    AppAddress,
    CallbackAddress,
    DeliveryChannel,
    EmailAddress,
    LineAddress,
    SmsAddress,
)
from services.notify.messages import DeliveryKind
from shared.messages import CaseEvent, Envelope, ReplyRequested
from shared.messages.base import Frozen

# Which case events tell the customer something, and what.
EVENT_KINDS: dict[str, DeliveryKind] = {
    "case.opened": "acknowledged",
    "case.routed": "routed",
    "case.transferred": "routed",
    "case.info_requested": "info_requested",
    "case.resolved": "resolved",
    "case.reopened": "reopened",
}
# What each kind takes from the event's detail into its template, with the
# value used when the event lacks it (the template must still render).
_DETAIL_FIELDS: dict[str, dict[str, str]] = {
    "info_requested": {"question": "question"},
    "resolved": {"summary": "summary"},
}
# Units whose kind means "not yet with whoever handles it": a customer told
# "your case went to triage" learns nothing, so that move stays silent.
SILENT_UNIT_KINDS = frozenset({"triage"})


class Intent(Frozen):
    """A notification an event calls for, as recorded before anything is sent."""

    event_id: str
    correlation_id: str
    occurred_at: AwareDatetime
    kind: DeliveryKind
    case_id: str
    case_number: str
    case_channel: str | None = None
    org: str | None = None
    unit: str | None = None
    subject_ref: str | None = None
    reply_handle: str | None = None
    language: Literal["th", "en"] = "th"
    context: dict[str, str] = Field(default_factory=dict)
    # Context fields whose value is masked staff text, with the reference of
    # the clear text in privacy's vault: fetched at send time, never stored here.
    text_refs: dict[str, str] = Field(default_factory=dict)


def intent_for(envelope: Envelope) -> Intent | None:
    """Return the notification ``envelope`` calls for, or None if it tells the customer nothing."""
    message = envelope.message()
    base = {
        "event_id": envelope.id,
        "correlation_id": envelope.correlation_id,
        "occurred_at": envelope.occurred_at,
    }
    if isinstance(message, ReplyRequested):
        return Intent(
            **base,
            kind="reply",
            case_id=message.case_id,
            case_number=message.case_number,
            reply_handle=message.reply_handle,
            language=message.language,
            context={"reply_text": message.text},
            text_refs={"reply_text": message.text_ref} if message.text_ref else {},
        )
    if not isinstance(message, CaseEvent):
        return None
    kind = EVENT_KINDS.get(message.type)
    if kind is None:
        return None
    case = message.case
    context = {
        name: str(message.detail.get(key) or "")
        for name, key in _DETAIL_FIELDS.get(kind, {}).items()
    }
    ref = message.detail.get("text_ref")
    text_refs = {name: str(ref) for name in context} if ref else {}
    return Intent(
        **base,
        kind=kind,
        text_refs=text_refs,
        case_id=case.id,
        case_number=case.number,
        case_channel=case.channel,
        org=case.org,
        unit=case.unit,
        subject_ref=case.subject_ref,
        reply_handle=case.reply_handle,
        language=case.language,
        context=context,
    )


def reachability_change(envelope: Envelope) -> tuple[str, bool] | None:
    """Return (subject_ref, reachable on LINE) when a case event says the customer (un)followed."""
    message = envelope.message()
    if not isinstance(message, CaseEvent) or not message.case.subject_ref:
        return None
    flags = message.detail.get("flags") or ()
    if "unfollow" in flags:
        return message.case.subject_ref, False
    if "follow" in flags:
        return message.case.subject_ref, True
    return None


class ReplyTarget(BaseModel):
    """Where privacy says the customer can be reached (personal data: never log or publish)."""

    # Privacy may add fields; notify reads what it knows and ignores the rest.
    model_config = ConfigDict(extra="ignore")

    subject_ref: str | None = None
    channel: str
    name: str | None = None
    line_user_id: str | None = None
    email: str | None = None
    phone: str | None = None
    app_user_id: str | None = None
    message_id: str | None = None
    references: list[str] = Field(default_factory=list)
    conversation: str | None = None
    reply_token: str | None = None
    reply_token_expires_at: AwareDatetime | None = None
    # An FCM registration token, when the app sends one with its contact.
    reply_device_token: str | None = None

    def personal_values(self) -> list[str]:
        """Return every identifying value, for scrubbing provider answers."""
        values = [self.name, self.line_user_id, self.email, self.phone, self.app_user_id]
        return [v for v in values if v]


def mobile_number(phone: str | None) -> str | None:
    """Return ``phone`` in E.164 if it is a mobile number (Thai unless it says otherwise)."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, "TH")
    except phonenumbers.NumberParseException:
        return None
    kind = phonenumbers.number_type(number)
    mobile = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if not phonenumbers.is_valid_number(number) or kind not in mobile:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def candidate_addresses(target: ReplyTarget, *, reply_token_usable: bool) -> list[Address]:
    """Return where to try, best first: the customer's own channel, SMS, email, an agent's call."""
    found: list[Address] = []
    channel = target.channel
    if channel == "line" and target.line_user_id:
        fresh = reply_token_usable and target.reply_token and target.reply_token_expires_at
        found.append(
            LineAddress(
                user_id=target.line_user_id,
                reply_token=target.reply_token if fresh else None,
                reply_token_expires_at=target.reply_token_expires_at if fresh else None,
            )
        )
    if channel == "email" and target.email:
        found.append(_mailbox(target, threaded=True))
    if channel == "app" and target.reply_device_token:
        found.append(AppAddress(device_token=target.reply_device_token))
    mobile = mobile_number(target.phone)
    if mobile:
        found.append(SmsAddress(phone=mobile))
    if target.email and channel != "email":
        found.append(_mailbox(target, threaded=False))
    # The number stays in the vault: the agent reveals it in the console, audited.
    found.append(CallbackAddress())
    return found


def _mailbox(target: ReplyTarget, *, threaded: bool) -> EmailAddress:
    assert target.email is not None
    return EmailAddress(
        address=target.email,
        display_name=target.name,
        in_reply_to=target.message_id if threaded else None,
        references=tuple(target.references) if threaded else (),
    )


def template_context(
    intent: Intent,
    channel: DeliveryChannel,
    *,
    org: dict[str, Any],
    customer_name: str | None,
    survey_url: str | None,
) -> dict[str, Any]:
    """Return what the templates of ``intent`` get on ``channel``."""
    values: dict[str, Any] = {
        "case_number": intent.case_number,
        "org_name": org.get("name"),
        "hotline": org.get("hotline"),
        **intent.context,
    }
    if intent.kind == "routed":
        values["unit_name"] = org.get("unit_name") or intent.unit or ""
    if channel == "email":
        # Only a mail to the customer's own mailbox greets them by name; text
        # for LINE, SMS, the app and agents' tasks never carries it.
        values["customer_name"] = customer_name
    if survey_url is not None:
        values["survey_url"] = survey_url
    return values


def scrub(text: str, personal: list[str]) -> str:
    """Return ``text`` with every known personal value replaced by a mask."""
    for value in sorted(personal, key=len, reverse=True):
        text = text.replace(value, "[masked]")
    return text


def retry_at(
    now: datetime, wait_s: float, *, deadline: datetime, retry_after: float | None
) -> datetime | None:
    """Return when to try again, or None when that would pass the deadline."""
    if retry_after is not None:
        wait_s = max(wait_s, retry_after)  # the provider asked for at least this
    when = now + timedelta(seconds=wait_s)
    return when if when <= deadline else None
