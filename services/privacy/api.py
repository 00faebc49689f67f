"""Privacy's internal API: contacts as the caller's role may see them, audited reveals."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from services.privacy import store as pstore
from services.privacy.audit import verify_chain
from services.privacy.consent import visible_identity
from services.privacy.vault import KeyRing, WrappedKey, decrypt_identity
from shared.errors import Forbidden, NotFound
from shared.http import ServiceCaller, service_auth
from shared.runtime import Runtime

RevealPurpose = Literal["handle_case", "notify_customer", "access_request"]


async def open_vault(runtime: Runtime, ring: KeyRing, contact: dict[str, Any]) -> dict[str, Any]:
    """Return the clear values vaulted with a contact; raise if the customer was erased."""
    subject = await runtime.store[pstore.SUBJECTS].find_one({"_id": contact["subject_ref"]})
    if subject is None or subject.get("data_key") is None:
        raise NotFound("the customer's data was erased")
    key = ring.unwrap(WrappedKey.model_validate(subject["data_key"]))
    flat = decrypt_identity(contact["vault"], key, aad=contact["subject_ref"].encode())
    return {k: json.loads(v) if v is not None else None for k, v in flat.items()}


def router(runtime: Runtime, *, ring: KeyRing) -> APIRouter:
    """Return privacy's internal routes."""
    caller = Depends(service_auth(runtime.settings.service_token.get_secret_value()))
    api = APIRouter(prefix="/internal/v1", tags=["privacy"], dependencies=[caller])
    Caller = Annotated[ServiceCaller, caller]

    @api.get("/contacts/{contact_id}")
    async def contact(
        contact_id: str,
        who: Caller,
        purpose: RevealPurpose = "handle_case",
        reason: Annotated[str, Query(max_length=500)] = "",
        case_id: str | None = None,
    ) -> dict[str, Any]:
        doc = await runtime.store[pstore.CONTACTS].find_one({"_id": contact_id})
        if doc is None:
            raise NotFound(f"no contact {contact_id}")
        screened = doc["screened"]
        view: dict[str, Any] = {
            "id": contact_id,
            "channel": doc["channel"],
            "received_at": doc["received_at"].isoformat(),
            "consent": doc["consent"],
            "text": screened["text"],
            "subject": screened.get("subject"),
            "identity": None,
            "revealed": False,
        }
        if not visible_identity(who.role, doc["consent"]):
            return view
        try:
            clear = await open_vault(runtime, ring, doc)
        except NotFound:
            return view  # erased: masked text is all that is left
        await pstore.append_audit(
            runtime.store,
            at=runtime.clock.now(),
            actor=who.user,
            role=who.role,
            action="reveal",
            subject_ref=doc["subject_ref"],
            case_id=case_id,
            purpose=purpose,
            reason=reason or f"{purpose} by {who.role}",
        )
        view.update(
            text=clear["text"],
            subject=clear["subject"],
            identity=clear["identity"],
            revealed=True,
        )
        return view

    @api.get("/reply-handles/{handle}")
    async def reply_target(handle: str, who: Caller, case_id: str | None = None) -> dict[str, Any]:
        if who.role != "notify":
            raise Forbidden("only notify resolves reply handles")
        doc = await runtime.store[pstore.CONTACTS].find_one({"reply_handle": handle})
        if doc is None:
            raise NotFound("unknown reply handle")
        clear = await open_vault(runtime, ring, doc)
        await pstore.append_audit(
            runtime.store,
            at=runtime.clock.now(),
            actor=who.user,
            role=who.role,
            action="reveal",
            subject_ref=doc["subject_ref"],
            case_id=case_id,
            purpose="notify_customer",
            reason="address to tell the customer about their case",
        )
        return {
            "subject_ref": doc["subject_ref"],
            **clear["reply"],
            "name": (clear["identity"] or {}).get("name"),
        }

    @api.get("/audit/verify")
    async def verify(who: Caller) -> dict[str, Any]:
        if who.role not in ("dpo", "admin", "system"):
            raise Forbidden("only the data protection officer verifies the audit log")
        result = verify_chain(await pstore.audit_entries(runtime.store))
        return {
            "ok": result.ok,
            "checked": result.checked,
            "first_bad_seq": result.first_bad_seq,
            "reason": result.reason,
        }

    return api
