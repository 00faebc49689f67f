"""Routing's internal HTTP API (service-to-service: service token plus acting user)."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.routing import store as case_store
from services.routing.domain import Case
from services.routing.org import OrgConfig
from shared.http import ServiceCaller, service_auth
from shared.runtime import Runtime


def case_view(case: Case) -> dict[str, Any]:
    """Return the case as the API shows it (contract fields plus timeline)."""
    return {
        "id": case.id,
        "number": case.number,
        "org": case.org,
        "status": case.status,
        "category": case.category,
        "topic": case.topic,
        "urgency": case.urgency,
        "unit": case.unit,
        "channel": case.channel,
        "channels": case.channels,
        "consent": case.consent,
        "subject_ref": case.subject_ref,
        "sla": case.sla,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
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
        "timeline": [{**event, "at": event["at"].isoformat()} for event in case.timeline],
    }


def router(runtime: Runtime, *, org: OrgConfig) -> APIRouter:
    """Return routing's internal routes."""
    caller = Depends(service_auth(runtime.settings.service_token.get_secret_value()))
    api = APIRouter(prefix="/internal/v1", tags=["cases"], dependencies=[caller])
    Caller = Annotated[ServiceCaller, caller]

    @api.get("/cases")
    async def list_cases(
        _: Caller,
        status: str | None = None,
        channel: str | None = None,
        topic: str | None = None,
        unit: str | None = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        page: Annotated[int, Query(ge=1)] = 1,
        per_page: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        for field, value in (
            ("status", status),
            ("channels", channel),
            ("topic", topic),
            ("unit", unit),
        ):
            if value:
                filters[field] = value
        if q:
            pattern = {"$regex": re.escape(q), "$options": "i"}
            filters["$or"] = [{"number": pattern}, {"contacts.text": pattern}]
        cases, total = await case_store.list_cases(
            runtime.store, filters=filters, skip=(page - 1) * per_page, limit=per_page
        )
        return {
            "items": [case_view(c) for c in cases],
            "total": total,
            "page": page,
            "per_page": per_page,
        }

    @api.get("/cases/{case_id}")
    async def get_case(case_id: str, _: Caller) -> dict[str, Any]:
        return case_view(await case_store.get_case(runtime.store, case_id))

    @api.get("/units")
    async def units(_: Caller) -> list[dict[str, Any]]:
        return [u.model_dump() for u in org.units]

    return api
