"""Cases in the public API: list, view (contacts as the caller may see them), act on them."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query

from services.console import workspace
from services.console.auth import User
from services.console.clients import (
    CaseId,
    ServiceClient,
    case_path,
    load_case,
    privacy_case_view,
)
from services.console.deps import CurrentUser, Parts, Privacy, Routing, Seen
from shared.api_models.cases import CasePage, CaseRead, ReplyQueuedRead
from shared.api_models.reports import MonthlyReportRead
from shared.case_access import ROLES as CASE_ROLES
from shared.case_access import Can
from shared.kinds import Urgency

# Paging bounds, routing's too (``services/routing/api/cases.py``): a deeper page is a 422.
MAX_PAGE = 10_000
MAX_PER_PAGE = 200
Filter = Annotated[str | None, Query(min_length=1, max_length=80)]

# Case actions the console passes to routing; both check the caller's role.
CaseAction = Literal[
    "acknowledge",
    "transfer",
    "request-info",
    "replies",
    "resolve",
    "reopen",
    "satisfaction",
    "acknowledge-on-behalf",
    "certify-closure",
    "notes",
    "assign",
    "merge",
    "split",
]
# What each action asks of the caller's role, as routing checks it (``routing/cases/access.py``).
# The console checks it first, so a refused action writes nothing anywhere, not even
# its staff text to privacy's vault.
ACTION_PERMISSION: dict[str, Can] = {
    "acknowledge": Can.WORK,
    "transfer": Can.WORK,
    "request-info": Can.WORK,
    "replies": Can.WORK,
    "resolve": Can.WORK,
    "reopen": Can.REOPEN,
    "satisfaction": Can.RATE,
    "acknowledge-on-behalf": Can.ON_BEHALF,
    "certify-closure": Can.CERTIFY,
    "notes": Can.WORK,
    "assign": Can.WORK,
    "merge": Can.WORK,
    "split": Can.WORK,
}
# Actions whose text goes to the customer: (body field, staff-text kind). The
# text is vaulted by privacy first; routing gets the masked copy and its ref.
STAFF_TEXT_FIELDS: dict[str, tuple[str, str]] = {
    "replies": ("text", "reply"),
    "resolve": ("summary", "resolution"),
    "request-info": ("question", "question"),
    "notes": ("text", "note"),
}
# Queue views and orders routing knows (``/internal/v1/cases``).
View = Literal["all", "mine", "unassigned", "unit", "at_risk", "breached"]
Sort = Literal[
    "-created_at", "created_at", "-updated_at", "updated_at", "due", "-urgency", "number"
]
# At most this many customers found by a search are listed (their cases, newest first).
MAX_CUSTOMERS = 5
# Where staff text sits in routing's case view: the timeline entry's field.
_TIMELINE_TEXT = {"case.info_requested": "question", "case.resolved": "summary"}


async def visible_contacts(
    privacy: ServiceClient, case: dict[str, Any], user: User
) -> list[dict[str, Any]]:
    """Return the case's contacts as ``user``'s role may see them (reveals are audited)."""
    contacts: list[dict[str, Any]] = case.get("contacts", [])
    if not contacts:
        return contacts
    view = await privacy_case_view(privacy, case, user, reason=f"viewing case {case.get('number')}")
    seen = {item["id"]: item for item in view.get("contacts", [])}
    merged = []
    for contact in contacts:
        shown = seen.get(contact["id"], {})
        merged.append(
            {
                **contact,
                "text": shown.get("text", contact["text"]),
                "subject": shown.get("subject", contact.get("subject")),
                "identity": shown.get("identity"),
                "revealed": bool(shown.get("revealed")),
            }
        )
    return merged


async def vault_staff_text(
    privacy: ServiceClient, case: dict[str, Any], action: str, body: dict[str, Any], user: User
) -> dict[str, Any]:
    """Return ``body`` with its staff text replaced by privacy's masked copy and reference."""
    field, kind = STAFF_TEXT_FIELDS.get(action, ("", ""))
    text = body.get(field) if field else None
    if not isinstance(text, str) or not text.strip():
        return body  # nothing to vault: routing refuses or ignores it as before
    vaulted = await privacy.call(
        "POST",
        "/internal/v1/staff-texts",
        user=user,
        json={
            "case_id": case["id"],
            "subject_ref": case.get("subject_ref"),
            "kind": kind,
            "text": text[:5000],
        },
    )
    return {**body, field: vaulted["masked"], "text_ref": vaulted["text_ref"]}


async def visible_staff_texts(privacy: ServiceClient, case: dict[str, Any], user: User) -> None:
    """Show the case's staff texts clear where ``user`` may see them (reveals are audited)."""
    places: list[tuple[dict[str, Any], str]] = []
    for entry in case.get("timeline") or []:
        detail = entry.get("detail") or {}
        field = _TIMELINE_TEXT.get(entry.get("type", ""), "text")
        if detail.get("text_ref") and field in detail:
            places.append((detail, field))
    resolution = case.get("resolution") or {}
    if resolution.get("text_ref"):
        places.append((resolution, "summary"))
    if not places:
        return
    view = await privacy.call(
        "POST",
        "/internal/v1/staff-texts/reveal",
        user=user,
        json={
            "case_id": case["id"],
            "consent": case.get("consent", "unknown"),
            "refs": sorted({str(holder["text_ref"]) for holder, _ in places}),
            "purpose": "handle_case",
            "reason": f"viewing case {case.get('number')}",
        },
    )
    texts = view.get("texts", {})
    for holder, field in places:
        shown = texts.get(holder["text_ref"], {})
        holder[field] = shown.get("text", holder[field])
        holder["revealed"] = bool(shown.get("revealed"))


