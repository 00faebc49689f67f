"""Routing's internal workspace routes: view counts, notes, assigning, merging, splitting, overview.

``app.py`` includes this router ahead of the case routes (``cases.py``), so
``/cases/counts`` is not read as a case id.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from pydantic import Field

from services.routing.api.deps import Acting, Parts
from services.routing.api.parts import Body, version_of
from services.routing.cases import workspace
from services.routing.cases.access import Can
from shared.api_models.cases import CaseCountsRead, CaseRead, OverviewRead
from shared.http import service_caller

Username = Annotated[str, Field(min_length=1, max_length=100)]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
CaseId = Annotated[str, Field(min_length=1, max_length=100)]
IfMatch = Annotated[str | None, Header()]


class NoteIn(Body):
    """An internal note for colleagues; never sent to the customer."""

    text: Annotated[str, Field(min_length=1, max_length=5000)]
    # Set when privacy vaulted the clear text: ``text`` is then its masked copy.
    text_ref: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    mentions: Annotated[list[Username], Field(max_length=20)] = Field(default_factory=list)


class AssignIn(Body):
    """Who takes the case (None: back to the unit's queue) and why."""

    user: Username | None
    reason: Reason | None = None


class MergeIn(Body):
    """The case this one is closed into, and why."""

    into: CaseId
    reason: Reason


class SplitIn(Body):
    """The contact that becomes a case of its own, and why."""

    contact_id: CaseId
    reason: Reason


router = APIRouter(
    prefix="/internal/v1", tags=["workspace"], dependencies=[Depends(service_caller)]
)


@router.get("/cases/counts", response_model=CaseCountsRead, response_model_exclude_unset=True)
async def counts(
    actor: Acting,
    parts: Parts,
    unit: Annotated[str | None, Query(min_length=1, max_length=80)] = None,
) -> dict[str, int]:
    """Return how many cases each queue view holds for the caller."""
    actor.require(Can.READ)
    return await workspace.counts(parts.store, actor, unit)


@router.post("/cases/{case_id}/notes", response_model=CaseRead, response_model_exclude_unset=True)
async def note(
    case_id: str, body: NoteIn, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Add an internal note to the case, mentioning colleagues; return the case."""
    case = await parts.actions.note(
        case_id,
        actor,
        text=body.text,
        text_ref=body.text_ref,
        mentions=body.mentions,
        version=version_of(if_match),
    )
    return parts.show(case)


@router.post("/cases/{case_id}/assign", response_model=CaseRead, response_model_exclude_unset=True)
async def assign(
    case_id: str, body: AssignIn, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Give the case to a member, or back to the unit's queue; return the case."""
    case = await parts.actions.assign(
        case_id, actor, user=body.user, reason=body.reason, version=version_of(if_match)
    )
    return parts.show(case)


@router.post("/cases/{case_id}/merge", response_model=CaseRead, response_model_exclude_unset=True)
async def merge(
    case_id: str, body: MergeIn, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Close the case into another one; return the case it was closed into."""
    case = await parts.actions.merge(
        case_id, actor, into=body.into, reason=body.reason, version=version_of(if_match)
    )
    return parts.show(case)


@router.post("/cases/{case_id}/split", response_model=CaseRead, response_model_exclude_unset=True)
async def split(
    case_id: str, body: SplitIn, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Make one of the case's contacts a case of its own; return the new case."""
    case = await parts.actions.split(
        case_id,
        actor,
        contact_id=body.contact_id,
        reason=body.reason,
        version=version_of(if_match),
    )
    return parts.show(case)


@router.get(
    "/supervisor/overview",
    tags=["supervisor"],
    response_model=OverviewRead,
    response_model_exclude_unset=True,
)
async def overview(actor: Acting, parts: Parts) -> dict[str, Any]:
    """Return each unit's queue and people, and the cases needing attention, most urgent first."""
    found = await workspace.overview(parts.store, actor, org=parts.org, dispatcher=parts.dispatcher)

    def items(key: str) -> list[dict[str, Any]]:
        return [
            parts.show(c, history=False) | {"escalation": workspace.last_escalation(c)}
            for c in found[key]
        ]

    return {
        "units": found["units"],
        "at_risk": items("at_risk"),
        "breached": items("breached"),
        "pending_closures": items("pending_closures"),
    }
