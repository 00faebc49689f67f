"""How the internal API shows a case: the contract's fields, the SLA's state, the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.routing.cases.domain import Case
from services.routing.sla.case import SlaKeeper


def case_view(case: Case, *, sla: SlaKeeper, now: datetime, history: bool) -> dict[str, Any]:
    """Return the case as JSON-ready data; ``history`` adds the timeline."""
    view: dict[str, Any] = {
        "id": case.id,
        "number": case.number,
        "org": case.org,
        "status": case.status,
        "category": case.category,
        "topic": case.topic,
        "urgency": case.urgency,
        "classification": case.classification.model_dump(mode="json"),
        "unit": case.unit,
        "assignee": case.assignee,
        "tier": case.tier,
        "area": case.area,
        "channel": case.channel,
        "channels": case.channels,
        "consent": case.consent,
        "subject_ref": case.subject_ref,
        "sla": sla.view(case, now),
        "resolution": _json(case.resolution),
        "closure": case.closure.model_dump(mode="json") if case.closure else None,
        "pending_closure": (
            case.pending_closure.model_dump(mode="json") if case.pending_closure else None
        ),
        "reopen_count": case.reopen_count,
        "related_case": case.related_case,
        "related_cases": case.related_cases,
        "merged_into": case.merged_into,
        "merged_cases": case.merged_cases,
        "split_from": case.split_from,
        "version": case.version,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "last_contact_at": case.last_contact_at.isoformat(),
        "contacts": [
            {
                "id": c.contact_id,
                "channel": c.channel,
                "text": c.text,
                "subject": c.subject,
                "received_at": c.received_at.isoformat(),
                "attachments": c.attachments,
                "location": c.location,
                "flags": c.flags,
            }
            for c in case.contacts
        ],
    }
    if history:
        view["timeline"] = [_json(event) for event in case.timeline]
    return view


def _json(value: Any) -> Any:
    """Return ``value`` with every datetime as ISO 8601 text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json(item) for item in value]
    return value
