"""Routing's admin API (role admin): rules, calendars' ad-hoc holidays, unit members, SLA
policies, customer tiers, and the log of changes to rules, holidays, members and policies.

Bad input is refused with 422 naming the field and the reason; what the
changes do and how they reach every replica is ``admin_state``'s.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from services.routing import accounts, admin_log
from services.routing.access import Actor, Can
from services.routing.admin_state import AdminState
from services.routing.org import OrgConfig, parse_rules
from services.routing.rulebook import RuleBook
from services.routing.taxonomy import Taxonomy
from shared.errors import PayloadTooLarge
from shared.http import ServiceCaller, service_auth_for
from shared.runtime import Runtime

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


def router(
    runtime: Runtime,
    *,
    org: OrgConfig,
    rulebook: RuleBook,
    state: AdminState,
    taxonomy: Taxonomy,
) -> APIRouter:
    """Return the admin routes."""
    caller = Depends(service_auth_for(runtime.settings, "routing"))
    api = APIRouter(prefix="/internal/v1/admin", tags=["admin"], dependencies=[caller])

    def admin(who: Annotated[ServiceCaller, caller]) -> Actor:
        actor = Actor(user=who.user, role=who.role)
        actor.require(Can.ADMIN)
        return actor

    Admin = Annotated[Actor, Depends(admin)]

    @api.get("/rules")
    async def get_rules(_: Admin) -> dict[str, Any]:
        await rulebook.refresh()
        return rulebook.describe()

    @api.put(
        "/rules",
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
    async def put_rules(request: Request, actor: Admin) -> dict[str, Any]:
        """Replace the rules in force with a validated set (JSON or YAML ``{"rules": [...]}``).

        A set naming an unknown unit, topic, category, tier or area is refused
        with 422 and the line and reason of each problem; the rules in force stay.
        """
        body = await request.body()
        if len(body) > MAX_RULES_BYTES:
            raise PayloadTooLarge(f"a rule set is at most {MAX_RULES_BYTES} bytes")
        rules = parse_rules(org, body, taxonomy=taxonomy)
        await rulebook.save(rules, by=actor.user, at=runtime.clock.now())
        return rulebook.describe()

    @api.delete("/rules")
    async def revert_rules(actor: Admin) -> dict[str, Any]:
        """Drop the rules saved through this API; the file's rules are in force again."""
        await rulebook.revert(by=actor.user, at=runtime.clock.now())
        return rulebook.describe()

    @api.get("/calendars")
    async def calendars(_: Admin) -> dict[str, Any]:
        """List the calendars with the file's holidays and the ad-hoc ones."""
        await state.refresh()
        return {"calendars": state.calendars()}

    @api.put("/calendars/{calendar_id}/holidays/{day}")
    async def add_holiday(
        calendar_id: str,
        day: str,
        actor: Admin,
        body: Annotated[Any, Body(examples=[HOLIDAY_EXAMPLE])],
    ) -> dict[str, Any]:
        """Close a business-hours calendar on a day from today on; new SLA clocks skip it."""
        now = runtime.clock.now()
        return await state.add_holiday(calendar_id, day, body, by=actor.user, at=now)

    @api.delete("/calendars/{calendar_id}/holidays/{day}")
    async def remove_holiday(calendar_id: str, day: str, actor: Admin) -> dict[str, Any]:
        """Drop an ad-hoc holiday (the file's holidays stay)."""
        now = runtime.clock.now()
        return await state.remove_holiday(calendar_id, day, by=actor.user, at=now)

    @api.get("/units")
    async def units(_: Admin) -> dict[str, Any]:
        """List the units with the members in force and whether an admin set them."""
        await state.refresh()
        return {"units": state.units()}

    @api.put("/units/{unit_id}/members")
    async def set_members(
        unit_id: str, actor: Admin, body: Annotated[Any, Body(examples=[MEMBERS_EXAMPLE])]
    ) -> dict[str, Any]:
        """Put a unit's members (and capacity) in force: dispatch hands and pulls by them."""
        return await state.set_members(unit_id, body, by=actor.user, at=runtime.clock.now())

    @api.delete("/units/{unit_id}/members")
    async def revert_members(unit_id: str, actor: Admin) -> dict[str, Any]:
        """Put the file's members and capacity of the unit in force again."""
        return await state.revert_members(unit_id, by=actor.user, at=runtime.clock.now())

    @api.get("/sla-policies")
    async def sla_policies(_: Admin) -> dict[str, Any]:
        """List the SLA policies in force (the file's and the overrides) and the calendars."""
        await state.refresh()
        return state.policies()

    @api.put("/sla-policies/{policy_id}")
    async def set_policy(
        policy_id: str, actor: Admin, body: Annotated[Any, Body(examples=[POLICY_EXAMPLE])]
    ) -> dict[str, Any]:
        """Put a policy in force for cases opened from now on; running clocks keep theirs."""
        return await state.set_policy(policy_id, body, by=actor.user, at=runtime.clock.now())

    @api.delete("/sla-policies/{policy_id}")
    async def revert_policy(policy_id: str, actor: Admin) -> dict[str, Any]:
        """Put the file's policy in force again (a policy added here is removed)."""
        return await state.revert_policy(policy_id, by=actor.user, at=runtime.clock.now())

    @api.get("/changes")
    async def changes(
        _: Admin, limit: Annotated[int, Query(ge=1, le=admin_log.MAX_LIMIT)] = 100
    ) -> dict[str, Any]:
        """List the changes to routing's administration, newest first."""
        return {"items": await admin_log.recent(runtime.store, limit=limit)}

    @api.put("/customers/{subject_ref}/tier")
    async def set_tier(
        subject_ref: str, actor: Admin, body: Annotated[TierIn, Body()]
    ) -> dict[str, str]:
        await accounts.set_tier(
            runtime.store,
            subject_ref,
            body.tier,
            tiers=org.tiers,
            by=actor.user,
            at=runtime.clock.now(),
        )
        return {"subject_ref": subject_ref, "tier": body.tier}

    return api
