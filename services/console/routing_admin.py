"""Routing's run-time administration for admins, passed on as it is: rules, SLA policies,
calendars' holidays, unit members and the change log (``/api/v1/admin/...``).

Routing validates, applies and audits every change; the console checks the role,
bounds the body and passes only the paths routing administers (else a 404 here).
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from services.console.auth import User
from services.console.clients import ServiceClient
from services.console.deps import CurrentUser, Routing
from shared.api_models.routing_admin import RoutingAdminRead, RulesRead, SlaPoliciesRead
from shared.errors import Invalid, NotFound

# What the console passes on to routing's administration, per method (else a 404 here).
_ONE = r"[a-z0-9][a-z0-9_-]{0,60}"
_CHANGES = (
    rf"calendars/{_ONE}/holidays/\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|units/{_ONE}/members"
    r"|sla-policies/[A-Za-z0-9][A-Za-z0-9_-]{0,60}"
)
ROUTING_ADMIN = {
    "GET": re.compile(r"^(?:calendars|units|sla-policies|changes|rules)$"),
    "PUT": re.compile(rf"^(?:{_CHANGES}|rules)$"),
    "DELETE": re.compile(rf"^(?:{_CHANGES}|rules)$"),
}
MAX_ADMIN_BODY = 256 * 1024
Limit = Annotated[int | None, Query(ge=1, le=500)]

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/rules", response_model=RulesRead, response_model_exclude_unset=True)
async def rules(user: CurrentUser, routing: Routing) -> Any:
    """Return the routing rules in force and where they come from."""
    user.require("admin")
    return await routing.call("GET", "/internal/v1/admin/rules", user=user)


@router.put("/rules", response_model=RulesRead, response_model_exclude_unset=True)
async def put_rules(
    user: CurrentUser, routing: Routing, body: Annotated[dict[str, Any], Body()]
) -> Any:
    """Replace the routing rules in force with a set routing validates."""
    user.require("admin")
    return await routing.call("PUT", "/internal/v1/admin/rules", user=user, json=body)


@router.delete("/rules", response_model=RulesRead, response_model_exclude_unset=True)
async def revert_rules(user: CurrentUser, routing: Routing) -> Any:
    """Drop the rules saved here: the organisation file's rules are in force again."""
    user.require("admin")
    return await routing.call("DELETE", "/internal/v1/admin/rules", user=user)


@router.get("/sla-policies", response_model=SlaPoliciesRead, response_model_exclude_unset=True)
async def sla_policies(user: CurrentUser, routing: Routing) -> Any:
    """List the SLA policies in force and the calendars."""
    user.require("admin")
    return await routing.call("GET", "/internal/v1/admin/sla-policies", user=user)


async def routing_admin(
    routing: ServiceClient,
    method: str,
    path: str,
    user: User,
    *,
    request: Request | None,
    limit: int | None,
) -> Any:
    """Pass an admin's call to routing's administration as it is; refuse other paths."""
    user.require("admin")
    if not ROUTING_ADMIN[method].fullmatch(path):
        raise NotFound(f"no routing administration {method} {path[:80]!r}")
    body = None
    if request is not None:
        raw = await request.body()
        if len(raw) > MAX_ADMIN_BODY:
            raise Invalid(f"at most {MAX_ADMIN_BODY} bytes", field="body")
        try:
            body = json.loads(raw or b"null")
        except ValueError as exc:
            raise Invalid(f"not JSON: {exc}", field="body") from exc
    params = {"limit": limit} if limit else None
    return await routing.call(
        method, f"/internal/v1/admin/{path}", user=user, params=params, json=body
    )


@router.get(
    "/routing/{path:path}", response_model=RoutingAdminRead, response_model_exclude_unset=True
)
async def routing_admin_read(
    path: str, user: CurrentUser, routing: Routing, limit: Limit = None
) -> Any:
    """Read routing's administration: calendars, units, sla-policies, changes or rules."""
    return await routing_admin(routing, "GET", path, user, request=None, limit=limit)


@router.put(
    "/routing/{path:path}", response_model=RoutingAdminRead, response_model_exclude_unset=True
)
async def routing_admin_change(
    path: str,
    user: CurrentUser,
    routing: Routing,
    request: Request,
    _: Annotated[dict[str, Any] | None, Body(alias="body")] = None,
) -> Any:
    """Change routing's administration: a holiday, a unit's members, a policy, the rules."""
    return await routing_admin(routing, "PUT", path, user, request=request, limit=None)


@router.delete(
    "/routing/{path:path}", response_model=RoutingAdminRead, response_model_exclude_unset=True
)
async def routing_admin_revert(path: str, user: CurrentUser, routing: Routing) -> Any:
    """Revert a change to routing's administration (the file's setting is in force again)."""
    return await routing_admin(routing, "DELETE", path, user, request=None, limit=None)
