"""Notify's collections and their indexes, and the one id a delivery derives from its event."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

from shared.store import IndexPlan

DELIVERIES = "deliveries"
RATES = "rate_windows"
REPLY_TOKENS = "reply_tokens_used"
REACHABILITY = "reachability"
TEMPLATES = "template_overrides"
TEMPLATE_CHANGES = "template_changes"
SURVEY_ANSWERS = "survey_answers"

INDEXES: IndexPlan = {
    REACHABILITY: [IndexModel("updated_at")],
    DELIVERIES: [
        IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
        IndexModel([("case_id", ASCENDING), ("created_at", ASCENDING)]),
        IndexModel("announce_pending", sparse=True),
    ],
    RATES: [IndexModel("expires_at", expireAfterSeconds=0)],
    REPLY_TOKENS: [IndexModel("at", expireAfterSeconds=7 * 24 * 3600)],
    TEMPLATE_CHANGES: [IndexModel([("at", DESCENDING)]), IndexModel([("slot", ASCENDING)])],
}


def notification_id(event_id: str) -> str:
    """Return the delivery log id of the notification an event causes."""
    return f"n-{event_id}"
