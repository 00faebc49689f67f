"""Routing's admin API (role admin): rules, calendars' ad-hoc holidays, unit members, SLA
policies, customer tiers, and the log of changes to rules, holidays, members and policies.

Bad input is refused with 422 naming the field and the reason; what the
changes do and how they reach every replica is ``admin/state.py``'s.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from services.routing.admin import log as admin_log
from services.routing.api.deps import Admin, Parts
from services.routing.cases import accounts
from services.routing.org.config import parse_rules
from shared.api_models.cases import TierRead
from shared.api_models.routing_admin import (
    AdminChangesRead,
    AdminUnitRead,
    AdminUnitsRead,
    CalendarRead,
    CalendarsRead,
    RulesRead,
    SlaPoliciesRead,
)
from shared.errors import PayloadTooLarge
from shared.http import service_caller

# How big a rule set may be; a real one is a few KB.
MAX_RULES_BYTES = 256 * 1024
RULES_EXAMPLE = {
    "rules": [
        {"id": "billing", "when": {"topic": ["billing"]}, "unit": "pea-billing"},
        {"id": "hazard-to-area-office", "when": {"topic": ["hazard"]}, "unit": "@area"},
    ]
}
HOLIDAY_EXAMPLE = {"name": "วันหยุดพิเศษ (มติคณะรัฐมนตรี)"}
MEMBERS_EXAMPLE = {
    "members": [
        {"user": "billing.orawan", "capacity": None},
        {"user": "billing.new", "capacity": 5},
    ],
    "capacity": 20,
}
POLICY_EXAMPLE = {
    "topic": "billing",
    "calendar": "@unit",
    "targets": {"first_response": "PT4H", "unit_ack": "PT4H", "resolution": "PT14H"},
    "escalation": [[0.5, "remind_assignee", "resolution"], [1.0, "supervisor", "resolution"]],
}


class TierIn(BaseModel):
    """A customer's tier."""

    model_config = ConfigDict(extra="forbid")

    tier: str = Field(min_length=1, max_length=40)


router = APIRouter(
    prefix="/internal/v1/admin", tags=["admin"], dependencies=[Depends(service_caller)]
)


@router.get("/rules", response_model=RulesRead, response_model_exclude_unset=True)
async def get_rules(_: Admin, parts: Parts) -> dict[str, Any]:
    """Return the rules in force and where they come from."""
    await parts.rulebook.refresh()
    return parts.rulebook.describe()


@router.put(
    "/rules",
    response_model=RulesRead,
    response_model_exclude_unset=True,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"example": RULES_EXAMPLE},
                "application/yaml": {"schema": {"type": "string"}},
            },
            "required": True,
        }
    },
)
async def put_rules(request: Request, actor: Admin, parts: Parts) -> dict[str, Any]:
    """Replace the rules in force with a validated set (JSON or YAML ``{"rules": [...]}``).

    A set naming an unknown unit, topic, category, tier or area is refused
    with 422 and the line and reason of each problem; the rules in force stay.
    """
    body = await request.body()
    if len(body) > MAX_RULES_BYTES:
        raise PayloadTooLarge(f"a rule set is at most {MAX_RULES_BYTES} bytes")
    rules = parse_rules(parts.org, body, taxonomy=parts.taxonomy)
    await parts.rulebook.save(rules, by=actor.user, at=parts.clock.now())
    return parts.rulebook.describe()


@router.delete("/rules", response_model=RulesRead, response_model_exclude_unset=True)
async def revert_rules(actor: Admin, parts: Parts) -> dict[str, Any]:
    """Drop the rules saved through this API; the file's rules are in force again."""
    await parts.rulebook.revert(by=actor.user, at=parts.clock.now())
    return parts.rulebook.describe()


@router.get("/calendars", response_model=CalendarsRead, response_model_exclude_unset=True)
async def calendars(_: Admin, parts: Parts) -> dict[str, Any]:
    """List the calendars with the file's holidays and the ad-hoc ones."""
    await parts.admin.refresh()
    return {"calendars": parts.admin.calendars()}


