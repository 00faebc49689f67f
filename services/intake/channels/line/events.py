"""Verify and parse LINE Messaging API webhook bodies into flat, frozen events.

The JSON is parsed here rather than with ``linebot.v3.WebhookParser``: that
parser wants the body as text and checks the signature again, and it turns any
event it cannot fully validate (a new event type, but also a known event with a
new message type) into an ``UnknownEvent`` that drops the sender's ids. Intake
must never lose an event, so unrecognised types come back as ``type="unknown"``
with the raw dict kept for the archive. The tests check that this module agrees
with the SDK's parser on every sample body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args
from urllib.parse import parse_qsl

from pydantic import AwareDatetime, Field, ValidationError
from pydantic_core import from_json

from shared.errors import ConfigError, Invalid, Unauthorized
from shared.instants import plausible
from shared.messages.base import Frozen

EventType = Literal[
    "message",
    "follow",
    "unfollow",
    "postback",
    "unsend",
    "join",
    "leave",
    "memberJoined",
    "memberLeft",
    "beacon",
    "accountLink",
    "things",
    "unknown",
]
MessageType = Literal["text", "image", "video", "audio", "file", "location", "sticker"]
SourceType = Literal["user", "group", "room"]

_EVENT_TYPES = frozenset(get_args(EventType)) - {"unknown"}
_MESSAGE_TYPES = frozenset(get_args(MessageType))
_SOURCE_TYPES = frozenset(get_args(SourceType))

# LINE does not promise a fixed lifetime for reply tokens and has shortened it
# before; one minute after the event is a conservative bound. Past it, reply
# by push message instead.
REPLY_TOKEN_LIFETIME = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ContentProvider(Frozen):
    """Where the binary of an image, video or audio message lives."""

    type: Literal["line", "external"]
    original_content_url: str | None = None
    preview_image_url: str | None = None


class LineLocation(Frozen):
    """A location the user shared."""

    # Out of range (or NaN), the event is archived as not understood: the
    # contact's Location refuses such coordinates.
    lat: float = Field(ge=-90, le=90)
    long: float = Field(ge=-180, le=180)
    address: str | None = None
    title: str | None = None


class Sticker(Frozen):
    """A sticker the user sent."""

    package_id: str
    sticker_id: str


class LineEvent(Frozen):
    """One webhook event, flattened to what intake needs."""

    webhook_event_id: str
    is_redelivery: bool = False
    type: EventType
    destination: str | None = None
    message_type: MessageType | None = None
    message_id: str | None = None
    text: str | None = None
    content_provider: ContentProvider | None = None
    file_name: str | None = None
    location: LineLocation | None = None
    sticker: Sticker | None = None
    postback_data: str | None = None
    postback: dict[str, str] | None = None
    source_type: SourceType | None = None
    user_id: str | None = None
    group_id: str | None = None
    room_id: str | None = None
    reply_token: str | None = None
    timestamp: AwareDatetime
    mode: str | None = None
    raw: dict[str, Any] | None = None  # kept only when part of the event is not understood

    @property
    def conversation(self) -> str | None:
        """Return the chat this event belongs to: group, room, else the user."""
        return self.group_id or self.room_id or self.user_id


def verify_signature(body: bytes, signature: str | None, secret: str) -> None:
    """Raise Unauthorized unless ``signature`` is the base64 HMAC-SHA256 of ``body``."""
    if not secret:
        raise ConfigError("LINE channel secret is not configured")
    if not signature:
        raise Unauthorized("missing x-line-signature header")
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(digest), signature.encode("utf-8")):
        raise Unauthorized("x-line-signature does not match the body")


def parse_webhook(body: bytes) -> list[LineEvent]:
    """Parse a verified webhook body into its events, in delivery order."""
    try:
        # Strict JSON: Python's json lets invalid UTF-8 and unpaired surrogates
        # through, and neither the bus nor the store can encode them.
        payload = from_json(body)
    except ValueError as exc:
        raise Invalid(f"LINE webhook body is not JSON: {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise Invalid("LINE webhook body has no events list", field="events")
    destination = payload.get("destination")
    if destination is not None and not isinstance(destination, str):
        # The bot's own id, and the key of its rate limit: LINE always sends a string.
        raise Invalid("LINE webhook destination is not a string", field="destination")
    return [_parse_event(raw, index, destination) for index, raw in enumerate(payload["events"])]


def reply_token_expiry(timestamp: datetime) -> datetime:
    """Return when a reply token of an event sent at ``timestamp`` stops being usable."""
    # A redelivered event keeps its original timestamp, so its token is usually
    # already past this point (or spent) and the reply must go by push.
    return timestamp + REPLY_TOKEN_LIFETIME


def dedupe_key(event: LineEvent) -> str:
    """Return the key that makes a redelivered event a duplicate."""
    return event.webhook_event_id


def _parse_event(raw: Any, index: int, destination: str | None) -> LineEvent:
    where = f"events[{index}]"
    if not isinstance(raw, dict):
        raise Invalid("LINE event is not an object", field=where)
    event_id = raw.get("webhookEventId")
    millis = raw.get("timestamp")
    if not isinstance(event_id, str) or not event_id:
        raise Invalid("LINE event has no webhookEventId", field=f"{where}.webhookEventId")
    if not isinstance(millis, int) or isinstance(millis, bool):
        raise Invalid("LINE event timestamp is not epoch milliseconds", field=f"{where}.timestamp")
    try:
        sent_at = plausible(_EPOCH + timedelta(milliseconds=millis))
    except (OverflowError, ValueError) as exc:  # past year 9999, or outside 2000 to 2100
        raise Invalid(
            f"LINE event timestamp is out of range: {exc}", field=f"{where}.timestamp"
        ) from exc

    kind = _string(raw.get("type"))
    source = _object(raw.get("source"))
    source_type = _string(source.get("type"))
    common: dict[str, Any] = {
        "webhook_event_id": event_id,
        "is_redelivery": _object(raw.get("deliveryContext")).get("isRedelivery") is True,
        "type": kind if kind in _EVENT_TYPES else "unknown",
        "destination": destination,
        "source_type": source_type if source_type in _SOURCE_TYPES else None,
        "user_id": source.get("userId"),
        "group_id": source.get("groupId"),
        "room_id": source.get("roomId"),
        "reply_token": raw.get("replyToken"),
        "timestamp": sent_at,
        "mode": raw.get("mode"),
    }
    content: dict[str, Any] = {}
    understood = kind in _EVENT_TYPES and source_type in _SOURCE_TYPES | {None}
    if kind == "message":
        understood = _read_message(_object(raw.get("message")), content) and understood
    elif kind == "postback":
        data = _object(raw.get("postback")).get("data")
        content["postback_data"] = data
        content["postback"] = _querystring(data) if isinstance(data, str) else None
    elif kind == "unsend":
        content["message_id"] = _object(raw.get("unsend")).get("messageId")
    try:
        return LineEvent(**common, **content, raw=None if understood else raw)
    except ValidationError:
        pass  # a known type in a shape we did not expect is archived, not rejected
    try:
        return LineEvent(**common | {"type": "unknown", "raw": raw})
    except ValidationError as exc:
        raise Invalid(f"LINE event is malformed: {exc}", field=where) from exc


def _read_message(message: dict[str, Any], fields: dict[str, Any]) -> bool:
    """Copy the message content into ``fields``; return False if its type is new."""
    kind = _string(message.get("type"))
    fields["message_id"] = message.get("id")
    if kind not in _MESSAGE_TYPES:
        return False
    fields["message_type"] = kind
    if kind == "text" and isinstance(message.get("text"), str):
        # Thai text is kept in NFC everywhere downstream; never NFKC (it splits ำ).
        fields["text"] = unicodedata.normalize("NFC", message["text"])
    elif kind in {"image", "video", "audio"} and "contentProvider" in message:
        provider = _object(message["contentProvider"])
        fields["content_provider"] = {
            "type": provider.get("type"),
            "original_content_url": provider.get("originalContentUrl"),
            "preview_image_url": provider.get("previewImageUrl"),
        }
    elif kind == "file":
        fields["file_name"] = message.get("fileName")
    elif kind == "location":
        fields["location"] = {
            "lat": message.get("latitude"),
            "long": message.get("longitude"),
            "address": message.get("address"),
            "title": message.get("title"),
        }
    elif kind == "sticker":
        fields["sticker"] = {
            "package_id": message.get("packageId"),
            "sticker_id": message.get("stickerId"),
        }
    return True


def _querystring(data: str) -> dict[str, str] | None:
    """Return postback data as a dict when it is a querystring, else None."""
    if "=" not in data:
        return None
    try:
        return dict(parse_qsl(data, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _string(value: Any) -> str | None:
    # A type that is not a string (a list, an object) is a type nobody knows.
    return value if isinstance(value, str) else None
