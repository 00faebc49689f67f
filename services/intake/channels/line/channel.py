"""The LINE channel: ``POST /v1/line/webhook``.

The signature is checked on the raw bytes before anything is parsed. Every
event becomes one contact, published in delivery order (so an image follows
the text it illustrates), and the request is answered 200 only once every
event's contact is confirmed on the bus. LINE gives a webhook about two
seconds, so nothing slow happens here: media content is fetched afterwards by
``media.MediaFetcher``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from services.intake.accept import Acceptance, accept_all
from services.intake.channels import parts_reader
from services.intake.channels.line.events import (
    LineEvent,
    parse_webhook,
    reply_token_expiry,
    verify_signature,
)
from services.intake.channels.line.media import MediaFetcher, expect_media, valid_message_id
from services.intake.limits import ChannelLimits, channel_limits, read_body
from services.intake.openapi import body, refusals
from services.intake.store import sha256_hex
from shared.ids import new_id
from shared.instants import EARLIEST, LATEST, not_ahead
from shared.kinds import OrgId
from shared.messages import Contact, Identity, Location, ThreadKeys
from shared.messages.contacts import MetaValue
from shared.runtime import Runtime

log = logging.getLogger(__name__)

# A webhook carries a few hundred bytes to a few KB per event; a megabyte
# leaves room for large batches and refuses anything else early.
MAX_BODY_BYTES = 1024 * 1024

# Declared for the API description; ``verify_signature`` does the check itself.
LINE_SIGNATURE = APIKeyHeader(
    name="x-line-signature",
    auto_error=False,
    scheme_name="lineSignature",
    description="base64 HMAC-SHA256 of the raw body with the channel secret",
)
# The webhook body as far as intake refuses it; the rest of an event is read
# as LINE documents it, and an event (or part) not understood is archived.
WEBHOOK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["events"],
    "properties": {
        "destination": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "the bot's user id",
        },
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["webhookEventId", "timestamp"],
                "properties": {
                    "webhookEventId": {"type": "string", "minLength": 1},
                    "timestamp": {
                        "type": "integer",
                        "description": "epoch milliseconds, 2000 to 2100",
                        "minimum": int(EARLIEST.timestamp() * 1000),
                        "exclusiveMaximum": int(LATEST.timestamp() * 1000),
                    },
                },
            },
        },
    },
}

MEDIA_TYPES = frozenset({"image", "video", "audio", "file"})
# The media status of a contact whose message id is not a LINE message id.
MEDIA_INVALID_ID = "invalid_message_id"
_MESSAGE_FLAGS = {"sticker": "sticker", "location": "location"} | dict.fromkeys(
    MEDIA_TYPES, "media"
)
# Events that are not messages; none of them is a complaint by itself.
_EVENT_FLAGS = {
    "follow": "follow",
    "unfollow": "unfollow",
    "postback": "postback",
    "unsend": "unsend",
    "join": "join",
    "leave": "leave",
    "memberJoined": "member_joined",
    "memberLeft": "member_left",
    "beacon": "beacon",
    "accountLink": "account_link",
    "things": "things",
}
_MAX_POSTBACK_FIELDS = 10


def conversation_of(event: LineEvent, *, key: bytes) -> str | None:
    """Return the thread key: the group or room id, else an opaque key of the user's chat."""
    if event.group_id or event.room_id:
        return event.group_id or event.room_id
    if event.user_id is None:
        return None
    # Thread keys travel past privacy in clear, and a LINE user id is personal
    # data, so a one-to-one chat is keyed by a keyed hash of bot and user.
    message = f"{event.destination}\x00{event.user_id}".encode()
    return "line-user-" + hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def flags_of(event: LineEvent) -> tuple[str, ...]:
    """Return what routing must know about an event that may not be a complaint."""
    flags: list[str] = []
    if event.type == "message":
        if event.message_type is None:
            flags.append("unknown_event")  # a message type LINE added after this code
        elif event.message_type in _MESSAGE_FLAGS:
            flags.append(_MESSAGE_FLAGS[event.message_type])
    else:
        flags.append(_EVENT_FLAGS.get(event.type, "unknown_event"))
    if event.raw is not None and "unknown_event" not in flags:
        flags.append("unknown_event")  # part of the event was not understood
    if event.source_type in {"group", "room"}:
        flags.append("group")
    return tuple(flags)


