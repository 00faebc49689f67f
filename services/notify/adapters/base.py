"""What notify hands a channel adapter, what it gets back, and the adapter port.

Provider failures are answers, not exceptions: an adapter turns every refusal,
timeout or broken connection into a ``DeliveryResult``, retryable when trying
the same notification again later can succeed (timeouts, connection errors,
408, 429, 5xx) and final otherwise (other 4xx). Only programming errors raise.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Protocol

import httpx
from pydantic import AwareDatetime, Field, model_validator

from shared.messages.base import Frozen
from shared.messages.notifications import DeliveryChannel as DeliveryChannel

Language = Literal["th", "en"]
DeliveryStatus = Literal["sent", "failed", "callback_task"]

_ANSWER_LIMIT = 200


class QuickReplyOption(Frozen):
    """One button under a LINE message that posts ``data`` back when tapped."""

    label: str = Field(min_length=1, max_length=20)
    data: str = Field(min_length=1, max_length=300)
    display_text: str | None = Field(default=None, max_length=300)


class LineAddress(Frozen):
    """A LINE user, with the reply token of their last event if we still hold it."""

    channel: Literal["line"] = "line"
    user_id: str = Field(min_length=1)
    reply_token: str | None = None
    reply_token_expires_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _token_has_expiry(self) -> LineAddress:
        if self.reply_token and self.reply_token_expires_at is None:
            raise ValueError("a reply token needs its expiry")
        return self


class EmailAddress(Frozen):
    """A mailbox, with the headers of the customer's mail this one answers."""

    channel: Literal["email"] = "email"
    address: str = Field(min_length=3)
    display_name: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()


class SmsAddress(Frozen):
    """A mobile number as the SMS gateway expects it."""

    channel: Literal["sms"] = "sms"
    phone: str = Field(min_length=3)


class AppAddress(Frozen):
    """A mobile app installation, by its FCM registration token."""

    channel: Literal["app"] = "app"
    device_token: str = Field(min_length=1)


class CallbackAddress(Frozen):
    """A customer only an agent can reach (landline, walk-in without a mobile)."""

    channel: Literal["callback"] = "callback"
    phone: str | None = None


Address = Annotated[
    LineAddress | EmailAddress | SmsAddress | AppAddress | CallbackAddress,
    Field(discriminator="channel"),
]


class OutboundMessage(Frozen):
    """One rendered notification for one customer on one channel."""

    notification_id: str = Field(min_length=1)
    case_number: str
    kind: str
    address: Address
    language: Language = "th"
    subject: str | None = None
    text: str = Field(pattern=r"\S")
    html: str | None = None
    quick_reply: tuple[QuickReplyOption, ...] = Field(default=(), max_length=13)
    survey_url: str | None = None

    @property
    def channel(self) -> DeliveryChannel:
        """Return the channel this notification goes out on."""
        return self.address.channel


def notification_id_for(event_id: str, channel: DeliveryChannel) -> str:
    """Return the id of the notification an event causes on ``channel``."""
    # Derived, never generated: a redelivered event must yield the same id so
    # provider-side idempotency keys (LINE retry key, Message-ID) repeat too.
    return f"{event_id}:{channel}"


class DeliveryResult(Frozen):
    """What a provider answered to one delivery attempt."""

    status: DeliveryStatus
    retryable: bool = False
    provider_status: int | None = None
    provider_answer: str = ""
    provider_message_id: str | None = None
    via: str | None = None
    retry_after: float | None = None

    @property
    def sent(self) -> bool:
        """Return whether the provider accepted the notification."""
        return self.status == "sent"


class ChannelAdapter(Protocol):
    """Deliver one rendered notification on one channel."""

    async def send(self, notification: OutboundMessage) -> DeliveryResult:
        """Send ``notification`` once and report the provider's answer."""
        ...


def short_answer(text: str) -> str:
    """Return ``text`` on one line, cut to a length fit for a delivery log."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= _ANSWER_LIMIT else flat[: _ANSWER_LIMIT - 1] + "…"


def is_transient(status: int) -> bool:
    """Return whether an HTTP status means the same request may succeed later."""
    # 408 is the server's own timeout, so it is transient like a client timeout.
    return status >= 500 or status in (408, 429)


def wrong_address(notification: OutboundMessage, expected: str) -> DeliveryResult:
    """Refuse a notification whose address belongs to another channel."""
    return DeliveryResult(
        status="failed",
        provider_answer=f"{expected} adapter cannot send to a {notification.channel} address",
    )


def result_from_response(
    response: httpx.Response, *, via: str, message_id: str | None = None
) -> DeliveryResult:
    """Turn a provider's HTTP answer into a result: 2xx sent, else failed."""
    status = response.status_code
    if response.is_success:
        return DeliveryResult(
            status="sent",
            provider_status=status,
            provider_answer=short_answer(response.text) or response.reason_phrase,
            provider_message_id=message_id,
            via=via,
        )
    return DeliveryResult(
        status="failed",
        retryable=is_transient(status),
        provider_status=status,
        provider_answer=short_answer(response.text) or response.reason_phrase,
        via=via,
        retry_after=_retry_after(response),
    )


def result_from_transport_error(exc: httpx.HTTPError, *, via: str) -> DeliveryResult:
    """Turn a timeout or broken connection into a retryable failure."""
    return DeliveryResult(
        status="failed",
        retryable=True,
        provider_answer=short_answer(f"{type(exc).__name__}: {exc}"),
        via=via,
    )


async def post_json(
    http: httpx.AsyncClient,
    url: str,
    payload: object,
    *,
    via: str,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> httpx.Response | DeliveryResult:
    """POST ``payload`` as JSON; return the response, or a result if none came."""
    try:
        return await http.post(
            url, json=payload, headers=headers, auth=auth or httpx.USE_CLIENT_DEFAULT
        )
    except httpx.HTTPError as exc:
        return result_from_transport_error(exc, via=via)


def json_field(response: httpx.Response, *path: str | int) -> str | None:
    """Return the string at ``path`` in a JSON response body, if it is there."""
    try:
        node: object = response.json()
    except ValueError:
        return None
    for key in path:
        if isinstance(key, int) and isinstance(node, list) and len(node) > key:
            node = node[key]
        elif isinstance(key, str) and isinstance(node, dict):
            node = node.get(key)
        else:
            return None
    return str(node) if isinstance(node, str | int) else None


def _retry_after(response: httpx.Response) -> float | None:
    # Only the delta-seconds form: providers we talk to do not send HTTP dates.
    value = response.headers.get("retry-after", "")
    return float(value) if value.strip().isdigit() else None
