"""Routing's internal workspace routes: view counts, notes, assigning, merging, splitting, overview.

Included by ``api.router`` ahead of ``/cases/{case_id}``, so ``/cases/counts``
is not read as a case id.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from pydantic import Field

from services.routing import workspace
from services.routing.access import Actor, Can
from services.routing.api_parts import Body, version_of
from services.routing.dispatch import Dispatcher
from services.routing.domain import Case
from services.routing.org import OrgConfig
from services.routing.workspace_commands import WorkspaceCommands
from shared.runtime import Runtime

Username = Annotated[str, Field(min_length=1, max_length=100)]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
CaseId = Annotated[str, Field(min_length=1, max_length=100)]


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


def router(
    runtime: Runtime,
    *,
    org: OrgConfig,
    acting: Callable[..., Actor],
    show: Callable[..., dict[str, Any]],
    actions: WorkspaceCommands,
    dispatcher: Dispatcher,
) -> APIRouter:
    """Return the workspace routes; the including router adds the prefix and service auth."""
    api = APIRouter(tags=["workspace"])
    ActorDep = Annotated[Actor, Depends(acting)]
    IfMatch = Annotated[str | None, Header()]

    @api.get("/cases/counts")
    async def counts(
        actor: ActorDep, unit: Annotated[str | None, Query(min_length=1, max_length=80)] = None
    ) -> dict[str, int]:
        actor.require(Can.READ)
        return await workspace.counts(runtime.store, actor, unit)

    @api.post("/cases/{case_id}/notes")
    async def note(
        case_id: str, body: NoteIn, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        case = await actions.note(
            case_id,
            actor,
            text=body.text,
            text_ref=body.text_ref,
            mentions=body.mentions,
            version=version_of(if_match),
        )
        return show(case)

    @api.post("/cases/{case_id}/assign")
    async def assign(
        case_id: str, body: AssignIn, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        case = await actions.assign(
            case_id, actor, user=body.user, reason=body.reason, version=version_of(if_match)
        )
        return show(case)

    @api.post("/cases/{case_id}/merge")
    async def merge(
        case_id: str, body: MergeIn, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        case = await actions.merge(
            case_id, actor, into=body.into, reason=body.reason, version=version_of(if_match)
        )
        return show(case)

    @api.post("/cases/{case_id}/split")
    async def split(
        case_id: str, body: SplitIn, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        case = await actions.split(
            case_id,
            actor,
            contact_id=body.contact_id,
            reason=body.reason,
            version=version_of(if_match),
        )
        return show(case)

    @api.get("/supervisor/overview", tags=["supervisor"])
    async def overview(actor: ActorDep) -> dict[str, Any]:
        found = await workspace.overview(runtime.store, actor, org=org, dispatcher=dispatcher)

        def items(cases: list[Case]) -> list[dict[str, Any]]:
            return [
                show(c, history=False) | {"escalation": workspace.last_escalation(c)} for c in cases
            ]

        return {
            "units": found["units"],
            "at_risk": items(found["at_risk"]),
            "breached": items(found["breached"]),
            "pending_closures": items(found["pending_closures"]),
        }

    return api
