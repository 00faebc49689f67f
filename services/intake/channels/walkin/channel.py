"""Walk-in contacts typed by counter staff, forwarded by the console to ``/internal/v1/walk-in``."""

# Annotations stay evaluated (no postponed annotations): FastAPI resolves the
# route's Annotated parameters when it builds it.
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from services.intake.accept import accept_once
from services.intake.channels import parts_reader
from services.intake.limits import read_body
from services.intake.openapi import Accepted, body, inline_schema, refusals
from services.intake.payloads import parse_payload
from shared.clock import BANGKOK
from shared.errors import Forbidden
from shared.http import Caller
from shared.ids import new_id
from shared.instants import not_ahead
from shared.messages import Contact, Identity, ThreadKeys
from shared.messages.contacts import RECORDED_BY, RECORDED_ROLE, RECORDED_UNIT

# The entry's contract lives in the shared package; intake and the console both use it.
from shared.messages.walkin import COUNTER_ROLES, WalkInCreate, WalkInCustomer
from shared.org_files import served_org
from shared.runtime import Runtime
from shared.thai_ids import normalise_national_id

# Who may record a contact at a counter.
# An entry is a few KB (5,000 Thai characters are 15 KB in UTF-8).
MAX_BODY_BYTES = 64 * 1024


def build_contact(
    entry: WalkInCreate,
    *,
    org: str,
    received_at: datetime,
    recorded_by: str | None = None,
    recorded_role: str | None = None,
    recorded_unit: str | None = None,
) -> Contact:
    """Normalise a counter entry into the canonical contact.

    Who recorded it (the authenticated caller, never the form) travels in
    meta: routing lets a visit naming a case join it only if that person may
    work the case.
    """
    contact_id = new_id()
    customer = entry.customer or WalkInCustomer()
    flags: list[str] = []
    national_id = customer.national_id
    if national_id and normalise_national_id(national_id) is None:
        # Kept as typed for staff to correct, but never used to recognise anyone.
        flags.append("invalid_national_id")
    if entry.customer is None:
        flags.append("anonymous")
    day = entry.queued_at.astimezone(BANGKOK).date().isoformat()
    return Contact(
        id=contact_id,
        channel="walk_in",
        org=served_org(entry.org or org),
        received_at=received_at,
        dedupe_key=f"walk_in:{entry.branch_code}:{day}:{entry.queue_no}",
        text=entry.text,
        language=entry.language,
        customer=Identity(
            name=customer.name,
            phone=customer.phone,
            national_id=national_id,
            email=customer.email,
            address=customer.address,
        ),
        consent="granted" if entry.consent_to_disclose else "withheld",
        thread=ThreadKeys(case_number=entry.case_number),
        flags=tuple(flags),
        meta={
            "branch_code": entry.branch_code,
            "branch_name": entry.branch_name,
            "counter_no": str(entry.counter_no),
            "queue_no": entry.queue_no,
            "queued_at": entry.queued_at.isoformat(),
            "served_at": entry.served_at.isoformat() if entry.served_at else None,
            "staff_id": entry.staff_id,
            RECORDED_BY: recorded_by,
            RECORDED_ROLE: recorded_role,
            RECORDED_UNIT: recorded_unit,
        },
        raw_ref=f"raw-{contact_id}",
    )


@dataclass(frozen=True)
class WalkInParts:
    """What the walk-in route reads: the runtime (the caller is checked by ``Caller``)."""

    runtime: Runtime


Parts = Annotated[WalkInParts, Depends(parts_reader("walk_in"))]

router = APIRouter(prefix="/internal/v1", tags=["walk-in"])


@router.post(
    "/walk-in",
    status_code=202,
    responses=refusals(401, 403, 409, 413, 422, 503),
    openapi_extra=body(inline_schema(WalkInCreate)),
)
async def walk_in(request: Request, who: Caller, parts: Parts) -> Accepted:
    """Take a counter entry the console forwards; answer 202 with the contact's id."""
    if who.role not in COUNTER_ROLES:
        raise Forbidden(f"role {who.role} does not record counter contacts")
    if who.role == "unit_member" and not who.unit:
        raise Forbidden("a unit member records walk-ins for their unit (the assertion's unit)")
    # Read after the caller is known, and counted while read.
    entry = parse_payload(
        WalkInCreate, await read_body(request, MAX_BODY_BYTES), what="walk-in entry"
    )
    runtime = parts.runtime
    now = runtime.clock.now()
    not_ahead(entry.queued_at, now=now, field="queued_at")
    not_ahead(entry.served_at, now=now, field="served_at")
    raw = entry.model_dump_json().encode()
    contact = build_contact(
        entry,
        org=runtime.settings.org,
        received_at=now,
        recorded_by=who.user,
        recorded_role=who.role,
        recorded_unit=who.unit,
    )
    canonical = json.dumps(entry.model_dump(mode="json"), sort_keys=True).encode()
    contact_id = await accept_once(
        runtime,
        key=contact.dedupe_key,
        body_hash=hashlib.sha256(canonical).hexdigest(),
        contact=contact,
        raw=raw,
        content_type="application/json",
        raw_meta={"recorded_by": who.user},
    )
    return Accepted(id=contact_id)
