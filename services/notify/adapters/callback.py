"""Customers no message can reach: an agent calls them back instead."""

from __future__ import annotations

from services.notify.adapters.base import (
    CallbackAddress,
    DeliveryResult,
    OutboundMessage,
    wrong_address,
)


class CallbackTaskAdapter:
    """Answer every notification with "callback_task" so the caller opens an agent task."""

    async def send(self, notification: OutboundMessage) -> DeliveryResult:
        """Report that an agent has to pass this notification on by phone or in person."""
        if not isinstance(notification.address, CallbackAddress):
            return wrong_address(notification, "callback")
        return DeliveryResult(
            status="callback_task",
            provider_answer="no channel reaches the customer; an agent must call back",
            via="task",
        )
