"""The texts customers receive, for admins to edit: ``/api/v1/admin/templates...``.

Notify holds the templates and does the work: it lists every slot with its
shipped text and override, previews a draft with a sample case, saves a slot
only if every kind still renders (a 422 names the slot and the template's
line), resets a slot to the shipped text and logs each change with who made
it. The console passes the admin's calls through as the admin (the signed
assertion), so the change log names the person.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from services.console.clients import segment
from services.console.deps import Admin, Notify
from shared.api_models.notify import SlotPreviewRead, SlotRead, TemplateChangesRead, TemplatesRead

# A slot as notify names it: ``th/resolved.short``, ``en/_body``, ``_layout.html``.
SLOT = r"^(?:_layout\.html|(?:th|en)/(?:_body|[a-z_]{1,30}\.[a-z]{1,10}))$"
SLOT_TEXT = "a template slot: {th|en}/{kind}.{part}, {th|en}/_body or _layout.html"
Slot = Annotated[str, Path(pattern=SLOT, max_length=60, description=SLOT_TEXT)]
# Notify checks a slot's size and says so naming the slot; this only bounds the request.
MAX_BODY_CHARS = 50_000


class SlotText(BaseModel):
    """A slot's text as the admin wrote it (Jinja2; checked by notify with the whole set)."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(max_length=MAX_BODY_CHARS)


class SlotDraft(SlotText):
    """A draft to render with the sample case; nothing is saved."""

    slot: str = Field(pattern=SLOT, max_length=60, description=SLOT_TEXT)


router = APIRouter(prefix="/api/v1/admin/templates", tags=["templates"])


def slot_path(slot: str) -> str:
    """Return notify's path of a template slot, each segment quoted."""
    return "/internal/v1/templates/" + "/".join(map(segment, slot.split("/")))


@router.get("", response_model=TemplatesRead, response_model_exclude_unset=True)
async def templates(user: Admin, notify: Notify) -> Any:
    """List every slot with its shipped text and override, and what a template may use."""
    return await notify.call("GET", "/internal/v1/templates", user=user)


@router.post("/preview", response_model=SlotPreviewRead, response_model_exclude_unset=True)
async def preview(body: SlotDraft, user: Admin, notify: Notify) -> Any:
    """Render a draft with the sample case on each channel that uses it; nothing is saved."""
    return await notify.call(
        "POST", "/internal/v1/templates/preview", user=user, json=body.model_dump()
    )


@router.get("/changes", response_model=TemplateChangesRead, response_model_exclude_unset=True)
async def changes(
    user: Admin,
    notify: Notify,
    slot: Annotated[str | None, Query(pattern=SLOT, max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """List the changes to the templates, newest first."""
    params: dict[str, Any] = {"limit": limit} | ({"slot": slot} if slot else {})
    return await notify.call("GET", "/internal/v1/templates/changes", user=user, params=params)


@router.put("/{slot:path}", response_model=SlotRead, response_model_exclude_unset=True)
async def save(slot: Slot, body: SlotText, user: Admin, notify: Notify) -> Any:
    """Save a slot's text, if every kind still renders (a 422 names the slot and the line)."""
    return await notify.call("PUT", slot_path(slot), user=user, json=body.model_dump())


@router.delete("/{slot:path}", response_model=SlotRead, response_model_exclude_unset=True)
async def reset(slot: Slot, user: Admin, notify: Notify) -> Any:
    """Reset a slot to the shipped text."""
    return await notify.call("DELETE", slot_path(slot), user=user)
