"""The phone channel: ``POST /v1/phone/events``, the generic CTI webhook.

Each PBX authenticates with a token of its own. Every event is stored once per
call id + event + timestamp in ``calls`` and the call's record is folded from
all its events, so a replayed or out-of-order event changes nothing twice.
When the call hangs up, its one contact is published; the event is answered
202 only once it is stored and, if it completed the call, once the contact is
confirmed on the bus.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import bson
from bson.errors import InvalidDocument
from fastapi import APIRouter, Depends, Header, Request, Security
from fastapi.security import HTTPBearer
from pydantic import BaseModel
from pydantic_core import from_json

from services.intake.accept import accept_once
from services.intake.channels import parts_reader
from services.intake.channels.phone import store as phone_store
from services.intake.channels.phone.events import (
    CallRecord,
    CtiEvent,
    callback_of,
    fold,
    normalise_number,
    parse_cti_event,
    topic_hint,
)
from services.intake.limits import ChannelLimits, channel_limits, read_body
from services.intake.openapi import body, inline_schema, refusals
from services.intake.store import sha256_hex
from shared.errors import BusError, ConfigError, Invalid, Unauthorized
from shared.ids import new_id
from shared.instants import not_ahead
from shared.kinds import OrgId
from shared.messages import Contact, Identity, ThreadKeys
from shared.org_files import known_orgs, org_files, read_org
from shared.runtime import Runtime
from shared.store import Store

MAX_BODY_BYTES = 256 * 1024
MAX_EVENTS_PER_REQUEST = 500  # a PBX flushing its spool sends batches, not its history
# Declared for the API description; ``authenticate`` does the check itself.
PBX_TOKEN = HTTPBearer(auto_error=False, scheme_name="pbxToken", description="the PBX's token")
_EVENT_SCHEMA = inline_schema(CtiEvent)
# One event, or a batch of them in the PBX's order.
EVENTS_SCHEMA: dict[str, Any] = {
    "anyOf": [
        _EVENT_SCHEMA,
        {"type": "array", "items": _EVENT_SCHEMA, "maxItems": MAX_EVENTS_PER_REQUEST},
    ]
}

# The organisations' YAML names each one's hotline; the number a call reached
# (or, for a callback, came from) decides whose contact it is.

_CAUSE_TEXT = {
    "normalClearing": "วางสายปกติ",
    "busy": "สายไม่ว่าง",
    "cancel": "ผู้โทรวางสายก่อนมีผู้รับ",
    "noAnswer": "ไม่มีผู้รับสาย",
    "failed": "ต่อสายไม่สำเร็จ",
}


def authenticate(authorization: str | None, tokens: list[str]) -> str:
    """Return a stable id of the PBX's bearer token; raise unless it is one of ``tokens``."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a PBX token is required: Authorization: Bearer <token>")
    if not any(secrets.compare_digest(token.encode(), known.encode()) for known in tokens):
        raise Unauthorized("unknown PBX token")
    return sha256_hex(token.encode())[:16]


