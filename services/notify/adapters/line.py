"""LINE Messaging API: reply while the webhook's reply token lasts, else push.

A reply token is single-use and short-lived, and the reply endpoint takes no
retry key, so the reply is only tried while the stored expiry says the token
is fresh. A push always carries ``X-Line-Retry-Key`` derived from the
notification id: LINE executes a keyed request once and answers 409 to every
repeat, so a retried or redelivered notification reaches the customer once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from services.notify.adapters.base import (
    DeliveryResult,
    LineAddress,
    OutboundMessage,
    json_field,
    post_json,
    result_from_response,
    wrong_address,
)
from services.notify.adapters.graphemes import split_text
from shared.clock import Clock, SystemClock

MAX_MESSAGES = 5
MAX_TEXT = 5000

# Fixed so a notification keeps its retry key across restarts and replicas.
_RETRY_KEY_NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-5e7f-9a10-b2c3d4e5f601")


def retry_key(notification_id: str) -> str:
    """Return the X-Line-Retry-Key of a notification: the same on every attempt."""
    return str(uuid.uuid5(_RETRY_KEY_NAMESPACE, notification_id))


def line_messages(notification: OutboundMessage) -> list[dict[str, Any]]:
    """Build the LINE message objects: text in chunks, quick reply on the last."""
    messages: list[dict[str, Any]] = [
        {"type": "text", "text": chunk}
        for chunk in split_text(notification.text, MAX_TEXT, MAX_MESSAGES)
    ]
    if notification.quick_reply:
        messages[-1]["quickReply"] = {
            "items": [
                {
                    "type": "action",
                    "action": {
                        "type": "postback",
                        "label": option.label,
                        "data": option.data,
                        **({"displayText": option.display_text} if option.display_text else {}),
                    },
                }
                for option in notification.quick_reply
            ]
        }
    return messages


class LineAdapter:
    """Send notifications to LINE users through the Messaging API."""

    def __init__(
        self,
        base_url: str,
        token: str,
        http: httpx.AsyncClient,
        *,
        clock: Clock | None = None,
        reply_margin: timedelta = timedelta(seconds=2),
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._http = http
        self._clock = clock or SystemClock()
        # Leaves room for the request's own travel time before the token lapses.
        self._reply_margin = reply_margin

    async def send(self, notification: OutboundMessage) -> DeliveryResult:
        """Reply if the token is still fresh, else (or if LINE refuses it) push."""
        address = notification.address
        if not isinstance(address, LineAddress):
            return wrong_address(notification, "LINE")
        messages = line_messages(notification)
        if self._reply_token_fresh(address):
            result = await self._reply(str(address.reply_token), messages)
            # 400 means the token was spent or lapsed early; a push still reaches
            # the user. Anything else (sent, or a transient failure) stands.
            if result.provider_status != httpx.codes.BAD_REQUEST:
                return result
        return await self._push(address.user_id, messages, retry_key(notification.notification_id))

    def _reply_token_fresh(self, address: LineAddress) -> bool:
        expires_at = address.reply_token_expires_at
        if not address.reply_token or expires_at is None:
            return False
        return self._clock.now() + self._reply_margin < expires_at

    async def _reply(self, reply_token: str, messages: list[dict[str, Any]]) -> DeliveryResult:
        answer = await post_json(
            self._http,
            f"{self._base_url}/v2/bot/message/reply",
            {"replyToken": reply_token, "messages": messages},
            via="reply",
            headers=self._headers,
        )
        if isinstance(answer, DeliveryResult):
            return answer
        return result_from_response(answer, via="reply", message_id=_sent_id(answer))

    async def _push(self, user_id: str, messages: list[dict[str, Any]], key: str) -> DeliveryResult:
        answer = await post_json(
            self._http,
            f"{self._base_url}/v2/bot/message/push",
            {"to": user_id, "messages": messages},
            via="push",
            headers={**self._headers, "X-Line-Retry-Key": key},
        )
        if isinstance(answer, DeliveryResult):
            return answer
        if answer.status_code == httpx.codes.CONFLICT:
            # An earlier attempt with this key was accepted: the user has it.
            return DeliveryResult(
                status="sent",
                provider_status=answer.status_code,
                provider_answer="already accepted under this retry key",
                provider_message_id=answer.headers.get("x-line-accepted-request-id"),
                via="push",
            )
        return result_from_response(answer, via="push", message_id=_sent_id(answer))


def _sent_id(response: httpx.Response) -> str | None:
    return json_field(response, "sentMessages", 0, "id") or response.headers.get(
        "x-line-request-id"
    )
