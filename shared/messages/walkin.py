"""The walk-in entry counter staff record: the contract between the console and intake."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from shared.instants import plausible, written
from shared.kinds import OrgId

COUNTER_ROLES = ("agent", "supervisor", "unit_member", "admin")
MAX_TEXT_CHARS = 5000


class WalkInCustomer(BaseModel):
    """The customer's identity as they gave it at the counter."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    national_id: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    address: str | None = Field(default=None, max_length=500)


class WalkInCreate(BaseModel):
    """A walk-in contact as counter staff record it."""

    model_config = ConfigDict(extra="ignore")

    org: OrgId | None = None
    branch_code: str = Field(min_length=1, max_length=20)
    branch_name: str | None = Field(default=None, max_length=200)
    counter_no: StrictInt | str
    queue_no: str = Field(min_length=1, max_length=20)
    queued_at: AwareDatetime
    served_at: AwareDatetime | None = None
    staff_id: str = Field(min_length=1, max_length=40)
    customer: WalkInCustomer | None = None
    consent_to_disclose: StrictBool = False
    text: str = Field(min_length=1)
    case_number: str | None = Field(default=None, pattern=r"^VOC-\d{4}-\d{6}$")
    language: Literal["th", "en"] = "th"

    _written = field_validator("queued_at", "served_at", mode="before")(written)

    @field_validator("queued_at", "served_at")
    @classmethod
    def _plausible_instant(cls, value: datetime | None) -> datetime | None:
        return None if value is None else plausible(value)

    @model_validator(mode="after")
    def _text(self) -> WalkInCreate:
        self.text = unicodedata.normalize("NFC", self.text).strip()
        if not self.text:
            raise ValueError("text must not be empty")
        if len(self.text) > MAX_TEXT_CHARS:
            raise ValueError(f"text is {len(self.text)} characters; the limit is {MAX_TEXT_CHARS}")
        if self.served_at and self.served_at < self.queued_at:
            raise ValueError("served_at is before queued_at")
        return self
