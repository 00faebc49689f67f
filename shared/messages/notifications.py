"""What notify tells agents on the bus: a notification failed, or needs a call-back.

Both go to ``console.events`` (bound to ``notification.#``). They carry case
references and delivery facts only: never an address, a phone number or a
name. An agent who must call the customer reveals the number through the
console, which audits the reveal.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from shared.messages.base import Message, register

DeliveryChannel = Literal["line", "email", "sms", "app", "callback"]
DeliveryKind = Literal["acknowledged", "routed", "info_requested", "resolved", "reopened", "reply"]


class _AboutNotification(Message):
    """What every message about a notification says: which one, for which case."""

    notification_id: str
    event_id: str
    case_id: str
    case_number: str
    kind: DeliveryKind


@register("notification.failed", version=1)
class NotificationFailed(_AboutNotification):
    """A customer notification could not be delivered; an agent should reach the customer."""

    type: Literal["notification.failed"] = "notification.failed"
    version: Literal[1] = 1
    channel: DeliveryChannel | None = None
    attempts: int = Field(ge=0)
    provider_status: int | None = None
    # Masked on the way in: a provider's answer can quote the address it refused.
    reason: str
    first_attempt_at: AwareDatetime | None = None
    gave_up_at: AwareDatetime


@register("notification.callback_requested", version=1)
class CallbackRequested(_AboutNotification):
    """No channel reaches the customer: an agent should pass this message on by phone."""

    type: Literal["notification.callback_requested"] = "notification.callback_requested"
    version: Literal[1] = 1
    title: str
    text: str
    requested_at: AwareDatetime
