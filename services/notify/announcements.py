"""What the delivery log keeps of an attempt, and what agents are told about a delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.notify.delivery import Outcome
from services.notify.domain import Intent
from services.notify.messages import CallbackRequested, NotificationFailed
from shared.logging import mask_pii
from shared.messages.base import Envelope, Message
from shared.store import Document


def attempt_entry(outcome: Outcome, now: datetime) -> dict[str, Any] | None:
    """Return the delivery log's record of an attempt, or None if nothing was tried."""
    result = outcome.result
    if result is None:
        if outcome.verdict not in ("failed", "retry"):
            return None
        return {
            "at": now,
            "channel": outcome.channel,
            "status": "failed",
            "provider_answer": outcome.reason,
        }
    return {
        "at": now,
        "channel": outcome.channel,
        "via": result.via,
        "status": result.status,
        "retryable": result.retryable,
        "provider_status": result.provider_status,
        "provider_answer": result.provider_answer,
        "provider_message_id": result.provider_message_id,
    }


def failure_report(
    doc: Document, intent: Intent, outcome: Outcome, *, attempts: int, now: datetime
) -> Envelope:
    """Return ``notification.failed`` for a delivery given up on."""
    result = outcome.result
    message = NotificationFailed(
        notification_id=doc["_id"],
        event_id=intent.event_id,
        case_id=intent.case_id,
        case_number=intent.case_number,
        kind=intent.kind,
        channel=outcome.channel,
        attempts=attempts,
        provider_status=result.provider_status if result else None,
        reason=mask_pii(outcome.reason)[:300] or "not delivered",
        first_attempt_at=doc.get("first_attempt_at") or now,
        gave_up_at=now,
    )
    return _envelope(message, doc, intent, "failed")


def callback_request(doc: Document, intent: Intent, outcome: Outcome, *, now: datetime) -> Envelope:
    """Return ``notification.callback_requested`` with the words the agent passes on."""
    rendered = outcome.rendered
    assert rendered is not None
    message = CallbackRequested(
        notification_id=doc["_id"],
        event_id=intent.event_id,
        case_id=intent.case_id,
        case_number=intent.case_number,
        kind=intent.kind,
        title=rendered.subject or intent.case_number,
        text=rendered.text,
        requested_at=now,
    )
    return _envelope(message, doc, intent, "callback")


def _envelope(message: Message, doc: Document, intent: Intent, suffix: str) -> Envelope:
    # The id is derived, so a republished announcement is the same message to consumers.
    envelope = Envelope.of(
        message, correlation_id=intent.correlation_id, message_id=f"{doc['_id']}:{suffix}"
    )
    return envelope.model_copy(update={"causation_id": intent.event_id})
