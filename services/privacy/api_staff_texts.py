"""Privacy's staff-text routes: vault what staff tell a customer, reveal it to who may see it."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.privacy.reveal import RevealPurpose
from services.privacy.roles import STAFF_WRITERS, require_role
from services.privacy.staff_texts import StaffTextKind, StaffTexts
from shared.http import ServiceCaller
from shared.messages import Consent


class StaffTextIn(BaseModel):
    """A text staff wrote to (or about) the case's customer, in clear."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=100)
    subject_ref: str | None = Field(default=None, max_length=100)
    kind: StaffTextKind
    text: str = Field(min_length=1, max_length=5000)


class StaffRevealIn(BaseModel):
    """Which of a case's staff texts to show, and why."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=100)
    refs: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=500
    )
    consent: Consent = "unknown"
    purpose: RevealPurpose = "handle_case"
    reason: str = Field(default="", max_length=500)


def router(caller: Any, staff: StaffTexts) -> APIRouter:
    """Return the staff-text routes."""
    api = APIRouter()
    Caller = Annotated[ServiceCaller, caller]

    @api.post("/staff-texts")
    async def vault_text(body: StaffTextIn, who: Caller) -> dict[str, str]:
        require_role(who.role, STAFF_WRITERS, to="write to a customer")
        return await staff.vault_text(
            case_id=body.case_id,
            subject_ref=body.subject_ref,
            kind=body.kind,
            text=body.text,
            actor=who.user,
        )

    @api.post("/staff-texts/reveal")
    async def reveal(body: StaffRevealIn, who: Caller) -> dict[str, Any]:
        texts = await staff.reveal(
            body.refs,
            case_id=body.case_id,
            consent=body.consent,
            purpose=body.purpose,
            reason=body.reason,
            actor=who.user,
            role=who.role,
        )
        return {"case_id": body.case_id, "texts": texts}

    return api
