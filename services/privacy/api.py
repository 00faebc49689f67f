"""Privacy's internal API: contacts and cases as the caller's role may see them, reply targets.

Consent routes are in ``api_consent``, data-subject requests and the audit log
in ``api_subjects``, staff texts in ``api_staff_texts``; ``router`` puts them
together under ``/internal/v1``, every route behind the service-token check.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI resolves the
# routes' Annotated parameters when it builds them.
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from services.privacy import api_consent, api_staff_texts, api_subjects
from services.privacy.deps import Parts
from services.privacy.reveal import RevealPurpose
from services.privacy.roles import NOTIFY, require_role
from shared.api_models.privacy import CaseViewRead, ContactViewRead, ReplyTargetRead
from shared.http import Caller, service_caller
from shared.messages import Consent


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
    # The case this one was split off: a contact that moved here may still be tied to it.
    split_from: str | None = Field(default=None, max_length=100)


router = APIRouter(prefix="/internal/v1", tags=["privacy"], dependencies=[Depends(service_caller)])


@router.get("/contacts/{contact_id}", response_model=ContactViewRead)
async def contact(
    contact_id: str,
    who: Caller,
    parts: Parts,
    purpose: RevealPurpose = "handle_case",
    reason: Annotated[str, Query(max_length=500)] = "",
    case_id: str | None = None,
) -> dict[str, Any]:
    """Return one contact as the caller's role may see it."""
    return await parts.revealer.contact_view(
        contact_id,
        case_id=case_id,
        purpose=purpose,
        reason=reason,
        actor=who.user,
        role=who.role,
    )


@router.post("/cases/view", response_model=CaseViewRead)
async def case_view(body: CaseViewIn, who: Caller, parts: Parts) -> dict[str, Any]:
    """Return a case's contacts as the caller's role may see them, under its consent."""
    return await parts.revealer.case_view(
        body.case_id,
        consent=body.consent,
        contact_ids=body.contact_ids,
        purpose=body.purpose,
        reason=body.reason,
        actor=who.user,
        role=who.role,
        customer=body.subject_ref,
        moved_from=body.split_from,
    )


@router.get(
    "/reply-handles/{handle}", response_model=ReplyTargetRead, response_model_exclude_unset=True
)
async def reply_target(
    handle: str, who: Caller, parts: Parts, case_id: str | None = None
) -> dict[str, Any]:
    """Return where to answer the customer behind a reply handle (notify only)."""
    require_role(who.role, NOTIFY, to="resolve reply handles")
    return await parts.revealer.reply_target(handle, case_id=case_id, actor=who.user, role=who.role)


router.include_router(api_consent.router)
router.include_router(api_subjects.router)
router.include_router(api_staff_texts.router)
