"""Accepting a contact: archive, publish with confirms, and only then answer."""

from __future__ import annotations

import logging
from typing import Any

from services.intake import store as intake_store
from shared.errors import BusError, Conflict
from shared.messages import Contact, ContactReceived, Envelope
from shared.runtime import Runtime

log = logging.getLogger(__name__)


async def publish_contact(runtime: Runtime, contact: Contact) -> Envelope:
    """Publish ``contact.received.<channel>``; raise ``BusError`` if not confirmed."""
    envelope = Envelope.of(ContactReceived(contact=contact), occurred_at=contact.received_at)
    await runtime.bus.publish(envelope)
    log.info(
        "contact accepted",
        extra={"contact_id": contact.id, "channel": contact.channel, "message_id": envelope.id},
    )
    return envelope


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
    """Accept ``contact`` once per idempotency ``key``; return the contact id to answer with.

    The key is claimed first (so concurrent retries cannot both publish), the
    raw payload archived, the contact published with confirms, and the key
    completed. If publishing fails, the archive entry and the claim are
    removed, so nothing is half-written and the client can retry.
    """
    store = runtime.store
    earlier = await intake_store.claim_key(
        store, key=key, body_hash=body_hash, contact_id=contact.id, at=contact.received_at
    )
    if earlier is not None:
        if earlier["body_hash"] != body_hash:
            raise Conflict("Idempotency-Key was already used with a different body")
        if earlier["state"] != "done":
            raise Conflict("a request with this Idempotency-Key is still being processed")
        return str(earlier["contact_id"])
    assert contact.raw_ref is not None
    try:
        await intake_store.archive_raw(
            store,
            raw_id=contact.raw_ref,
            channel=contact.channel,
            body=raw,
            content_type=content_type,
            received_at=contact.received_at,
            meta=raw_meta,
        )
        await publish_contact(runtime, contact)
    except BusError:
        await intake_store.discard_raw(store, contact.raw_ref)
        await intake_store.release_key(store, key)
        raise
    await intake_store.complete_key(store, key)
    return contact.id
