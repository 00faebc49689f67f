"""Routing's internal case API (service-to-service: service token plus acting user)."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import Response
from pydantic import Field

from services.routing.api.deps import Acting, Parts
from services.routing.api.parts import Body, version_of
from services.routing.cases import callbacks, workspace
from services.routing.cases import store as case_store
from services.routing.cases.access import Actor, Can
from services.routing.reports import files as report_files
from services.routing.reports import monthly as reports
from services.routing.reports import periods as report_periods
from shared.api_models.cases import (
    CallbackPage,
    CasePage,
    CaseRead,
    PresenceRead,
    PullRead,
    ReplyQueuedRead,
    UnitRead,
)
from shared.api_models.reports import MonthlyReportRead, PeriodReportRead
from shared.errors import Forbidden, NotFound
from shared.http import service_caller
from shared.kinds import Urgency

# Statistics hold counts and categories only; these roles read them.
REPORT_ROLES = frozenset({"manager", "supervisor", "admin", "system"})

Text = Annotated[str, Field(min_length=1, max_length=5000)]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
TextRef = Annotated[str | None, Field(default=None, min_length=1, max_length=100)]
# Case-list paging: a deeper page would skip past what the store's integers hold (a 500).
MAX_PAGE = 10_000
MAX_PER_PAGE = 200
# A list cursor names one case's sort keys: a few dozen characters.
MAX_CURSOR = 400
# Customers one case list may ask for at once (a name shared by several).
MAX_SUBJECTS = 20
# The files a period's report comes as besides JSON.
REPORT_FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the report as JSON, or as the file ``format`` asks for",
        "content": {media: {} for media in report_files.MEDIA.values()},
    }
}
IfMatch = Annotated[str | None, Header()]


class Empty(Body):
    """No fields."""


class CaseUpdate(Body):
    """A correction of the classification, and/or starting work."""

    category: str | None = None
    topic: str | None = None
    urgency: Urgency | None = None
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


router = APIRouter(prefix="/internal/v1", tags=["cases"], dependencies=[Depends(service_caller)])


@router.get("/cases", response_model=CasePage, response_model_exclude_unset=True)
async def list_cases(
    actor: Acting,
    parts: Parts,
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
    after: Annotated[str | None, Query(min_length=1, max_length=MAX_CURSOR)] = None,
) -> dict[str, Any]:
    """Return a page of the cases in a queue view, filtered, in ``sort`` order."""
    actor.require(Can.READ)
    # The lane holds the view and the unit (a unit member's own, whatever they ask).
    lane = workspace.view_lane(view, actor, unit)
    if lane is None:
        return {
            "items": [],
            "total": 0,
            "total_exact": True,
            "page": page,
            "per_page": per_page,
            "next": None,
        }
    # One customer, or several (comma-separated) a name search found.
    refs = [ref for ref in subject_ref.split(",") if ref][:MAX_SUBJECTS] if subject_ref else None
    filters = case_store.case_filters(
        lane=lane,
        status=status,
        channel=channel,
        topic=topic,
        category=category,
        assignee=assignee,
        urgency=urgency,
        subject_refs=refs,
        q=q,
    )
    # With ``after`` (the ``next`` of the page before) ``page`` only labels the page.
    cases, found = await case_store.list_cases(
        parts.store,
        filters=filters,
        sort=sort,
        skip=0 if after else (page - 1) * per_page,
        limit=per_page,
        after=after,
        now=parts.clock.now(),
    )
    return {
        "items": [parts.show(c, history=False) for c in cases],
        "total": found.total,
        "total_exact": found.exact,
        "page": page,
        "per_page": per_page,
        "next": found.next,
    }


@router.get("/cases/{case_id}", response_model=CaseRead, response_model_exclude_unset=True)
async def get_case(case_id: str, actor: Acting, parts: Parts) -> dict[str, Any]:
    """Return the case with its history."""
    return parts.show(await parts.commands.read(case_id, actor))


@router.post(
    "/cases/{case_id}/acknowledge", response_model=CaseRead, response_model_exclude_unset=True
)
async def acknowledge(
    case_id: str, actor: Acting, parts: Parts, _: Empty | None = None, if_match: IfMatch = None
) -> dict[str, Any]:
    """Acknowledge the case for its unit; return the case."""
    case = await parts.commands.acknowledge(case_id, actor, version=version_of(if_match))
    return parts.show(case)


@router.patch("/cases/{case_id}", response_model=CaseRead, response_model_exclude_unset=True)
async def update(
    case_id: str, body: CaseUpdate, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Correct the case's classification and/or start work on it; return the case."""
    changes = body.model_dump(exclude_none=True)
    case = await parts.commands.update(case_id, actor, changes, version=version_of(if_match))
    return parts.show(case)


