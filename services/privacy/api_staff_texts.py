"""Privacy's staff-text routes: vault what staff tell a customer, reveal it to who may see it."""

# Annotations stay evaluated (no postponed annotations): FastAPI resolves the
# routes' Annotated parameters when it builds them.
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.privacy.deps import Parts
from services.privacy.reveal import RevealPurpose
from services.privacy.roles import STAFF_WRITERS, require_role
from services.privacy.staff_texts import StaffTextKind
from shared.api_models.privacy import StaffRevealRead, StaffTextRead
from shared.http import Caller
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


router = APIRouter()


@router.post("/staff-texts", response_model=StaffTextRead)
async def vault_text(body: StaffTextIn, who: Caller, parts: Parts) -> dict[str, str]:
    """Vault what staff wrote to a customer; return its reference and masked copy."""
    require_role(who.role, STAFF_WRITERS, to="write to a customer")
    return await parts.staff_texts.vault_text(
        case_id=body.case_id,
        subject_ref=body.subject_ref,
        kind=body.kind,
        text=body.text,
        actor=who.user,
    )


@router.post("/staff-texts/reveal", response_model=StaffRevealRead)
async def reveal(body: StaffRevealIn, who: Caller, parts: Parts) -> dict[str, Any]:
    """Return a case's staff texts, clear where the caller may see them."""
    texts = await parts.staff_texts.reveal(
        body.refs,
        case_id=body.case_id,
        consent=body.consent,
        purpose=body.purpose,
        reason=body.reason,
        actor=who.user,
        role=who.role,
    )
    return {"case_id": body.case_id, "texts": texts}
