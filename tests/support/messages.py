"""Message builders for tests."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.ids import new_id
from shared.messages import ContactReceived, ContactScreened, Envelope
from shared.messages.contacts import Contact, Identity, ThreadKeys


def contact(**overrides: object) -> Contact:
    """Return an app contact with unique ids."""
    contact_id = new_id()
    fields: dict[str, object] = {
        "id": contact_id,
        "channel": "app",
        "org": "pea",
        "received_at": datetime.now(UTC),
        "dedupe_key": f"app:{contact_id}",
        "text": "ไฟดับทั้งหมู่บ้านตั้งแต่เมื่อคืน",
        "customer": Identity(name="สมชาย ใจดี", phone="0812457730", app_user_id=f"u-{contact_id}"),
        "consent": "withheld",
        "raw_ref": f"raw-{contact_id}",
    }
    fields.update(overrides)
    return Contact.model_validate(fields)


def line_contact(user_id: str, **overrides: object) -> Contact:
    """Return a LINE text message from ``user_id`` with unique ids, threaded by the user."""
    contact_id = new_id()
    fields: dict[str, object] = {
        "id": contact_id,
        "channel": "line",
        "org": "pea",
        "received_at": datetime.now(UTC),
        "dedupe_key": f"line:{contact_id}",
        "text": "ไฟดับทั้งซอย",
        "customer": Identity(line_user_id=user_id),
        "thread": ThreadKeys(conversation=f"line-user-{contact_id.lower()}"),
        "meta": {"line_event_type": "message"},
        "raw_ref": f"raw-{contact_id}",
    }
    fields.update(overrides)
    return Contact.model_validate(fields)


def received(routing_key_channel: str = "app", **overrides: object) -> Envelope:
    """Return an envelope of ``contact.received``."""
    return Envelope.of(ContactReceived(contact=contact(channel=routing_key_channel, **overrides)))


def screened_message(**overrides: object) -> ContactScreened:
    """Return a screened contact with unique ids."""
    fields: dict[str, object] = {
        "contact_id": new_id(),
        "channel": "app",
        "org": "pea",
        "received_at": datetime.now(UTC),
        "subject_ref": f"sub_{new_id()}",
        "reply_handle": f"rh_{new_id()}",
        "consent": "withheld",
        "text": "ไฟดับทั้งหมู่บ้าน โทร 08x-xxx-7730",
    }
    fields.update(overrides)
    return ContactScreened.model_validate(fields)


def topic_envelope(topic: str, **data: object) -> Envelope:
    """Return an envelope on an arbitrary test topic (data is a reply.requested)."""
    from shared.messages import ReplyRequested

    message = ReplyRequested(
        request_id=new_id(),
        case_id="c",
        case_number="VOC-2026-000001",
        text=str(data.get("text", "hello")),
        author="tester",
    )
    envelope = Envelope.of(message)
    return envelope.model_copy(update={"routing_key": topic})
