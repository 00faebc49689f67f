"""Routing's internal case API (service-to-service: service token plus acting user)."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import Response
from pydantic import Field

from services.routing import (
    callbacks,
    report_files,
    report_periods,
    reports,
    workspace,
    workspace_api,
)
from services.routing import store as case_store
from services.routing.access import Actor, Can
from services.routing.api_parts import Body, version_of
from services.routing.dispatch import Dispatcher
from services.routing.domain import Case
from services.routing.handlers import CaseCommands
from services.routing.org import OrgConfig
from services.routing.views import case_view
from services.routing.workspace_commands import WorkspaceCommands
from shared.errors import Forbidden, NotFound
from shared.http import ServiceCaller, service_auth_for
from shared.runtime import Runtime

# Statistics hold counts and categories only; these roles read them.
REPORT_ROLES = frozenset({"manager", "supervisor", "admin", "system"})

Text = Annotated[str, Field(min_length=1, max_length=5000)]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
TextRef = Annotated[str | None, Field(default=None, min_length=1, max_length=100)]
# Case-list paging: a deeper page would skip past what the store's integers hold (a 500).
MAX_PAGE = 10_000
MAX_PER_PAGE = 200
# Customers one case list may ask for at once (a name shared by several).
MAX_SUBJECTS = 20


class Empty(Body):
    """No fields."""


class CaseUpdate(Body):
    """A correction of the classification, and/or starting work."""

    category: str | None = None
    topic: str | None = None
    urgency: Literal["low", "normal", "high", "urgent"] | None = None
    status: Literal["in_progress"] | None = None


class TransferIn(Body):
    """Where the case goes and why."""

    unit: str = Field(min_length=1)
    reason: Reason


class QuestionIn(Body):
    """What to ask the customer."""

    question: Text
    # Set when privacy vaulted the clear text: ``question`` is then its masked copy.
    text_ref: TextRef = None


class ReplyIn(Body):
    """What to tell the customer."""

    text: Text
    text_ref: TextRef = None


class ResolveIn(Body):
    """The outcome the customer is told."""

    summary: Text
    text_ref: TextRef = None


class ReopenIn(Body):
    """Why the case is open again."""

    reason: Reason


class SatisfactionIn(Body):
    """The customer's rating of the outcome."""

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)
    channel: str = Field(min_length=1, max_length=40)


class OnBehalfIn(Body):
    """The customer's acknowledgement as an agent took it."""

    channel: Literal["phone", "in_person", "letter"]
    note: Reason
    score: int | None = Field(default=None, ge=1, le=5)