@router.put(
    "/calendars/{calendar_id}/holidays/{day}",
    response_model=CalendarRead,
    response_model_exclude_unset=True,
)
async def add_holiday(
    calendar_id: str,
    day: str,
    actor: Admin,
    parts: Parts,
    body: Annotated[Any, Body(examples=[HOLIDAY_EXAMPLE])],
) -> dict[str, Any]:
    """Close a business-hours calendar on a day from today on; new SLA clocks skip it."""
    now = parts.clock.now()
    return await parts.admin.add_holiday(calendar_id, day, body, by=actor.user, at=now)


@router.delete(
    "/calendars/{calendar_id}/holidays/{day}",
    response_model=CalendarRead,
    response_model_exclude_unset=True,
)
async def remove_holiday(calendar_id: str, day: str, actor: Admin, parts: Parts) -> dict[str, Any]:
    """Drop an ad-hoc holiday (the file's holidays stay)."""
    now = parts.clock.now()
    return await parts.admin.remove_holiday(calendar_id, day, by=actor.user, at=now)


@router.get("/units", response_model=AdminUnitsRead, response_model_exclude_unset=True)
async def units(_: Admin, parts: Parts) -> dict[str, Any]:
    """List the units with the members in force and whether an admin set them."""
    await parts.admin.refresh()
    return {"units": parts.admin.units()}


@router.put(
    "/units/{unit_id}/members", response_model=AdminUnitRead, response_model_exclude_unset=True
)
async def set_members(
    unit_id: str,
    actor: Admin,
    parts: Parts,
    body: Annotated[Any, Body(examples=[MEMBERS_EXAMPLE])],
) -> dict[str, Any]:
    """Put a unit's members (and capacity) in force: dispatch hands and pulls by them."""
    return await parts.admin.set_members(unit_id, body, by=actor.user, at=parts.clock.now())


@router.delete(
    "/units/{unit_id}/members", response_model=AdminUnitRead, response_model_exclude_unset=True
)
async def revert_members(unit_id: str, actor: Admin, parts: Parts) -> dict[str, Any]:
    """Put the file's members and capacity of the unit in force again."""
    return await parts.admin.revert_members(unit_id, by=actor.user, at=parts.clock.now())


@router.get("/sla-policies", response_model=SlaPoliciesRead, response_model_exclude_unset=True)
async def sla_policies(_: Admin, parts: Parts) -> dict[str, Any]:
    """List the SLA policies in force (the file's and the overrides) and the calendars."""
    await parts.admin.refresh()
    return parts.admin.policies()


@router.put(
    "/sla-policies/{policy_id}", response_model=SlaPoliciesRead, response_model_exclude_unset=True
)
async def set_policy(
    policy_id: str,
    actor: Admin,
    parts: Parts,
    body: Annotated[Any, Body(examples=[POLICY_EXAMPLE])],
) -> dict[str, Any]:
    """Put a policy in force for cases opened from now on; running clocks keep theirs."""
    return await parts.admin.set_policy(policy_id, body, by=actor.user, at=parts.clock.now())


@router.delete(
    "/sla-policies/{policy_id}", response_model=SlaPoliciesRead, response_model_exclude_unset=True
)
async def revert_policy(policy_id: str, actor: Admin, parts: Parts) -> dict[str, Any]:
    """Put the file's policy in force again (a policy added here is removed)."""
    return await parts.admin.revert_policy(policy_id, by=actor.user, at=parts.clock.now())


@router.get("/changes", response_model=AdminChangesRead, response_model_exclude_unset=True)
async def changes(
    _: Admin, parts: Parts, limit: Annotated[int, Query(ge=1, le=admin_log.MAX_LIMIT)] = 100
) -> dict[str, Any]:
    """List the changes to routing's administration, newest first."""
    return {"items": await admin_log.recent(parts.store, limit=limit)}


@router.put(
    "/customers/{subject_ref}/tier", response_model=TierRead, response_model_exclude_unset=True
)
async def set_tier(
    subject_ref: str, actor: Admin, parts: Parts, body: Annotated[TierIn, Body()]
) -> dict[str, str]:
    """Set a customer's tier (one of the organisation's); SLA policies may match on it."""
    await accounts.set_tier(
        parts.store,
        subject_ref,
        body.tier,
        tiers=parts.org.tiers,
        by=actor.user,
        at=parts.clock.now(),
    )
    return {"subject_ref": subject_ref, "tier": body.tier}
