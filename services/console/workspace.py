"""The agent workspace's routes beside the case API: queue counts, the customer panel and
its audited reveal, colleagues, canned responses, the supervisor view.

Unread (``store.workspace.SeenBook``, set on the case list): a case is unread for a user
while its last customer contact is newer than the user's last opening of it.
Canned responses are the organisation's (seeded from ``data/canned.yaml``,
edited by admins, audited); their placeholders (``{case_number}``, ``{agent}``,
``{unit}``, ``{hotline}``, ``{customer}``) are filled by the page from what the
agent already sees.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
import re
from pathlib import Path as FilePath
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from services.console import users
from services.console.clients import CaseId, load_case, privacy_case_view
from services.console.deps import CurrentUser, Parts, Privacy, Routing
from services.console.store import workspace as workspace_store
from shared.api_models.cases import CaseCountsRead, Instant, OverviewRead
from shared.errors import ConfigError, Invalid, NotFound
from shared.org_files import org_path, read_org
from shared.store import Store

CANNED_SEED = FilePath(__file__).parent / "data" / "canned.yaml"
CannedKey = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
PLACEHOLDERS = frozenset({"case_number", "agent", "unit", "hotline", "customer"})
# A phone as an agent types it: digits with spaces, dashes, dots, a leading +.
_PHONE = re.compile(r"^\+?[\d\s\-.()]{9,20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NATIONAL_ID = re.compile(r"^\d[\d\s-]{11,16}$")


class RevealIn(BaseModel):
    """Why the agent needs to see who the customer is (written to privacy's audit)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=5, max_length=500)


class CannedIn(BaseModel):
    """A canned response as an admin writes it."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=120)
    text: str = Field(min_length=1, max_length=3000)
    lang: str = Field(default="th", pattern=r"^(th|en)$")


class PreviousCaseRead(BaseModel):
    """Another case of the same customer, as the customer panel lists it."""

    id: str
    number: str
    status: str
    topic: str | None
    created_at: Instant


class CustomerPanelRead(BaseModel):
    """What the agent may know of the case's customer without a reveal."""

    known: bool = Field(description="whether privacy knows the customer across contacts")
    consent: str = Field(description="granted, withheld or unknown")
    channels: list[str]
    previous_cases: list[PreviousCaseRead] = Field(description="at most 10, newest first")


class RevealRead(BaseModel):
    """Who the customer is, where the agent's role and the consent allow it (audited)."""

    revealed: bool
    consent: str | None
    identity: dict[str, Any] | None


class PersonRead(BaseModel):
    """A colleague to mention or assign."""

    username: str
    role: str
    unit: str | None


class PeopleRead(BaseModel):
    """The active colleagues."""

    items: list[PersonRead]


class CannedRead(BaseModel):
    """A canned response; its placeholders are filled by the page."""

    key: str
    title: str
    text: str
    lang: str | None


class CannedListRead(BaseModel):
    """The organisation's canned responses, the placeholders and the values the page fills."""

    items: list[CannedRead]
    placeholders: list[str]
    values: dict[str, str] = Field(description="placeholder values known to the console")


class CannedChangeRead(BaseModel):
    """Who changed which canned response, how and when."""

    at: Instant
    actor: str
    action: str = Field(description="canned.put or canned.delete")
    key: str


class CannedChangesRead(BaseModel):
    """The latest canned-response changes, newest first."""

    items: list[CannedChangeRead]


def check_placeholders(text: str) -> None:
    """Raise ``Invalid`` if ``text`` names a placeholder the page cannot fill."""
    unknown = sorted(set(PLACEHOLDER.findall(text)) - PLACEHOLDERS)
    if unknown:
        allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
        raise Invalid(f"unknown placeholder {{{unknown[0]}}}; use {allowed}", field="text")


def search_terms(text: str) -> dict[str, str]:
    """Return what a customer search box holds, as privacy's search fields."""
    value = text.strip()
    if _EMAIL.fullmatch(value):
        return {"email": value}
    digits = re.sub(r"\D", "", value)
    if _NATIONAL_ID.fullmatch(value) and len(digits) == 13:
        return {"national_id": digits}
    if _PHONE.fullmatch(value) and 9 <= len(digits) <= 15:
        return {"phone": value}
    return {"name": value}


async def seed_canned(store: Store, org: str) -> None:
    """Load the organisation's shipped canned responses the first time the console starts."""
    if await workspace_store.has_canned(store, org=org):
        return
    seed = yaml.safe_load(CANNED_SEED.read_text(encoding="utf-8")) or {}
    for key, item in (seed.get(org) or seed.get("default") or {}).items():
        check_placeholders(item["text"])
        await workspace_store.seed_canned_one(store, org=org, key=key, item=item)


def hotline_of(org: str) -> str:
    """Return the organisation's hotline for canned responses ("" if its file names none)."""
    try:
        return str(read_org(org_path(org)).get("hotline") or "")
    except ConfigError:
        return ""  # the page leaves {hotline} as written


router = APIRouter(prefix="/api/v1", tags=["workspace"])


@router.get("/cases/counts", response_model=CaseCountsRead, response_model_exclude_unset=True)
async def counts(
    user: CurrentUser,
    routing: Routing,
    unit: Annotated[str | None, Query(min_length=1, max_length=80)] = None,
) -> Any:
    """Count the cases each queue view holds for the caller."""
    params = {"unit": user.unit if user.role == "unit_member" else unit}
    return await routing.call(
        "GET",
        "/internal/v1/cases/counts",
        user=user,
        params={k: v for k, v in params.items() if v},
    )


@router.get("/cases/{case_id}/customer")
async def customer(case_id: CaseId, user: CurrentUser, routing: Routing) -> CustomerPanelRead:
    """Return what the agent may know of the case's customer: consent, channels, other cases."""
    case = await load_case(routing, case_id, user)
    previous: list[dict[str, Any]] = []
    if case.get("subject_ref"):
        page = await routing.call(
            "GET",
            "/internal/v1/cases",
            user=user,
            params={"subject_ref": case["subject_ref"], "per_page": 11},
        )
        previous = [
            {k: item.get(k) for k in ("id", "number", "status", "topic", "created_at")}
            for item in page["items"]
            if item["id"] != case["id"]
        ][:10]
    return CustomerPanelRead.model_validate(
        {
            "known": bool(case.get("subject_ref")),
            "consent": case.get("consent", "unknown"),
            "channels": case.get("channels", []),
            "previous_cases": previous,
        }
    )


@router.post("/cases/{case_id}/reveal")
async def reveal(
    case_id: CaseId, body: RevealIn, user: CurrentUser, routing: Routing, privacy: Privacy
) -> RevealRead:
    """Show who the case's customer is, for the reason given (audited by privacy)."""
    case = await load_case(routing, case_id, user)
    view = await privacy_case_view(privacy, case, user, reason=body.reason)
    identities = [c.get("identity") for c in view.get("contacts", []) if c.get("identity")]
    return RevealRead(
        revealed=bool(view.get("revealed")),
        consent=view.get("consent"),
        identity=identities[-1] if identities else None,
    )


@router.get("/people", tags=["workspace"])
async def people(user: CurrentUser, parts: Parts) -> PeopleRead:
    """List the active colleagues to mention or assign: names, roles and units, nothing else."""
    user.require("agent", "supervisor", "unit_member", "admin")
    found = [
        PersonRead(username=u["username"], role=u["role"], unit=u["unit"])
        for u in await users.list_users(parts.store)
        if u["active"]
    ]
    return PeopleRead(items=found)


@router.get(
    "/supervisor/overview",
    tags=["supervisor"],
    response_model=OverviewRead,
    response_model_exclude_unset=True,
)
async def overview(user: CurrentUser, routing: Routing) -> Any:
    """Return each unit's queue and people, and the cases needing attention."""
    user.require("supervisor", "admin")
    return await routing.call("GET", "/internal/v1/supervisor/overview", user=user)


@router.get("/canned", tags=["canned"])
async def canned(user: CurrentUser, parts: Parts) -> CannedListRead:
    """List the organisation's canned responses and the placeholders the page fills."""
    items = await workspace_store.canned_responses(parts.store, org=parts.org)
    return CannedListRead(
        items=[CannedRead.model_validate(item) for item in items],
        placeholders=sorted(PLACEHOLDERS),
        values={"hotline": parts.hotline},
    )


@router.put("/admin/canned/{key}", tags=["canned"])
async def put_canned(key: CannedKey, body: CannedIn, user: CurrentUser, parts: Parts) -> CannedRead:
    """Write a canned response (admins; audited)."""
    user.require("admin")
    check_placeholders(body.text)
    now = parts.clock.now()
    await workspace_store.save_canned(
        parts.store, org=parts.org, key=key, fields=body.model_dump(), at=now
    )
    await workspace_store.record_canned_change(
        parts.store, actor=user.username, action="canned.put", key=key, at=now
    )
    return CannedRead(key=key, **body.model_dump())


@router.delete("/admin/canned/{key}", tags=["canned"], status_code=204)
async def delete_canned(key: CannedKey, user: CurrentUser, parts: Parts) -> None:
    """Delete a canned response (admins; audited)."""
    user.require("admin")
    if not await workspace_store.delete_canned(parts.store, org=parts.org, key=key):
        raise NotFound(f"no canned response {key}")
    await workspace_store.record_canned_change(
        parts.store, actor=user.username, action="canned.delete", key=key, at=parts.clock.now()
    )


@router.get("/admin/canned-audit", tags=["canned"])
async def canned_audit(user: CurrentUser, parts: Parts) -> CannedChangesRead:
    """List the latest changes to canned responses (admins)."""
    user.require("admin")
    changes = await workspace_store.canned_changes(parts.store)
    return CannedChangesRead(items=[CannedChangeRead.model_validate(c) for c in changes])
