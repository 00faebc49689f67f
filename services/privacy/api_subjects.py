"""Privacy's routes for the data protection officer: find, export, erase, and the audit log."""

# Annotations stay evaluated (no postponed annotations): FastAPI resolves the
# routes' Annotated parameters when it builds them.
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from services.privacy import store as pstore
from services.privacy.audit import AuditAction, verify_chain
from services.privacy.deps import Parts
from services.privacy.identifiers import IdentifierKind
from services.privacy.roles import AUDIT_READERS, DPO, STAFF_WRITERS, require_role
from shared.api_models.privacy import (
    AuditPage,
    AuditVerifyRead,
    ErasureRead,
    ExportRead,
    LookupRead,
    SearchRead,
)
from shared.errors import Invalid
from shared.http import Caller


class RequestIn(BaseModel):
    """Why the officer makes a request; written to the audit log."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class LookupIn(RequestIn):
    """Identifiers the customer gave the officer; any one is enough."""

    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    national_id: str | None = Field(default=None, max_length=40)
    line_user_id: str | None = Field(default=None, max_length=64)
    app_user_id: str | None = Field(default=None, max_length=128)

    def identifiers(self) -> dict[IdentifierKind, str]:
        """Return the identifiers given, by kind."""
        given: dict[IdentifierKind, str | None] = {
            "phone": self.phone,
            "email": self.email,
            "national_id": self.national_id,
            "line_user_id": self.line_user_id,
            "app_user_id": self.app_user_id,
        }
        return {kind: value for kind, value in given.items() if value}


class SearchIn(RequestIn):
    """What an agent typed to find a customer's cases: identifiers and/or a name."""

    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    national_id: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=120)


router = APIRouter()


@router.post("/subjects/lookup", response_model=LookupRead)
async def lookup(body: LookupIn, who: Caller, parts: Parts) -> dict[str, Any]:
    """Return the customer the officer's identifiers point at (audited)."""
    require_role(who.role, DPO, to="look customers up")
    return await parts.rights.lookup(
        body.identifiers(), reason=body.reason, actor=who.user, role=who.role
    )


@router.post("/subjects/search", response_model=SearchRead)
async def search(body: SearchIn, who: Caller, parts: Parts) -> dict[str, Any]:
    """Return the customers an agent's identifiers or name find (audited, no identity)."""
    require_role(who.role, STAFF_WRITERS, to="search customers")
    given: dict[IdentifierKind, str | None] = {
        "phone": body.phone,
        "email": body.email,
        "national_id": body.national_id,
    }
    identifiers = {kind: value for kind, value in given.items() if value}
    if not identifiers and not body.name:
        raise Invalid("give a phone, email, national ID or name", field="body")
    return await parts.rights.search(
        identifiers, body.name, reason=body.reason, actor=who.user, role=who.role
    )


@router.post("/subjects/{subject_ref}/export", response_model=ExportRead)
async def export(subject_ref: str, body: RequestIn, who: Caller, parts: Parts) -> dict[str, Any]:
    """Return everything privacy holds about the customer, in clear (audited)."""
    require_role(who.role, DPO, to="export a customer's data")
    return await parts.rights.export(subject_ref, reason=body.reason, actor=who.user, role=who.role)


@router.post("/subjects/{subject_ref}/erase", response_model=ErasureRead)
async def erase(subject_ref: str, body: RequestIn, who: Caller, parts: Parts) -> dict[str, Any]:
    """Erase the customer's data: their key, identity and blind indexes (audited)."""
    require_role(who.role, DPO, to="erase a customer's data")
    return await parts.rights.erase(subject_ref, reason=body.reason, actor=who.user, role=who.role)


@router.get("/audit", response_model=AuditPage)
async def audit(
    who: Caller,
    parts: Parts,
    subject_ref: str | None = None,
    case_id: str | None = None,
    action: AuditAction | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Return the latest audit entries, filtered by customer, case or action."""
    require_role(who.role, AUDIT_READERS, to="read the audit log")
    entries = await pstore.audit_entries(
        parts.store, last=limit, subject_ref=subject_ref, case_id=case_id, action=action
    )
    return {"items": [e.model_dump(mode="json") for e in entries]}


@router.get("/audit/verify", response_model=AuditVerifyRead)
async def verify(who: Caller, parts: Parts) -> dict[str, Any]:
    """Check the whole audit chain; say where it first breaks, if it does."""
    require_role(who.role, AUDIT_READERS, to="verify the audit log")
    result = verify_chain(await pstore.audit_entries(parts.store))
    return {
        "ok": result.ok,
        "checked": result.checked,
        "first_bad_seq": result.first_bad_seq,
        "reason": result.reason,
    }