@router.post(
    "/cases/{case_id}/transfer", response_model=CaseRead, response_model_exclude_unset=True
)
async def transfer(
    case_id: str, body: TransferIn, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Move the case to another unit; return the case."""
    case = await parts.commands.transfer(
        case_id, actor, unit=body.unit, reason=body.reason, version=version_of(if_match)
    )
    return parts.show(case)


@router.post(
    "/cases/{case_id}/request-info", response_model=CaseRead, response_model_exclude_unset=True
)
async def request_info(
    case_id: str, body: QuestionIn, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Ask the customer a question, pausing the SLA clock; return the case."""
    case = await parts.commands.request_info(
        case_id,
        actor,
        question=body.question,
        version=version_of(if_match),
        text_ref=body.text_ref,
    )
    return parts.show(case)


@router.post(
    "/cases/{case_id}/replies",
    status_code=202,
    response_model=ReplyQueuedRead,
    response_model_exclude_unset=True,
)
async def reply(
    case_id: str, body: ReplyIn, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Hand a reply to the customer to notify; return the request and the case."""
    case, request_id = await parts.commands.reply(
        case_id, actor, text=body.text, version=version_of(if_match), text_ref=body.text_ref
    )
    return {"request_id": request_id, "status": "queued", "case": parts.show(case)}


@router.post("/cases/{case_id}/resolve", response_model=CaseRead, response_model_exclude_unset=True)
async def resolve(
    case_id: str, body: ResolveIn, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Resolve the case with the outcome the customer is told; return the case."""
    case = await parts.commands.resolve(
        case_id,
        actor,
        summary=body.summary,
        version=version_of(if_match),
        text_ref=body.text_ref,
    )
    return parts.show(case)


@router.post("/cases/{case_id}/reopen", response_model=CaseRead, response_model_exclude_unset=True)
async def reopen(
    case_id: str, body: ReopenIn, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Open the case again; return the case."""
    case = await parts.commands.reopen(
        case_id, actor, reason=body.reason, version=version_of(if_match)
    )
    return parts.show(case)


@router.post(
    "/cases/{case_id}/satisfaction", response_model=CaseRead, response_model_exclude_unset=True
)
async def satisfaction(
    case_id: str, body: SatisfactionIn, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Record the customer's rating of the outcome; return the case."""
    case = await parts.commands.rate(
        case_id,
        actor,
        score=body.score,
        comment=body.comment,
        channel=body.channel,
        version=version_of(if_match),
    )
    return parts.show(case)


@router.post(
    "/cases/{case_id}/acknowledge-on-behalf",
    response_model=CaseRead,
    response_model_exclude_unset=True,
)
async def acknowledge_on_behalf(
    case_id: str, body: OnBehalfIn, actor: Acting, parts: Parts, if_match: IfMatch = None
) -> dict[str, Any]:
    """Record the customer's acknowledgement as an agent took it; return the case."""
    case = await parts.commands.acknowledge_on_behalf(
        case_id,
        actor,
        channel=body.channel,
        note=body.note,
        score=body.score,
        version=version_of(if_match),
    )
    return parts.show(case)


@router.post(
    "/cases/{case_id}/certify-closure", response_model=CaseRead, response_model_exclude_unset=True
)
async def certify_closure(
    case_id: str, actor: Acting, parts: Parts, _: Empty | None = None, if_match: IfMatch = None
) -> dict[str, Any]:
    """Certify an acknowledgement taken on the customer's behalf; return the case."""
    return parts.show(await parts.commands.certify(case_id, actor, version=version_of(if_match)))


@router.get(
    "/reports/monthly",
    tags=["reports"],
    response_model=MonthlyReportRead,
    response_model_exclude_unset=True,
)
async def monthly_report(
    actor: Acting,
    parts: Parts,
    year: Annotated[int, Query(ge=2000, le=2200)],
    month: Annotated[int, Query(ge=1, le=12)],
) -> dict[str, Any]:
    """Return a month's statistics (counts and categories, never a customer)."""
    if actor.role not in REPORT_ROLES:
        raise Forbidden(f"role {actor.role} does not read the statistics")
    return await reports.monthly(parts.store, org=parts.org.org, year=year, month=month)


@router.get(
    "/reports/{kind}/{year}/{number}",
    tags=["reports"],
    response_model=PeriodReportRead,
    response_model_exclude_unset=True,
    responses=REPORT_FILES,
)
async def period_report(
    actor: Acting,
    parts: Parts,
    kind: report_periods.Kind,
    year: Annotated[int, Path(ge=2000, le=2200)],
    number: Annotated[int, Path(ge=1, le=12)],
    format: Annotated[Literal["json", "csv", "xlsx", "pdf"], Query()] = "json",
    lang: Annotated[Literal["th", "en"] | None, Query()] = None,
) -> dict[str, Any] | Response:
    """Return a month's or a quarter's report, as JSON or as a CSV, XLSX or PDF file."""
    if actor.role not in REPORT_ROLES:
        raise Forbidden(f"role {actor.role} does not read the reports")
    now = parts.clock.now()
    report = await report_periods.period_report(
        parts.store, org=parts.org.org, kind=kind, year=year, number=number, now=now
    )
    if format == "json":
        return report
    body, name = report_files.render(report, format, lang=lang, now=now)
    return Response(
        body,
        media_type=report_files.MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/units", tags=["units"], response_model=list[UnitRead], response_model_exclude_unset=True
)
async def units(actor: Acting, parts: Parts) -> list[dict[str, Any]]:
    """List the organisation's units as its file declares them."""
    actor.require(Can.READ)
    return [u.model_dump(mode="json") for u in parts.org.units]


@router.post(
    "/units/{unit}/pull", tags=["units"], response_model=PullRead, response_model_exclude_unset=True
)
async def pull(unit: str, actor: Acting, parts: Parts) -> dict[str, Any]:
    """Give the caller the unit's oldest waiting case, if they have room."""
    actor.require(Can.WORK)
    if actor.unit_bound and actor.unit != unit:
        raise NotFound(f"no unit {unit}")
    case = await parts.dispatcher.pull(unit, actor.user, at=parts.clock.now())
    return {"case": parts.show(case) if case else None}


@router.post(
    "/units/{unit}/members/{user}/offline",
    tags=["units"],
    response_model=PresenceRead,
    response_model_exclude_unset=True,
)
async def offline(unit: str, user: str, actor: Acting, parts: Parts) -> dict[str, Any]:
    """Set a member offline in the unit; their unstarted cases go back to the queue."""
    _may_set_presence(actor, unit, user)
    returned = await parts.dispatcher.go_offline(unit, user, at=parts.clock.now(), actor=actor.user)
    return {"unit": unit, "user": user, "online": False, "returned": returned}


@router.post(
    "/units/{unit}/members/{user}/online",
    tags=["units"],
    response_model=PresenceRead,
    response_model_exclude_unset=True,
)
async def online(unit: str, user: str, actor: Acting, parts: Parts) -> dict[str, Any]:
    """Set a member online in the unit; the unit hands out its waiting cases."""
    _may_set_presence(actor, unit, user)
    now = parts.clock.now()
    await parts.dispatcher.set_online(unit, user, online=True, at=now)
    assigned = await parts.dispatcher.fill(unit, at=now)
    return {"unit": unit, "user": user, "online": True, "assigned": assigned}


@router.get(
    "/callbacks",
    tags=["callbacks"],
    response_model=CallbackPage,
    response_model_exclude_unset=True,
)
async def callback_list(
    actor: Acting,
    parts: Parts,
    status: Literal["open", "done"] | None = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """List the callers waiting to be rung back (or those reached), oldest first."""
    actor.require(Can.CALLBACKS)
    items = await callbacks.listing(parts.store, status=status, limit=limit)
    return {"items": items}


def _may_set_presence(actor: Actor, unit: str, user: str) -> None:
    """Let supervisors and admins set anyone's presence, and members their own."""
    if actor.role in ("supervisor", "admin"):
        return
    if actor.user == user and (not actor.unit_bound or actor.unit == unit):
        return
    raise Forbidden(f"{actor.user} may not set {user}'s presence in {unit}")
