"""Notify's internal API: a case's delivery log, customers' reachability, template overrides."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from services.notify import slots
from services.notify.deps import NotifyParts, Parts
from services.notify.templates import (
    CHANNELS,
    KINDS,
    LANGUAGES,
    MAX_SOURCE_CHARS,
    PARTS,
    SLOTS,
    sample_case,
)
from shared.api_models.notify import (
    DeliveryLogRead,
    DeliveryRead,
    ProvidersRead,
    SlotPreviewRead,
    SlotRead,
    TemplateChangesRead,
    TemplateOverridesRead,
    TemplatesRead,
)
from shared.errors import Forbidden, NotFound
from shared.http import Caller, ServiceCaller, service_caller

STAFF = frozenset({"agent", "supervisor", "admin", "system"})
# Who may read a case's delivery log: the staff who answer customers. A unit
# member is not among them: notify cannot tell which unit a case is with now
# (each delivery holds the unit of its own event), so it cannot keep them to
# their own unit's cases the way routing does.
DELIVERY_READERS = STAFF
EDITORS = frozenset({"admin", "system"})  # who edit the customer notification texts


class ReachabilityUpdate(BaseModel):
    """Whether a customer may be sent anything, on one channel or on all (``*``)."""

    model_config = ConfigDict(extra="forbid")

    reachable: bool
    channel: Literal["*", "line", "email", "sms", "app"] = "*"
    reason: str = Field(default="", max_length=500)


class TemplateOverrides(BaseModel):
    """The whole set of template overrides, by slot name (``th/resolved.short``)."""

    model_config = ConfigDict(extra="forbid")

    overrides: dict[str, str]


class SlotSource(BaseModel):
    """The text of one slot as an admin writes it (checked with the whole set)."""

    model_config = ConfigDict(extra="forbid")

    source: str


class SlotDraft(SlotSource):
    """A slot's draft text to render with the sample case, saving nothing."""

    slot: str = Field(max_length=80)


router = APIRouter(prefix="/internal/v1", tags=["notify"], dependencies=[Depends(service_caller)])


@router.get("/cases/{case_id}/notifications")
async def notifications(case_id: str, who: Caller, parts: Parts) -> DeliveryLogRead:
    """Return a case's delivery log to the staff who answer customers."""
    if who.role not in DELIVERY_READERS:
        raise Forbidden(f"a {who.role} may not see a case's deliveries")
    docs = await parts.deliveries.for_case(case_id)
    return DeliveryLogRead(items=[_delivery_view(doc) for doc in docs])


@router.put("/customers/{subject_ref}/reachability", status_code=204)
async def set_reachability(
    subject_ref: str, body: ReachabilityUpdate, who: Caller, parts: Parts
) -> None:
    """Mark a customer reachable or not, on one channel or on all."""
    if who.role not in STAFF:
        raise Forbidden("only staff mark customers reachable or not")
    await parts.reachability.set(
        subject_ref,
        channel=body.channel,
        reachable=body.reachable,
        reason=body.reason or f"set by {who.role}",
    )


@router.get("/providers")
async def providers(_: Caller, parts: Parts) -> ProvidersRead:
    """Return this replica's provider circuits, for the console's outage banner."""
    return ProvidersRead.model_validate({"providers": parts.breakers.snapshot()})


@router.get("/templates")
async def templates(_: Caller, parts: Parts) -> TemplatesRead:
    """Return every template slot with its shipped text and override, and the sample case."""
    # Read from the store, not this replica's copy: an editor sees the last save.
    await parts.library.refresh()
    current = parts.library.current()
    saved = await parts.templates.override_docs()
    return TemplatesRead(
        kinds=list(KINDS),
        channels=list(CHANNELS),
        languages=list(LANGUAGES),
        parts=list(PARTS),
        max_chars=MAX_SOURCE_CHARS,
        sample=sample_case(),  # what a template may use, as previews fill it
        overrides=dict(current.overrides),
        slots=[_slot_view(slot, saved.get(slot)) for slot in SLOTS],
    )


@router.put("/templates")
async def replace_templates(
    body: TemplateOverrides, who: Caller, parts: Parts
) -> TemplateOverridesRead:
    """Replace the whole set of template overrides, if every template still renders."""
    _editor(who)
    current = await parts.library.replace(body.overrides, by=who.user)
    return TemplateOverridesRead(overrides=dict(current.overrides))


@router.post("/templates/preview")
async def preview_template(body: SlotDraft, who: Caller, parts: Parts) -> SlotPreviewRead:
    """Render a slot's draft with the sample case, saving nothing."""
    _editor(who)
    renders = await parts.library.preview(_known(body.slot), body.source)
    return SlotPreviewRead.model_validate(
        {"slot": body.slot, "sample": sample_case(), "renders": renders}
    )


@router.get("/templates/changes")
async def template_changes(
    who: Caller,
    parts: Parts,
    slot: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TemplateChangesRead:
    """Return the newest template changes first, of one slot if asked."""
    _editor(who)
    docs = await parts.templates.changes(limit=limit, slot=slot)
    return TemplateChangesRead.model_validate(
        {"items": [{**_without_id(doc), "at": doc["at"].isoformat()} for doc in docs]}
    )


@router.put("/templates/{slot:path}")
async def set_template(slot: str, body: SlotSource, who: Caller, parts: Parts) -> SlotRead:
    """Save one slot's override, if every template still renders."""
    _editor(who)
    await parts.library.set_slot(_known(slot), body.source, by=who.user)
    return await _saved_slot(parts, slot)


@router.delete("/templates/{slot:path}")
async def reset_template(slot: str, who: Caller, parts: Parts) -> SlotRead:
    """Drop one slot's override: the shipped text serves again."""
    _editor(who)
    await parts.library.reset_slot(_known(slot), by=who.user)
    return await _saved_slot(parts, slot)


def _editor(who: ServiceCaller) -> None:
    if who.role not in EDITORS:
        raise Forbidden("only admins edit templates")


def _known(slot: str) -> str:
    if slot not in SLOTS:
        raise NotFound(f"no template slot {slot[:80]!r}")
    return slot


async def _saved_slot(parts: NotifyParts, slot: str) -> SlotRead:
    saved = await parts.templates.override_docs()
    return _slot_view(slot, saved.get(slot))


def _slot_view(slot: str, saved: dict[str, Any] | None) -> SlotRead:
    # The override as the store holds it, with who saved it and when.
    saved = saved or {}
    at = saved.get("updated_at")
    return SlotRead(
        **slots.describe(slot),
        override=saved.get("source"),
        updated_at=at.isoformat() if at else None,
        updated_by=saved.get("updated_by"),
    )


def _without_id(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if key != "_id"}


def _delivery_view(doc: dict[str, Any]) -> DeliveryRead:
    def iso(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value

    return DeliveryRead.model_validate(
        {
            "id": doc["_id"],
            "event_id": doc["event_id"],
            "kind": doc["kind"],
            "status": doc["status"],
            "channel": doc.get("channel"),
            "via": doc.get("via"),
            "reason": doc.get("reason"),
            "provider_message_id": doc.get("provider_message_id"),
            "created_at": iso(doc["created_at"]),
            "sent_at": iso(doc.get("sent_at")),
            "next_attempt_at": iso(doc.get("next_attempt_at"))
            if doc["status"] == "queued"
            else None,
            "attempts": [{**a, "at": iso(a["at"])} for a in doc.get("attempts", [])],
        }
    )
