"""Privacy's consent routes: record a case's consent decision, read its history."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.privacy.consent import ConsentRecord, ConsentSource
from services.privacy.consent_book import ConsentBook
from shared.errors import NotFound
from shared.http import ServiceCaller


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


def router(caller: Any, consents: ConsentBook) -> APIRouter:
    """Return the consent routes."""
    api = APIRouter()
    Caller = Annotated[ServiceCaller, caller]

    @api.post("/consent")
    async def change(body: ConsentIn, who: Caller) -> dict[str, Any]:
        record = await consents.record(
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

    @api.get("/consent/{case_id}")
    async def history(case_id: str, _: Caller) -> dict[str, Any]:
        record = await consents.get(case_id)
        if record is None:
            raise NotFound(f"privacy holds no consent record for case {case_id}")
        return record_view(record)

    return api