def parse_events(raw: bytes) -> list[tuple[dict[str, Any], CtiEvent]]:
    """Return each event of a body holding one CTI event or a list of them, as sent and parsed."""
    try:
        # Strict JSON: Python's json lets invalid UTF-8 and unpaired surrogates
        # through, and the events are stored as sent.
        data = from_json(raw)
    except ValueError as exc:
        raise Invalid(f"CTI body is not JSON: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_EVENTS_PER_REQUEST:
        raise Invalid(f"{len(items)} events in one request; the limit is {MAX_EVENTS_PER_REQUEST}")
    parsed: list[tuple[dict[str, Any], CtiEvent]] = []
    for index, item in enumerate(items):
        where = f"[{index}]" if isinstance(data, list) else ""
        if not isinstance(item, dict):
            raise Invalid(f"CTI event{where} is not an object", field=where or None)
        try:
            bson.encode(item)  # stored as sent, so it must fit a document
        except (InvalidDocument, OverflowError) as exc:
            raise Invalid(f"CTI event{where} cannot be stored: {exc}", field=where or None) from exc
        try:
            parsed.append((item, parse_cti_event(item)))
        except Invalid as exc:
            field = f"{where}.{exc.field}" if where and exc.field else exc.field
            raise Invalid(f"{where} {exc.reason}".strip(), field=field) from exc
    return parsed


def event_key(event: CtiEvent) -> str:
    """Return the key that makes a replayed event a duplicate: event and instant."""
    # In UTC, so the same instant written with another offset is the same key.
    return f"{event.event}@{event.timestamp.astimezone(UTC).isoformat()}"


async def record_event(
    store: Store, event: CtiEvent, sent: dict[str, Any], *, pbx: str, at: datetime
) -> bool:
    """Store ``event`` on its call unless it is already there; return True if it was new."""
    return await phone_store.add_event(
        store, call_id=event.call_id, key=event_key(event), event=sent, pbx=pbx, at=at
    )


def fold_call(events: list[dict[str, Any]]) -> CallRecord:
    """Fold a call's stored events into its record."""
    record: CallRecord | None = None
    for entry in events:
        record = fold(record, parse_cti_event(entry["event"]))
    assert record is not None, "a stored call has at least one event"
    return record


@lru_cache(maxsize=1)
def hotline_orgs(config_dir: Path | None = None) -> dict[str, OrgId]:
    """Return each organisation's hotline number mapped to the organisation."""
    orgs: dict[str, OrgId] = {}
    known = known_orgs(config_dir)
    for path in org_files(config_dir):
        try:
            data = read_org(path)
        except ConfigError:
            continue  # routing refuses a broken config at start; here it only loses a hint
        org = data.get("org")
        if isinstance(org, str) and org in known and data.get("hotline"):
            orgs[str(data["hotline"])] = org
    return orgs


def summary(record: CallRecord) -> str:
    """Describe the call in Thai for the agent: where it went, who took it, how long."""
    hint = topic_hint(record.ivr_path)
    menu = f" เมนู {hint}" if hint else ""
    cause = _CAUSE_TEXT.get(record.cause or "", "")
    if record.direction == "out":
        agent = f" โดย {record.agent}" if record.agent else ""
        head = f"โทรกลับจาก {record.caller or '-'}{agent}"
        if record.answered:
            return f"{head} สนทนา {record.talk_s or 0} วินาที"
        return f"{head} {cause}".strip()
    head = f"สายเข้า {record.dialled or '-'}" + ("" if record.caller else " (ไม่แสดงหมายเลข)")
    if record.abandoned:
        queue = f" คิว {record.queue}" if record.queue else ""
        return f"{head}{menu} ไม่ได้รับสาย {cause}{queue} รอ {record.duration_s or 0} วินาที"
    agent = f" รับสายโดย {record.agent}" if record.agent else " รับสาย"
    return f"{head}{menu}{agent} สนทนา {record.talk_s or 0} วินาที"


def hotline_of(record: CallRecord) -> str | None:
    """Return the organisation's number on the call: the one dialled in, or called back from."""
    return record.dialled if record.direction == "in" else record.caller


def customer_number(record: CallRecord) -> str | None:
    """Return the customer's number in E.164: the caller, or the number a callback dialled."""
    number = callback_of(record) if record.direction == "out" else record.caller
    # Short codes and extensions are ours, never a customer's.
    return number if number and number.startswith("+") else None


def build_contact(
    record: CallRecord, *, org: OrgId, received_at: datetime, pbx: str, ref_key: bytes
) -> Contact:
    """Normalise a completed call into the canonical contact."""
    contact_id = new_id()
    number = customer_number(record)
    flags: list[str] = []
    if record.abandoned:
        flags.append("abandoned")  # a callback to make, not a complaint
    if record.direction == "out":
        flags.append("callback_attempt")
    number_ref = None
    if number and flags:
        # Links callback attempts to the abandoned call without the number
        # itself travelling past privacy.
        digest = hmac.new(ref_key, f"callback-number\x00{number}".encode(), hashlib.sha256)
        number_ref = "cbn-" + digest.hexdigest()[:32]
    ivr_path = ">".join(
        ":".join(p for p in (step.menu, step.key, step.meaning) if p) for step in record.ivr_path
    )
    meta = {
        "direction": record.direction,
        "cause": record.cause,
        "hotline": hotline_of(record),
        "ivr_path": ivr_path or None,
        "topic_hint": topic_hint(record.ivr_path),
        "queue": record.queue,
        "agent": record.agent,
        "duration_s": record.duration_s,
        "talk_s": record.talk_s,
        "recording_url": record.recording_url,
        "call_started_at": record.started_at.isoformat(),
        "call_answered_at": record.answered_at.isoformat() if record.answered_at else None,
        "call_ended_at": record.ended_at.isoformat() if record.ended_at else None,
        "pbx": pbx,
        "callback_number_ref": number_ref,
    }
    return Contact(
        id=contact_id,
        channel="phone",
        org=org,
        received_at=received_at,
        dedupe_key=f"phone:{record.call_id}",
        text=summary(record),
        customer=Identity(phone=number),
        thread=ThreadKeys(call_id=record.call_id),
        flags=tuple(flags),
        meta={k: v for k, v in meta.items() if v is not None},
        raw_ref=f"raw-{contact_id}",
    )


async def take_event(
    runtime: Runtime, event: CtiEvent, sent: dict[str, Any], *, pbx: str
) -> tuple[bool, str | None]:
    """Store one event and publish its call if it is complete; return (new, contact id)."""
    store, now = runtime.store, runtime.clock.now()
    new = await record_event(store, event, sent, pbx=pbx, at=now)
    call = await phone_store.find_call(store, call_id=event.call_id)
    assert call is not None
    record = fold_call(call["events"])
    await phone_store.save_record(
        store, call_id=event.call_id, record=record.model_dump(mode="json")
    )
    # Also for a replayed event: a call stored complete but never published (a
    # crash, or a broker outage on the first try) is published now.
    if not record.complete or call.get("contact_id"):
        return new, None
    contact = build_contact(
        record,
        org=hotline_orgs().get(hotline_of(record) or "", runtime.settings.org),
        received_at=now,
        pbx=pbx,
        ref_key=runtime.settings.secret_key.get_secret_value().encode(),
    )
    try:
        contact_id = await accept_once(
            runtime,
            key=contact.dedupe_key,
            body_hash=sha256_hex(record.call_id.encode()),  # one contact per call, whatever came
            contact=contact,
            raw=json.dumps([e["event"] for e in call["events"]], ensure_ascii=False).encode(),
            content_type="application/json",
            raw_meta={"pbx": pbx, "call_id": record.call_id},
        )
    except BusError:
        if new:
            # Its retry must count as new, so the call is published then.
            await phone_store.remove_event(store, call_id=event.call_id, key=event_key(event))
        raise
    await phone_store.set_contact(store, call_id=event.call_id, contact_id=contact_id)
    return new, contact_id


class PhoneEventsRead(BaseModel):
    """CTI events taken: how many came, were new or seen before, and the calls they completed."""

    events: int
    stored: int
    duplicates: int
    contacts: list[str]


@dataclass(frozen=True)
class PhoneParts:
    """What the CTI webhook reads: the runtime and the PBXs' rate limits."""

    runtime: Runtime
    limits: ChannelLimits

    @classmethod
    def on(cls, runtime: Runtime) -> PhoneParts:
        """Return the parts of the phone channel on ``runtime``."""
        return cls(runtime=runtime, limits=channel_limits(runtime.settings, "pbx"))


Parts = Annotated[PhoneParts, Depends(parts_reader("phone"))]

router = APIRouter(tags=["phone"])


@router.post(
    "/v1/phone/events",
    status_code=202,
    dependencies=[Security(PBX_TOKEN)],
    responses=refusals(401, 409, 413, 422, 429, 503),
    openapi_extra=body(EVENTS_SCHEMA),
)
async def receive(
    request: Request,
    parts: Parts,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> PhoneEventsRead:
    """Store a PBX's CTI events once each; publish the calls they complete."""
    runtime, limits = parts.runtime, parts.limits
    pbx = authenticate(authorization, runtime.settings.cti_tokens)
    limits.check_source(f"pbx:{pbx}")
    events = parse_events(await read_body(request, MAX_BODY_BYTES))
    now = runtime.clock.now()
    for index, (_, event) in enumerate(events):
        where = f"[{index}].timestamp" if len(events) > 1 else "timestamp"
        not_ahead(event.timestamp, now=now, field=where)
    # Refused before any event is stored, so the PBX's retry replays the batch whole.
    limits.check_customers("phone", [normalise_number(e.from_) for _, e in events])
    stored = 0
    contacts: list[str] = []
    for sent, event in events:  # in order: a batch replays the PBX's own sequence
        new, contact_id = await take_event(runtime, event, sent, pbx=pbx)
        stored += new
        if contact_id is not None:
            contacts.append(contact_id)
    return PhoneEventsRead(
        events=len(events), stored=stored, duplicates=len(events) - stored, contacts=contacts
    )
