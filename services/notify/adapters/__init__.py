"""Channel adapters: deliver rendered notifications on LINE, email, SMS, the app or by callback."""

from __future__ import annotations

from services.notify.adapters.base import (
    Address,
    AppAddress,
    CallbackAddress,
    ChannelAdapter,
    DeliveryChannel,
    DeliveryResult,
    EmailAddress,
    LineAddress,
    OutboundMessage,
    QuickReplyOption,
    SmsAddress,
    notification_id_for,
)
from services.notify.adapters.callback import CallbackTaskAdapter
from services.notify.adapters.fcm import FcmAdapter
from services.notify.adapters.line import LineAdapter, retry_key
from services.notify.adapters.mail import EmailAdapter
from services.notify.adapters.sms import SmsAdapter, fit_sms, sms_segments

__all__ = [
    "Address",
    "AppAddress",
    "CallbackAddress",
    "CallbackTaskAdapter",
    "ChannelAdapter",
    "DeliveryChannel",
    "DeliveryResult",
    "EmailAdapter",
    "EmailAddress",
    "FcmAdapter",
    "LineAdapter",
    "LineAddress",
    "OutboundMessage",
    "QuickReplyOption",
    "SmsAdapter",
    "SmsAddress",
    "fit_sms",
    "notification_id_for",
    "retry_key",
    "sms_segments",
]
