"""The agent workspace's routes beside the case API: queue counts, unread markers, the
customer panel and its audited reveal, colleagues, canned responses, the supervisor view.

Unread: a case is unread for a user while its last customer contact is newer
than the user's last opening of it (``case_seen``). Canned responses are the
organisation's (seeded from ``data/canned.yaml``, edited by admins, audited);
their placeholders (``{case_number}``, ``{agent}``, ``{unit}``, ``{hotline}``,
``{customer}``) are filled by the page from what the agent already sees.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from pymongo import IndexModel

from services.console import users
from services.console.auth import User
from services.console.clients import (
    CaseId,
    ServiceClient,
    load_case,
    privacy_case_view,
)
from shared.clock import Clock
from shared.errors import ConfigError, Invalid, NotFound
from shared.org_files import org_path, read_org
from shared.runtime import Runtime
from shared.store import IndexPlan, Store

SEEN = "case_seen"
CANNED = "canned_responses"
CANNED_AUDIT = "canned_audit"
INDEXES: IndexPlan = {SEEN: [IndexModel([("user", 1), ("case_id", 1)], unique=True)]}
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


class SeenBook:
    """When each user last opened each case: the unread markers of the queue."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store, self._clock = store, clock

    async def mark_seen(self, user: str, case_id: str) -> None:
        """Record that ``user`` opened the case now."""
        await self._store[SEEN].update_one(
            {"user": user, "case_id": case_id}, {"$set": {"at": self._clock.now()}}, upsert=True
        )

    async def mark_unread(self, user: str, items: Sequence[dict[str, Any]]) -> None:
        """Set ``unread`` on each case: a customer contact newer than the user's last look."""
        ids = [item["id"] for item in items]
        cursor = self._store[SEEN].find({"user": user, "case_id": {"$in": ids}})
        seen = {doc["case_id"]: _aware(doc["at"]) async for doc in cursor}
        for item in items:
            at = seen.get(item["id"])
            last = item.get("last_contact_at")
            item["unread"] = at is None or (last is not None and datetime.fromisoformat(last) > at)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def seed_canned(store: Store, org: str) -> None:
    """Load the organisation's shipped canned responses the first time the console starts."""
    if await store[CANNED].find_one({"org": org}):
        return
    seed = yaml.safe_load(CANNED_SEED.read_text(encoding="utf-8")) or {}
    for key, item in (seed.get(org) or seed.get("default") or {}).items():
        check_placeholders(item["text"])
        await store[CANNED].update_one(
            {"_id": f"{org}:{key}"},
            {"$setOnInsert": {"org": org, "key": key, **item}},
            upsert=True,
        )


