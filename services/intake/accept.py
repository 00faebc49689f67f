"""Accepting a contact: archive, publish with confirms, and only then answer."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from services.intake import store as intake_store
from shared.errors import BusError, Conflict
from shared.ids import new_id
from shared.logging import current_correlation_id
from shared.messages import Contact, ContactReceived, Envelope
from shared.runtime import Runtime
from shared.store import Store

log = logging.getLogger(__name__)


async def publish_contact(
    runtime: Runtime, contact: Contact, *, message_id: str | None = None
) -> Envelope:
    """Publish ``contact.received.<channel>``; raise ``BusError`` if not confirmed."""
    envelope = Envelope.of(
        ContactReceived(contact=contact),
        occurred_at=contact.received_at,
        message_id=message_id,
        # The request's correlation id (its trace id when it came traced) follows the contact.
        correlation_id=current_correlation_id(),
    )
    await runtime.bus.publish(envelope)
    log.info(
        "contact accepted",
        extra={"contact_id": contact.id, "channel": contact.channel, "message_id": envelope.id},
    )
    return envelope


@dataclass(frozen=True)
class Acceptance:
    """A contact to accept once under its idempotency ``key``, with the payload it came in."""

    key: str
    body_hash: str
    contact: Contact
    raw: bytes
    content_type: str
    raw_meta: dict[str, Any] | None = None
    message_id: str = field(default_factory=new_id)


# What a channel's idempotency key is made of, as its sender knows it.
_KEY_NAMES = {
    "app": "Idempotency-Key",
    "line": "webhook event id",
    "phone": "call id",
    "fax": "fax id",
    "walk_in": "branch, Bangkok date and queue number",
    "email": "Message-ID",
}


def key_name(key: str) -> str:
    """Return what the sender calls the idempotency key ``key`` (``app:…``, ``fax:…``)."""
    return _KEY_NAMES.get(key.partition(":")[0], "idempotency key")


async def accept_once(
    runtime: Runtime,
    *,
    key: str,
    body_hash: str,
    contact: Contact,
    raw: bytes,
    content_type: str,
    raw_meta: dict[str, Any] | None = None,
) -> str:
    """Accept ``contact`` once per idempotency ``key``; return the contact id to answer with."""
    item = Acceptance(key, body_hash, contact, raw, content_type, raw_meta)
    return (await accept_all(runtime, [item]))[0]


async def accept_all(runtime: Runtime, items: Sequence[Acceptance]) -> list[str]:
    """Accept each item once per key, publishing in order; return each one's contact id.

    The keys are claimed first (so concurrent retries cannot both publish), the
    new payloads archived, the contacts published with confirms one by one in
    order, and the keys completed: three store writes however many items come
    together. A key used before answers with its earlier contact. If a publish
    fails, that item and the ones after it are undone (archive entry and claim
    removed) and the error raised, so nothing is half-written and the client
    can retry; the ones before it are accepted, and a retry finds them done.
    """
    store = runtime.store
    firsts: dict[str, Acceptance] = {}
    for item in items:
        if firsts.setdefault(item.key, item).body_hash != item.body_hash:
            raise Conflict(f"{key_name(item.key)} was already used with a different body")
    earlier = await intake_store.claim_keys(
        store,
        [
            intake_store.Claim(
                i.key,
                i.body_hash,
                i.contact.id,
                i.contact.received_at,
                message_id=i.message_id,
                raw_ref=i.contact.raw_ref,
            )
            for i in firsts.values()
        ],
    )
    for key, record in list(earlier.items()):
        if record["state"] == intake_store.TAKEN_OVER:
            firsts[key] = _as_claimed(firsts[key], record)
            del earlier[key]
    new = [item for key, item in firsts.items() if key not in earlier]
    try:
        _check_earlier(earlier, firsts)
    except Conflict:
        await intake_store.release_keys(store, [item.key for item in new])
        raise
    to_archive = [item for item in new if not await _archived(store, item)]
    await intake_store.archive_raws(store, [await _raw_record(store, item) for item in to_archive])
    published = 0
    try:
        for item in new:
            await publish_contact(runtime, item.contact, message_id=item.message_id)
            published += 1
    except BusError:
        undone = new[published:]
        for item in undone:
            await intake_store.discard_raw(store, _raw_id(item))
        await intake_store.release_keys(store, [item.key for item in undone])
        await intake_store.complete_keys(store, [item.key for item in new[:published]])
        raise
    await intake_store.complete_keys(store, [item.key for item in new])
    answers = {key: str(record["contact_id"]) for key, record in earlier.items()}
    return [answers.get(item.key, firsts[item.key].contact.id) for item in items]


def _as_claimed(item: Acceptance, record: dict[str, Any]) -> Acceptance:
    """Return ``item`` under the ids of the stale claim it took over."""
    contact = item.contact.model_copy(
        update={
            "id": record["contact_id"],
            "raw_ref": record.get("raw_ref") or item.contact.raw_ref,
        }
    )
    message_id = record.get("message_id") or item.message_id
    return replace(item, contact=contact, message_id=message_id)


async def _archived(store: Store, item: Acceptance) -> bool:
    # Only a taken-over claim can find its payload archived by the request that died.
    return item.contact.raw_ref is not None and await intake_store.has_raw(store, _raw_id(item))


def _check_earlier(earlier: dict[str, dict[str, Any]], firsts: dict[str, Acceptance]) -> None:
    for key, record in earlier.items():
        if record["body_hash"] != firsts[key].body_hash:
            raise Conflict(f"{key_name(key)} was already used with a different body")
        if record["state"] != "done":
            raise Conflict(f"a request with this {key_name(key)} is still being processed")


def _raw_id(item: Acceptance) -> str:
    assert item.contact.raw_ref is not None
    return item.contact.raw_ref


async def _raw_record(store: Store, item: Acceptance) -> dict[str, Any]:
    return await intake_store.raw_document(
        store,
        raw_id=_raw_id(item),
        channel=item.contact.channel,
        body=item.raw,
        content_type=item.content_type,
        received_at=item.contact.received_at,
        meta=item.raw_meta,
    )
