"""Walk-in contacts typed by counter staff: ``POST /api/v1/contacts/walk-in``.

The console checks who records the entry and forwards it to intake, which
owns the raw archive, de-duplication and publishing for every channel.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from services.console.clients import case_path
from services.console.deps import CurrentUser, Intake, Routing
from shared.api_models.cases import OpenAnswer
from shared.messages.walkin import COUNTER_ROLES, WalkInCreate

router = APIRouter(prefix="/api/v1", tags=["contacts"])


class WalkInAcceptedRead(OpenAnswer):
    """The walk-in contact intake took: its id, the same on every retry of the entry."""

    id: str = Field(description="the contact's id")
    status: Literal["accepted"]


@router.post(
    "/contacts/walk-in",
    status_code=202,
    response_model=WalkInAcceptedRead,
    response_model_exclude_unset=True,
)
async def walk_in(entry: WalkInCreate, user: CurrentUser, intake: Intake, routing: Routing) -> Any:
    """Record a walk-in contact from the counter; intake takes it like any channel's."""
    user.require(*COUNTER_ROLES)
    if entry.case_number and user.role == "unit_member":
        # A unit adds visits only to its own cases: routing answers 404 for another's.
        await routing.call("GET", case_path(entry.case_number), user=user)
    return await intake.call(
        "POST", "/internal/v1/walk-in", user=user, json=entry.model_dump(mode="json")
    )