def router(
    runtime: Runtime, *, org: OrgConfig, commands: CaseCommands, dispatcher: Dispatcher
) -> APIRouter:
    """Return routing's internal case, unit and callback routes."""
    caller = Depends(service_auth_for(runtime.settings, "routing"))
    api = APIRouter(prefix="/internal/v1", tags=["cases"], dependencies=[caller])

    def acting(who: Annotated[ServiceCaller, caller]) -> Actor:
        return Actor(user=who.user, role=who.role, unit=who.unit)

    ActorDep = Annotated[Actor, Depends(acting)]
    IfMatch = Annotated[str | None, Header()]

    def show(case: Case, *, history: bool = True) -> dict[str, Any]:
        return case_view(case, sla=commands.sla, now=runtime.clock.now(), history=history)

    actions = WorkspaceCommands(runtime, org=org, commands=commands, dispatcher=dispatcher)
    # First, so that /cases/counts is matched before /cases/{case_id}.
    api.include_router(
        workspace_api.router(
            runtime, org=org, acting=acting, show=show, actions=actions, dispatcher=dispatcher
        )
    )

    @api.get("/cases")
    async def list_cases(
        actor: ActorDep,
        view: workspace.View = "all",
        sort: workspace.Sort = "-created_at",
        status: str | None = None,
        channel: str | None = None,
        topic: str | None = None,
        category: str | None = None,
        subject_ref: str | None = None,
        unit: str | None = None,
        assignee: str | None = None,
        urgency: str | None = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
        per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    ) -> dict[str, Any]:
        actor.require(Can.READ)
        # The lane holds the view and the unit (a unit member's own, whatever they ask).
        lane = workspace.view_lane(view, actor, unit)
        if lane is None:
            return {"items": [], "total": 0, "page": page, "per_page": per_page}
        filters: dict[str, Any] = {"lanes": lane}
        for field, value in (
            ("status", status),
            ("channels", channel),
            ("topic", topic),
            ("category", category),
            ("assignee", assignee),
            ("urgency", urgency),
        ):
            if value:
                filters[field] = value
        if subject_ref:
            # One customer, or several (comma-separated) a name search found.
            refs = [ref for ref in subject_ref.split(",") if ref][:MAX_SUBJECTS]
            filters["subject_ref"] = refs[0] if len(refs) == 1 else {"$in": refs}
        if q:
            pattern = {"$regex": re.escape(q), "$options": "i"}
            filters["$or"] = [{"number": pattern}, {"contacts.text": pattern}]
        cases, total = await case_store.list_cases(
            runtime.store,
            filters=filters,
            sort=workspace.SORTS[sort],
            skip=(page - 1) * per_page,
            limit=per_page,
            now=runtime.clock.now(),
        )
        return {
            "items": [show(c, history=False) for c in cases],
            "total": total,
            "page": page,
            "per_page": per_page,
        }

    @api.get("/cases/{case_id}")
    async def get_case(case_id: str, actor: ActorDep) -> dict[str, Any]:
        return show(await commands.read(case_id, actor))

    @api.post("/cases/{case_id}/acknowledge")
    async def acknowledge(
        case_id: str, actor: ActorDep, _: Empty | None = None, if_match: IfMatch = None
    ) -> dict[str, Any]:
        return show(await commands.acknowledge(case_id, actor, version=version_of(if_match)))

    @api.patch("/cases/{case_id}")
    async def update(
        case_id: str, body: CaseUpdate, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        changes = body.model_dump(exclude_none=True)
        return show(await commands.update(case_id, actor, changes, version=version_of(if_match)))

    @api.post("/cases/{case_id}/transfer")
    async def transfer(
        case_id: str, body: TransferIn, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        case = await commands.transfer(
            case_id, actor, unit=body.unit, reason=body.reason, version=version_of(if_match)
        )
        return show(case)

    @api.post("/cases/{case_id}/request-info")
    async def request_info(
        case_id: str, body: QuestionIn, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        case = await commands.request_info(
            case_id,
            actor,
            question=body.question,
            version=version_of(if_match),
            text_ref=body.text_ref,
        )
        return show(case)

    @api.post("/cases/{case_id}/replies", status_code=202)
    async def reply(
        case_id: str, body: ReplyIn, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        case, request_id = await commands.reply(
            case_id, actor, text=body.text, version=version_of(if_match), text_ref=body.text_ref
        )
        return {"request_id": request_id, "status": "queued", "case": show(case)}

    @api.post("/cases/{case_id}/resolve")
    async def resolve(
        case_id: str, body: ResolveIn, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        case = await commands.resolve(
            case_id,
            actor,
            summary=body.summary,
            version=version_of(if_match),
            text_ref=body.text_ref,
        )
        return show(case)

    @api.post("/cases/{case_id}/reopen")
    async def reopen(
        case_id: str, body: ReopenIn, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        case = await commands.reopen(
            case_id, actor, reason=body.reason, version=version_of(if_match)
        )
        return show(case)

    @api.post("/cases/{case_id}/satisfaction")
    async def satisfaction(
        case_id: str, body: SatisfactionIn, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        case = await commands.rate(
            case_id,
            actor,
            score=body.score,
            comment=body.comment,
            channel=body.channel,
            version=version_of(if_match),
        )
        return show(case)

    @api.post("/cases/{case_id}/acknowledge-on-behalf")
    async def acknowledge_on_behalf(
        case_id: str, body: OnBehalfIn, actor: ActorDep, if_match: IfMatch = None
    ) -> dict[str, Any]:
        case = await commands.acknowledge_on_behalf(
            case_id,
            actor,
            channel=body.channel,
            note=body.note,
            score=body.score,
            version=version_of(if_match),
        )
        return show(case)

    @api.post("/cases/{case_id}/certify-closure")
    async def certify_closure(
        case_id: str, actor: ActorDep, _: Empty | None = None, if_match: IfMatch = None
    ) -> dict[str, Any]:
        return show(await commands.certify(case_id, actor, version=version_of(if_match)))

    @api.get("/reports/monthly", tags=["reports"])
    async def monthly_report(
        actor: ActorDep,
        year: Annotated[int, Query(ge=2000, le=2200)],
        month: Annotated[int, Query(ge=1, le=12)],
    ) -> dict[str, Any]:
        if actor.role not in REPORT_ROLES:
            raise Forbidden(f"role {actor.role} does not read the statistics")
        return await reports.monthly(runtime.store, org=org.org, year=year, month=month)

    @api.get("/reports/{kind}/{year}/{number}", tags=["reports"])
    async def period_report(
        actor: ActorDep,
        kind: report_periods.Kind,
        year: Annotated[int, Path(ge=2000, le=2200)],
        number: Annotated[int, Path(ge=1, le=12)],
        format: Annotated[Literal["json", "csv", "xlsx", "pdf"], Query()] = "json",
        lang: Annotated[Literal["th", "en"] | None, Query()] = None,
    ) -> Any:
        if actor.role not in REPORT_ROLES:
            raise Forbidden(f"role {actor.role} does not read the reports")
        now = runtime.clock.now()
        report = await report_periods.period_report(
            runtime.store, org=org.org, kind=kind, year=year, number=number, now=now
        )
        if format == "json":
            return report
        body, name = report_files.render(report, format, lang=lang, now=now)
        return Response(
            body,
            media_type=report_files.MEDIA[format],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @api.get("/units", tags=["units"])
    async def units(actor: ActorDep) -> list[dict[str, Any]]:
        actor.require(Can.READ)
        return [u.model_dump(mode="json") for u in org.units]

    @api.post("/units/{unit}/pull", tags=["units"])
    async def pull(unit: str, actor: ActorDep) -> dict[str, Any]:
        actor.require(Can.WORK)
        if actor.unit_bound and actor.unit != unit:
            raise NotFound(f"no unit {unit}")
        case = await dispatcher.pull(unit, actor.user, at=runtime.clock.now())
        return {"case": show(case) if case else None}

    @api.post("/units/{unit}/members/{user}/offline", tags=["units"])
    async def offline(unit: str, user: str, actor: ActorDep) -> dict[str, Any]:
        _may_set_presence(actor, unit, user)
        returned = await dispatcher.go_offline(unit, user, at=runtime.clock.now(), actor=actor.user)
        return {"unit": unit, "user": user, "online": False, "returned": returned}

    @api.post("/units/{unit}/members/{user}/online", tags=["units"])
    async def online(unit: str, user: str, actor: ActorDep) -> dict[str, Any]:
        _may_set_presence(actor, unit, user)
        now = runtime.clock.now()
        await dispatcher.set_online(unit, user, online=True, at=now)
        assigned = await dispatcher.fill(unit, at=now)
        return {"unit": unit, "user": user, "online": True, "assigned": assigned}

    @api.get("/callbacks", tags=["callbacks"])
    async def callback_list(
        actor: ActorDep,
        status: Literal["open", "done"] | None = "open",
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        actor.require(Can.CALLBACKS)
        items = await callbacks.listing(runtime.store, status=status, limit=limit)
        return {"items": items}

    return api


def _may_set_presence(actor: Actor, unit: str, user: str) -> None:
    """Let supervisors and admins set anyone's presence, and members their own."""
    if actor.role in ("supervisor", "admin"):
        return
    if actor.user == user and (not actor.unit_bound or actor.unit == unit):
        return
    raise Forbidden(f"{actor.user} may not set {user}'s presence in {unit}")
