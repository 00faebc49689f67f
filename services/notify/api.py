"""Notify's internal API: a case's delivery log, customers' reachability, template overrides."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from services.notify import store as notify_store
from services.notify.breaker import Breakers
from services.notify.library import TemplateLibrary
from services.notify.reachability import Reachability
from services.notify.templates import CHANNELS, KINDS, LANGUAGES
from shared.errors import Forbidden
from shared.http import ServiceCaller, service_auth_for
from shared.runtime import Runtime

STAFF = frozenset({"agent", "supervisor", "admin", "system"})
# Who may read a case's delivery log: the staff who answer customers. A unit
# member is not among them: notify cannot tell which unit a case is with now
# (each delivery holds the unit of its own event), so it cannot keep them to
# their own unit's cases the way routing does.
DELIVERY_READERS = STAFF


class ReachabilityUpdate(BaseModel):
    """Whether a customer may be sent anything, on one channel or on all (``*``)."""

    model_config = ConfigDict(extra="forbid")

    reachable: bool
    channel: Literal["*", "line", "email", "sms", "app"] = "*"
    reason: str = Field(default="", max_length=500)


class TemplateOverrides(BaseModel):
    """The whole set of template overrides, by slot name (``th/resolved.short``)."""

    model_config = ConfigDict(extra="forbid")

    overrides: dict[str, str]


def router(
    runtime: Runtime,
    *,
    library: TemplateLibrary,
    reachability: Reachability,
    breakers: Breakers,
) -> APIRouter:
    """Return notify's internal routes."""
    caller = Depends(service_auth_for(runtime.settings, "notify"))
    api = APIRouter(prefix="/internal/v1", tags=["notify"], dependencies=[caller])
    Caller = Annotated[ServiceCaller, caller]

    @api.get("/cases/{case_id}/notifications")
    async def notifications(case_id: str, who: Caller) -> dict[str, Any]:
        if who.role not in DELIVERY_READERS:
            raise Forbidden(f"a {who.role} may not see a case's deliveries")
        docs = await notify_store.deliveries_for_case(runtime.store, case_id)
        return {"items": [_delivery_view(doc) for doc in docs]}

    @api.put("/customers/{subject_ref}/reachability", status_code=204)
    async def set_reachability(subject_ref: str, body: ReachabilityUpdate, who: Caller) -> None:
        if who.role not in STAFF:
            raise Forbidden("only staff mark customers reachable or not")
        await reachability.set(
            subject_ref,
            channel=body.channel,
            reachable=body.reachable,
            reason=body.reason or f"set by {who.role}",
        )

    @api.get("/providers")
    async def providers(_: Caller) -> dict[str, Any]:
        # What the console's outage banner shows: this replica's circuits.
        return {"providers": breakers.snapshot()}

    @api.get("/templates")
    async def templates(_: Caller) -> dict[str, Any]:
        return {
            "kinds": list(KINDS),
            "channels": list(CHANNELS),
            "languages": list(LANGUAGES),
            "overrides": dict(library.current().overrides),
        }

    @api.put("/templates")
    async def replace_templates(body: TemplateOverrides, who: Caller) -> dict[str, Any]:
        if who.role not in ("admin", "system"):
            raise Forbidden("only admins edit templates")
        current = await library.replace(body.overrides, by=who.user)
        return {"overrides": dict(current.overrides)}

    return api


def _delivery_view(doc: dict[str, Any]) -> dict[str, Any]:
    def iso(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value

    return {
        "id": doc["_id"],
        "event_id": doc["event_id"],
        "kind": doc["kind"],
        "status": doc["status"],
        "channel": doc.get("channel"),
        "via": doc.get("via"),
        "reason": doc.get("reason"),
        "provider_message_id": doc.get("provider_message_id"),
        "created_at": iso(doc["created_at"]),
        "sent_at": iso(doc.get("sent_at")),
        "next_attempt_at": iso(doc.get("next_attempt_at")) if doc["status"] == "queued" else None,
        "attempts": [{**a, "at": iso(a["at"])} for a in doc.get("attempts", [])],
    }