router = APIRouter(prefix="/api/v1", tags=["cases"])
# What a case action answers: the case, or (a reply) the reply queued and the case.
CaseActionRead = ReplyQueuedRead | CaseRead


@router.get("/cases", response_model=CasePage, response_model_exclude_unset=True)
async def list_cases(
    user: CurrentUser,
    routing: Routing,
    privacy: Privacy,
    seen: Seen,
    status: Filter = None,
    channel: Filter = None,
    topic: Filter = None,
    unit: Filter = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    view: View | None = None,
    sort: Sort | None = None,
    category: Filter = None,
    urgency: Urgency | None = None,
    assignee: Filter = None,
    customer: Annotated[str | None, Query(min_length=2, max_length=120)] = None,
    after: Annotated[
        str | None, Query(min_length=1, max_length=400, pattern=r"^[A-Za-z0-9_-]+$")
    ] = None,
) -> Any:
    """List the cases the caller may see, filtered and paged (``next`` is the cursor)."""
    # Only the parameters declared here reach routing; anything else is dropped.
    if user.role == "unit_member":
        unit = user.unit  # a unit sees its own cases only
    params = {
        key: value
        for key, value in {
            "status": status,
            "channel": channel,
            "topic": topic,
            "unit": unit,
            "q": q,
            "page": page,
            "per_page": per_page,
            "view": view,
            "sort": sort,
            "category": category,
            "urgency": urgency,
            "assignee": assignee,
            "after": after,
        }.items()
        if value is not None
    }
    if customer:
        refs = await customers(privacy, user, customer)
        if not refs:
            return {"items": [], "total": 0, "page": page, "per_page": per_page}
        params["subject_ref"] = ",".join(refs)
    answer = await routing.call("GET", "/internal/v1/cases", user=user, params=params)
    await seen.mark_unread(user.username, answer["items"])
    return answer


async def customers(privacy: ServiceClient, user: User, text: str) -> list[str]:
    """Return the customers privacy knows by what was typed (audited there)."""
    found = await privacy.call(
        "POST",
        "/internal/v1/subjects/search",
        user=user,
        json={**workspace.search_terms(text), "reason": "customer search in the queue"},
    )
    return list(found["subject_refs"])[:MAX_CUSTOMERS]


@router.get(
    "/reports/monthly",
    tags=["reports"],
    response_model=MonthlyReportRead,
    response_model_exclude_unset=True,
)
async def monthly_report(
    user: CurrentUser,
    routing: Routing,
    year: Annotated[int, Query(ge=2000, le=2200)],
    month: Annotated[int, Query(ge=1, le=12)],
) -> Any:
    """Return a month's statistics (counts and categories only)."""
    user.require("manager", "supervisor", "admin")
    return await routing.call(
        "GET", "/internal/v1/reports/monthly", user=user, params={"year": year, "month": month}
    )


@router.get("/cases/{case_id}", response_model=CaseRead, response_model_exclude_unset=True)
async def get_case(
    case_id: CaseId, user: CurrentUser, routing: Routing, privacy: Privacy, seen: Seen
) -> Any:
    """Return one case with its history, its texts as the caller may see them (audited)."""
    case = await load_case(routing, case_id, user)
    case["contacts"] = await visible_contacts(privacy, case, user)
    await visible_staff_texts(privacy, case, user)
    await seen.mark_seen(user.username, case["id"])
    return case


@router.patch("/cases/{case_id}", response_model=CaseRead, response_model_exclude_unset=True)
async def update_case(
    case_id: CaseId,
    user: CurrentUser,
    routing: Routing,
    changes: Annotated[dict[str, Any], Body()],
) -> Any:
    """Correct the case's classification, or start work on it."""
    user.require(*CASE_ROLES[Can.WORK])
    case = await load_case(routing, case_id, user)
    return await routing.call("PATCH", case_path(case["id"]), user=user, json=changes)


@router.post(
    "/cases/{case_id}/{action}", response_model=CaseActionRead, response_model_exclude_unset=True
)
async def act(
    case_id: CaseId,
    action: CaseAction,
    user: CurrentUser,
    routing: Routing,
    privacy: Privacy,
    parts: Parts,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> Any:
    """Act on the case (``replies`` answers the reply queued and the case; others the case)."""
    user.require(*CASE_ROLES[ACTION_PERMISSION[action]])
    case = await load_case(routing, case_id, user)
    sent = await vault_staff_text(privacy, case, action, body or {}, user)
    answer = await routing.call("POST", case_path(case["id"], action), user=user, json=sent)
    mentions = sent.get("mentions") if action == "notes" else None
    if isinstance(mentions, list) and mentions:
        named = [m for m in mentions if isinstance(m, str) and m != user.username]
        await parts.hub.mention(
            named,
            {
                "type": "mention",
                "by": user.username,
                "case": {"id": case["id"], "number": case.get("number")},
            },
        )
    return answer
