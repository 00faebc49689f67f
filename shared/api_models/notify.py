"""Notify's answers that the console passes on: provider circuits, delivery log, templates.

Notify declares them as its routes' response models and the console as the
shape of what it forwards, so ``/openapi.json`` of both documents one shape.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class ProviderRead(BaseModel):
    """One provider's circuit breaker, as the console's outage banner reads it."""

    provider: str
    state: Literal["closed", "open", "half_open"]
    since: str | None
    retry_at: str | None
    reason: str


class ProvidersRead(BaseModel):
    """Every provider this notify replica has sent to, by name."""

    providers: list[ProviderRead]


class DeliveryAttemptRead(BaseModel):
    """One attempt of a delivery; a provider's answer adds its own fields."""

    # An attempt that reached a provider also says via, retryable,
    # provider_status and provider_message_id; one that did not, only these.
    model_config = ConfigDict(extra="allow")

    at: str
    channel: str | None
    status: str
    provider_answer: str


class DeliveryRead(BaseModel):
    """One notification of a case: what it tells, how it went, every attempt."""

    id: str
    event_id: str
    kind: str
    status: str
    channel: str | None
    via: str | None
    reason: str | None
    provider_message_id: str | None
    created_at: str
    sent_at: str | None
    next_attempt_at: str | None
    attempts: list[DeliveryAttemptRead]


class DeliveryLogRead(BaseModel):
    """A case's delivery log, oldest first."""

    items: list[DeliveryRead]


class SlotRead(BaseModel):
    """A template slot: what it is, its shipped text or fallback, and its override."""

    name: str
    language: str | None
    kind: str | None
    part: str | None
    default: str | None
    fallback: str | None
    override: str | None
    updated_at: str | None
    updated_by: str | None


class TemplatesRead(BaseModel):
    """Everything the template editor shows: the vocabulary, the sample case, every slot."""

    kinds: list[str]
    channels: list[str]
    languages: list[str]
    parts: list[str]
    max_chars: int
    sample: dict[str, str]
    overrides: dict[str, str]
    slots: list[SlotRead]


class TemplateOverridesRead(BaseModel):
    """The whole set of template overrides in force, by slot name."""

    overrides: dict[str, str]


class SlotRenderRead(BaseModel):
    """What a slot's words render to for one kind, language and channel."""

    kind: str
    language: str
    channel: str
    subject: str | None
    text: str
    html: str | None


class SlotPreviewRead(BaseModel):
    """A draft slot rendered with the sample case on each channel that uses it."""

    slot: str
    sample: dict[str, str]
    renders: list[SlotRenderRead]


class TemplateChangeRead(BaseModel):
    """One change of a slot: who, when, from what text to what (None: the shipped one)."""

    at: str
    by: str
    slot: str
    action: Literal["set", "reset"]
    before: str | None
    after: str | None


class TemplateChangesRead(BaseModel):
    """Template changes, newest first."""

    items: list[TemplateChangeRead]