def router(
    runtime: Runtime,
    *,
    current_user: Callable[..., Any],
    routing: ServiceClient,
    privacy: ServiceClient,
) -> APIRouter:
    """Return the workspace routes (registered before the case routes: ``/cases/counts``)."""
    api = APIRouter(prefix="/api/v1", tags=["workspace"])
    CurrentUser = Annotated[User, Depends(current_user)]
    store = runtime.store
    org = runtime.settings.org
    try:
        hotline = str(read_org(org_path(org)).get("hotline") or "")
    except ConfigError:
        hotline = ""  # the page leaves {hotline} as written

    async def load(case_id: str, user: User) -> dict[str, Any]:
        return await load_case(routing, case_id, user)

    @api.get("/cases/counts")
    async def counts(
        user: CurrentUser, unit: Annotated[str | None, Query(min_length=1, max_length=80)] = None
    ) -> Any:
        params = {"unit": user.unit if user.role == "unit_member" else unit}
        return await routing.call(
            "GET",
            "/internal/v1/cases/counts",
            user=user,
            params={k: v for k, v in params.items() if v},
        )

    @api.get("/cases/{case_id}/customer")
    async def customer(case_id: CaseId, user: CurrentUser) -> Any:
        case = await load(case_id, user)
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
        return {
            "known": bool(case.get("subject_ref")),
            "consent": case.get("consent", "unknown"),
            "channels": case.get("channels", []),
            "previous_cases": previous,
        }

    @api.post("/cases/{case_id}/reveal")
    async def reveal(case_id: CaseId, body: RevealIn, user: CurrentUser) -> Any:
        case = await load(case_id, user)
        view = await privacy_case_view(privacy, case, user, reason=body.reason)
        identities = [c.get("identity") for c in view.get("contacts", []) if c.get("identity")]
        return {
            "revealed": bool(view.get("revealed")),
            "consent": view.get("consent"),
            "identity": identities[-1] if identities else None,
        }

    @api.get("/people", tags=["workspace"])
    async def people(user: CurrentUser) -> Any:
        # Colleagues to mention or assign: names, roles and units, nothing else.
        user.require("agent", "supervisor", "unit_member", "admin")
        found = [
            {"username": u["username"], "role": u["role"], "unit": u["unit"]}
            for u in await users.list_users(store)
            if u["active"]
        ]
        return {"items": found}

    @api.get("/supervisor/overview", tags=["supervisor"])
    async def overview(user: CurrentUser) -> Any:
        user.require("supervisor", "admin")
        return await routing.call("GET", "/internal/v1/supervisor/overview", user=user)

    @api.get("/canned", tags=["canned"])
    async def canned(user: CurrentUser) -> Any:
        cursor = store[CANNED].find({"org": org}).sort("key", 1)
        return {
            "items": [
                {"key": d["key"], "title": d["title"], "text": d["text"], "lang": d.get("lang")}
                async for d in cursor
            ],
            "placeholders": sorted(PLACEHOLDERS),
            "values": {"hotline": hotline},
        }

    @api.put("/admin/canned/{key}", tags=["canned"])
    async def put_canned(key: CannedKey, body: CannedIn, user: CurrentUser) -> Any:
        user.require("admin")
        check_placeholders(body.text)
        now = runtime.clock.now()
        await store[CANNED].update_one(
            {"_id": f"{org}:{key}"},
            {"$set": {"org": org, "key": key, **body.model_dump(), "updated_at": now}},
            upsert=True,
        )
        await _audit(store, user, "canned.put", key, now)
        return {"key": key, **body.model_dump()}

    @api.delete("/admin/canned/{key}", tags=["canned"], status_code=204)
    async def delete_canned(key: CannedKey, user: CurrentUser) -> None:
        user.require("admin")
        result = await store[CANNED].delete_one({"_id": f"{org}:{key}"})
        if not result.deleted_count:
            raise NotFound(f"no canned response {key}")
        await _audit(store, user, "canned.delete", key, runtime.clock.now())

    @api.get("/admin/canned-audit", tags=["canned"])
    async def canned_audit(user: CurrentUser) -> Any:
        user.require("admin")
        cursor = store[CANNED_AUDIT].find({}, {"_id": 0}).sort("at", -1).limit(200)
        return {"items": [{**d, "at": d["at"].isoformat()} async for d in cursor]}

    @api.get("/admin/rules", tags=["admin"])
    async def rules(user: CurrentUser) -> Any:
        user.require("admin")
        return await routing.call("GET", "/internal/v1/admin/rules", user=user)

    @api.put("/admin/rules", tags=["admin"])
    async def put_rules(user: CurrentUser, body: Annotated[dict[str, Any], Body()]) -> Any:
        user.require("admin")
        return await routing.call("PUT", "/internal/v1/admin/rules", user=user, json=body)

    @api.delete("/admin/rules", tags=["admin"])
    async def revert_rules(user: CurrentUser) -> Any:
        user.require("admin")
        return await routing.call("DELETE", "/internal/v1/admin/rules", user=user)

    @api.get("/admin/sla-policies", tags=["admin"])
    async def sla_policies(user: CurrentUser) -> Any:
        user.require("admin")
        return await routing.call("GET", "/internal/v1/admin/sla-policies", user=user)

    async def routing_admin(
        method: str, path: str, user: User, *, request: Request | None, limit: int | None
    ) -> Any:
        # Routing's run-time administration, as it is: routing validates, applies and audits.
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

    Limit = Annotated[int | None, Query(ge=1, le=500)]

    @api.get("/admin/routing/{path:path}", tags=["admin"])
    async def routing_admin_read(path: str, user: CurrentUser, limit: Limit = None) -> Any:
        return await routing_admin("GET", path, user, request=None, limit=limit)

    @api.put("/admin/routing/{path:path}", tags=["admin"])
    async def routing_admin_change(
        path: str,
        user: CurrentUser,
        request: Request,
        _: Annotated[dict[str, Any] | None, Body(alias="body")] = None,
    ) -> Any:
        return await routing_admin("PUT", path, user, request=request, limit=None)

    @api.delete("/admin/routing/{path:path}", tags=["admin"])
    async def routing_admin_revert(path: str, user: CurrentUser) -> Any:
        return await routing_admin("DELETE", path, user, request=None, limit=None)

    return api


async def _audit(store: Store, user: User, action: str, key: str, at: datetime) -> None:
    await store[CANNED_AUDIT].insert_one(
        {"at": at, "actor": user.username, "action": action, "key": key}
    )