def meta_of(event: LineEvent) -> dict[str, MetaValue]:
    """Return the event's channel metadata; no personal identifier goes here."""
    kind: str = event.type
    if kind == "unknown" and event.raw is not None:
        kind = str(event.raw.get("type"))[:64]
    meta: dict[str, MetaValue] = {
        "line_event_type": kind,
        "line_message_type": event.message_type,
        # Only an id of LINE's shape: anything else is the sender's text, not an id.
        "line_message_id": event.message_id if valid_message_id(event.message_id) else None,
        "line_source_type": event.source_type,
        "line_mode": event.mode,
        "line_destination": event.destination,
        "line_sent_at": event.timestamp.isoformat(),
        "webhook_event_id": event.webhook_event_id,
        "redelivered": event.is_redelivery,
    }
    if event.message_type in MEDIA_TYPES:
        meta |= _media_meta(event)
    if event.sticker is not None:
        meta |= {
            "sticker_package_id": event.sticker.package_id,
            "sticker_id": event.sticker.sticker_id,
        }
    if event.type == "postback":
        meta |= _postback_meta(event)
    if event.reply_token:
        # reply_* keys are vaulted by privacy: only notify may use them.
        meta["reply_token"] = event.reply_token
        meta["reply_token_expires_at"] = reply_token_expiry(event.timestamp).isoformat()
    return {k: v for k, v in meta.items() if v is not None}


def _media_meta(event: LineEvent) -> dict[str, MetaValue]:
    provider = event.content_provider
    if provider is not None and provider.type == "external":
        # The bytes sit on someone else's server; fetching arbitrary URLs from
        # inside the network is not intake's job.
        return {"media_provider": "external", "media_url": provider.original_content_url}
    if not valid_message_id(event.message_id):
        # The content URL is built from the id: one not of LINE's shape is never fetched.
        return {"media_provider": "line", "media_status": MEDIA_INVALID_ID}
    return {
        "media_provider": "line",
        "media_message_id": event.message_id,
        "media_status": "pending",
        "media_file_name": event.file_name,
    }


def _postback_meta(event: LineEvent) -> dict[str, MetaValue]:
    if event.postback is None:
        return {"postback_data": event.postback_data}
    meta: dict[str, MetaValue] = {}
    for name, value in list(event.postback.items())[:_MAX_POSTBACK_FIELDS]:
        field = "".join(c if c.isascii() and c.isalnum() else "_" for c in name.lower())[:32]
        meta[f"postback_{field}"] = int(value) if field == "score" and value.isdigit() else value
    return meta


def build_contact(
    event: LineEvent,
    *,
    org: OrgId,
    received_at: datetime,
    conversation_key: bytes,
) -> Contact:
    """Normalise one LINE event into the canonical contact."""
    contact_id = new_id()
    text = event.text or ""
    location = None
    if event.location is not None:
        # The place's name and address are the customer's words: they go in the
        # text, which privacy masks, not in metadata.
        text = " ".join(p for p in (event.location.title, event.location.address) if p)
        location = Location(lat=event.location.lat, long=event.location.long)
    return Contact(
        id=contact_id,
        channel="line",
        org=org,
        received_at=received_at,
        dedupe_key=f"line:{event.webhook_event_id}",
        text=text,
        customer=Identity(line_user_id=event.user_id),
        location=location,
        thread=ThreadKeys(conversation=conversation_of(event, key=conversation_key)),
        flags=flags_of(event),
        meta=meta_of(event),
        raw_ref=f"raw-{contact_id}",
    )


class LineWebhookRead(BaseModel):
    """A webhook taken: how many events came, how many were new, how many seen before."""

    events: int
    accepted: int
    duplicates: int


