"""Privacy's internal API: contacts and cases as the caller's role may see them, reply targets.

Consent routes are in ``api_consent``, data-subject requests and the audit log
in ``api_subjects``; ``router`` puts them together under ``/internal/v1``.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from services.privacy import api_consent, api_staff_texts, api_subjects
from services.privacy.consent_book import ConsentBook
from services.privacy.reveal import Revealer, RevealPurpose
from services.privacy.rights import Rights
from services.privacy.roles import NOTIFY, require_role
from services.privacy.staff_texts import StaffTexts
from shared.http import ServiceCaller, service_auth
from shared.messages import Consent
from shared.store import Store


class CaseViewIn(BaseModel):
    """Which case's contacts to show, under which consent, and why."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=100)
    consent: Consent = "unknown"
    contact_ids: list[str] = Field(min_length=1, max_length=500)
    purpose: RevealPurpose = "handle_case"
    reason: str = Field(default="", max_length=500)
    # The case's own customer as routing knows it: only their consent counts.
    subject_ref: str | None = Field(default=None, max_length=100)


def router(
    *,
    token: str,
    acting_key: str,
    store: Store,
    revealer: Revealer,
    consents: ConsentBook,
    rights: Rights,
    staff_texts: StaffTexts,
) -> APIRouter:
    """Return all of privacy's internal routes."""
    caller = Depends(service_auth(token, acting_key=acting_key, audience="privacy"))
    api = APIRouter(prefix="/internal/v1", tags=["privacy"], dependencies=[caller])
    api.include_router(_reveal_routes(caller, revealer))
    api.include_router(api_consent.router(caller, consents))
    api.include_router(api_subjects.router(caller, rights, store))
    api.include_router(api_staff_texts.router(caller, staff_texts))
    return api


def _reveal_routes(caller: Any, revealer: Revealer) -> APIRouter:
    api = APIRouter()
    Caller = Annotated[ServiceCaller, caller]

    @api.get("/contacts/{contact_id}")
    async def contact(
        contact_id: str,
        who: Caller,
        purpose: RevealPurpose = "handle_case",
        reason: Annotated[str, Query(max_length=500)] = "",
        case_id: str | None = None,
    ) -> dict[str, Any]:
        return await revealer.contact_view(
            contact_id,
            case_id=case_id,
            purpose=purpose,
            reason=reason,
            actor=who.user,
            role=who.role,
        )

    @api.post("/cases/view")
    async def case_view(body: CaseViewIn, who: Caller) -> dict[str, Any]:
        return await revealer.case_view(
            body.case_id,
            consent=body.consent,
            contact_ids=body.contact_ids,
            purpose=body.purpose,
            reason=body.reason,
            actor=who.user,
            role=who.role,
            customer=body.subject_ref,
        )

    @api.get("/reply-handles/{handle}")
    async def reply_target(handle: str, who: Caller, case_id: str | None = None) -> dict[str, Any]:
        require_role(who.role, NOTIFY, to="resolve reply handles")
        return await revealer.reply_target(handle, case_id=case_id, actor=who.user, role=who.role)

    return api
