"""Walk-in contacts typed by counter staff: ``POST /api/v1/contacts/walk-in``.

The console checks who records the entry and forwards it to intake, which
owns the raw archive, de-duplication and publishing for every channel.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from services.console.auth import User
from services.console.clients import ServiceClient, case_path
from shared.messages.walkin import COUNTER_ROLES, WalkInCreate


def router(
    *,
    current_user: Callable[..., Any],
    intake: ServiceClient,
    routing: ServiceClient | None = None,
) -> APIRouter:
    """Return the walk-in route."""
    api = APIRouter(prefix="/api/v1", tags=["contacts"])
    CurrentUser = Annotated[User, Depends(current_user)]

    @api.post("/contacts/walk-in", status_code=202)
    async def walk_in(entry: WalkInCreate, user: CurrentUser) -> Any:
        user.require(*COUNTER_ROLES)
        if entry.case_number and user.role == "unit_member" and routing is not None:
            # A unit adds visits only to its own cases: routing answers 404 for another's.
            await routing.call("GET", case_path(entry.case_number), user=user)
        return await intake.call(
            "POST", "/internal/v1/walk-in", user=user, json=entry.model_dump(mode="json")
        )

    return api
