"""Notify's message contracts live in ``shared.messages.notifications``; kept for imports."""

from shared.messages.notifications import (
    CallbackRequested,
    DeliveryChannel,
    DeliveryKind,
    NotificationFailed,
)

__all__ = ["CallbackRequested", "DeliveryChannel", "DeliveryKind", "NotificationFailed"]