@dataclass(frozen=True)
class LineParts:
    """What the webhook reads: the runtime, the media fetcher it wakes, the rate limits."""

    runtime: Runtime
    media: MediaFetcher
    limits: ChannelLimits

    @classmethod
    def on(cls, runtime: Runtime) -> LineParts:
        """Return the parts of the LINE channel on ``runtime``."""
        return cls(
            runtime=runtime,
            media=MediaFetcher(runtime),
            limits=channel_limits(runtime.settings, "line"),
        )


Parts = Annotated[LineParts, Depends(parts_reader("line"))]

router = APIRouter(tags=["line"])


@router.post(
    "/v1/line/webhook",
    dependencies=[Security(LINE_SIGNATURE)],
    responses=refusals(401, 409, 413, 422, 429, 503),
    openapi_extra=body(WEBHOOK_SCHEMA),
)
async def webhook(
    request: Request,
    parts: Parts,
    x_line_signature: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> LineWebhookRead:
    """Take a signed LINE webhook, one contact per event, answered once all are on the bus."""
    runtime, limits = parts.runtime, parts.limits
    settings = runtime.settings
    raw = await read_body(request, MAX_BODY_BYTES)
    verify_signature(raw, x_line_signature, settings.line_channel_secret.get_secret_value())
    events = parse_webhook(raw)
    payload: dict[str, Any] = json.loads(raw)
    # Limited after the signature check, so forged requests cannot spend
    # the bot's allowance.
    limits.check_source(f"line:{payload.get('destination')}")
    received_at = runtime.clock.now()
    for index, event in enumerate(events):
        not_ahead(event.timestamp, now=received_at, field=f"events[{index}].timestamp")
    request_sha256 = sha256_hex(raw)
    conversation_key = settings.secret_key.get_secret_value().encode()
    contacts = [
        build_contact(
            event, org=settings.org, received_at=received_at, conversation_key=conversation_key
        )
        for event in events
    ]
    # A batch with a user over their allowance is refused whole (LINE
    # redelivers it later); batches hold one user's events as a rule.
    limits.check_customers("line", [c.customer.line_user_id for c in contacts])
    # Published one by one in delivery order (routing threads later events
    # onto earlier ones), but claimed, archived and completed together: the
    # answer waits for all of them anyway.
    answers = await accept_all(
        runtime,
        [
            Acceptance(
                key=contact.dedupe_key,
                # A redelivery differs in deliveryContext, and the signature already
                # proves the content is LINE's: the event id alone identifies it.
                body_hash=sha256_hex(event.webhook_event_id.encode()),
                contact=contact,
                # Archived per event, never the whole batch: a batch may hold
                # several customers, and each one's data is kept and erased alone.
                raw=json.dumps(event_json, ensure_ascii=False, separators=(",", ":")).encode(),
                content_type="application/json",
                raw_meta={
                    "destination": event.destination,
                    "webhook_event_id": event.webhook_event_id,
                    "event_index": index,
                    "request_sha256": request_sha256,
                },
            )
            for index, (event, event_json, contact) in enumerate(
                zip(events, payload["events"], contacts, strict=True)
            )
        ],
    )
    accepted = 0
    media_due = False
    for contact, contact_id in zip(contacts, answers, strict=True):
        accepted += contact_id == contact.id
        if contact.meta.get("media_status") == MEDIA_INVALID_ID and contact_id == contact.id:
            log.warning(
                "line media not fetched: the message id is not a LINE message id",
                extra={"contact_id": contact_id},
            )
        message_id = contact.meta.get("media_message_id")
        if isinstance(message_id, str):
            # Also on a redelivery: recording it is idempotent, and it heals a
            # first delivery that stopped between the publish and this line.
            await expect_media(
                runtime.store, message_id=message_id, contact_id=contact_id, at=received_at
            )
            media_due = True
    if media_due:
        parts.media.wake()
    return LineWebhookRead(events=len(events), accepted=accepted, duplicates=len(events) - accepted)
