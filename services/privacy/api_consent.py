"""Privacy's consent routes: record a case's consent decision, read its history."""

# Annotations stay evaluated (no postponed annotations): FastAPI resolves the
# routes' Annotated parameters when it builds them.
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.privacy.consent import ConsentRecord, ConsentSource
from services.privacy.deps import Parts
from shared.api_models.privacy import ConsentRead
from shared.errors import NotFound
from shared.http import Caller


class ConsentIn(BaseModel):
    """A consent decision for a case: whose, what, from where, and why."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=100)
    contact_ids: list[str] = Field(default_factory=list, max_length=500)
    subject_ref: str | None = Field(default=None, max_length=100)
    state: Literal["granted", "withheld"]
    source: ConsentSource
    reason: str = Field(default="", max_length=500)


def record_view(record: ConsentRecord) -> dict[str, Any]:
    """Return a consent record as the API shows it."""
    return {"state": record.state, **record.model_dump(mode="json")}


router = APIRouter()


@router.post("/consent", response_model=ConsentRead)
async def change(body: ConsentIn, who: Caller, parts: Parts) -> dict[str, Any]:
    """Record a consent decision for a case; return the case's consent."""
    record = await parts.consents.record(
        body.case_id,
        body.state,
        source=body.source,
        actor=who.user,
        role=who.role,
        reason=body.reason,
        contact_ids=body.contact_ids,
        subject_ref=body.subject_ref,
    )
    return record_view(record)


@router.get("/consent/{case_id}", response_model=ConsentRead)
async def history(case_id: str, _: Caller, parts: Parts) -> dict[str, Any]:
    """Return a case's consent and its history; 404 if none was ever recorded."""
    record = await parts.consents.get(case_id)
    if record is None:
        raise NotFound(f"privacy holds no consent record for case {case_id}")
    return record_view(record)
