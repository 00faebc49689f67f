"""Routing's admin API: the routing rules in force, SLA policies, customer tiers (role admin)."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from services.routing import accounts
from services.routing.access import Actor, Can
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


class TierIn(BaseModel):
    """A customer's tier."""

    model_config = ConfigDict(extra="forbid")

    tier: str = Field(min_length=1, max_length=40)


def router(
    runtime: Runtime, *, org: OrgConfig, rulebook: RuleBook, taxonomy: Taxonomy
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
    async def revert_rules(_: Admin) -> dict[str, Any]:
        """Drop the rules saved through this API; the file's rules are in force again."""
        await rulebook.revert()
        return rulebook.describe()

    @api.get("/sla-policies")
    async def sla_policies(_: Admin) -> dict[str, Any]:
        return {
            "policies": [p.model_dump(mode="json") for p in org.sla_policies],
            "calendars": [c.model_dump(mode="json") for c in org.calendars],
        }

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
