"""SMS through a generic HTTP gateway, with Thai-aware length handling.

Any character outside the GSM 03.38 alphabet (every Thai letter) switches the
whole message to UCS-2: 70 UTF-16 units in a single SMS, 67 per part once
concatenated, against 160/153 septets in GSM. Over the configured number of
parts the text is shortened at a character-cluster boundary, keeping the
survey link whole because it is the part the customer needs.
"""

from __future__ import annotations

import httpx

from services.notify.adapters.base import (
    DeliveryResult,
    OutboundMessage,
    SmsAddress,
    json_field,
    post_json,
    result_from_response,
    wrong_address,
)
from services.notify.adapters.graphemes import longest_prefix

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("^{}\\[~]|€\f")  # sent as escape + char: two septets

_GSM_SINGLE, _GSM_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67


def _is_gsm(text: str) -> bool:
    return all(char in _GSM_BASIC or char in _GSM_EXTENSION for char in text)


def _units(text: str) -> tuple[list[int], int, int]:
    """Return each character's cost and the single/part capacity of its encoding."""
    if _is_gsm(text):
        return [2 if char in _GSM_EXTENSION else 1 for char in text], _GSM_SINGLE, _GSM_PART
    return [2 if ord(char) > 0xFFFF else 1 for char in text], _UCS2_SINGLE, _UCS2_PART


def sms_segments(text: str) -> int:
    """Return how many SMS parts ``text`` takes (an empty text still takes one)."""
    costs, single, part = _units(text)
    if sum(costs) <= single:
        return 1
    # Parts are filled greedily and a two-unit character (escape sequence or
    # surrogate pair) is never split across parts, as handsets reassemble them.
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def fit_sms(text: str, max_segments: int, *, keep: str | None = None) -> str:
    """Shorten ``text`` to ``max_segments`` parts, keeping ``keep`` (a link) whole."""
    if sms_segments(text) <= max_segments:
        return text
    head, tail = text, ""
    if keep and keep in text:
        cut = text.rindex(keep)
        head, tail = text[:cut], text[cut:]
    # "…" is not in the GSM alphabet: it alone would turn a Latin text into UCS-2.
    ellipsis = "..." if _is_gsm(text) else "…"

    def compose(prefix: str) -> str:
        return prefix.rstrip() + ellipsis + (" " + tail.lstrip() if tail else "")

    if sms_segments(compose("")) > max_segments:
        # The link alone exceeds the budget: shorten the whole text instead.
        head, tail = text, ""
    kept = longest_prefix(head, lambda prefix: sms_segments(compose(prefix)) <= max_segments)
    return compose(kept)


class SmsAdapter:
    """Send notifications as SMS through an HTTP gateway taking JSON {from, to, text}."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        sender: str,
        http: httpx.AsyncClient,
        *,
        max_segments: int = 3,
    ) -> None:
        self._url = url
        self._auth = (username, password)
        self._sender = sender
        self._http = http
        self._max_segments = max_segments

    async def send(self, notification: OutboundMessage) -> DeliveryResult:
        """Post the (possibly shortened) text to the gateway."""
        address = notification.address
        if not isinstance(address, SmsAddress):
            return wrong_address(notification, "SMS")
        text = fit_sms(notification.text, self._max_segments, keep=notification.survey_url)
        answer = await post_json(
            self._http,
            self._url,
            {"from": self._sender, "to": address.phone, "text": text},
            via="sms",
            # Gateways that honour an idempotency key drop a retried duplicate.
            headers={"Idempotency-Key": notification.notification_id},
            auth=self._auth,
        )
        if isinstance(answer, DeliveryResult):
            return answer
        message_id = json_field(answer, "id") or json_field(answer, "message_id")
        return result_from_response(answer, via="sms", message_id=message_id)
