"""What an admin may send to change routing at run time, and how a refusal names the field."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.routing.sla.policies import SlaPolicy
from shared.errors import Invalid

# The console's username pattern: only people the console can log in may be members.
USERNAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"
# The ids the console passes on for a policy (and so the ids a new policy may take).
POLICY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,60}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_MEMBERS = 200
# Open cases one person may hold: far above any real desk, low enough to catch a slip.
MAX_CAPACITY = 1000

M = TypeVar("M", bound=BaseModel)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class HolidayIn(BaseModel):
    """An ad-hoc holiday's name, e.g. a day the cabinet has just announced."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, AfterValidator(_nfc)] = Field(min_length=1, max_length=120)


class MemberIn(BaseModel):
    """A member of a unit; ``capacity`` overrides the unit's for them."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(pattern=USERNAME)
    capacity: int | None = Field(default=None, ge=1, le=MAX_CAPACITY, strict=True)


class MembersIn(BaseModel):
    """A unit's members in force from now on, and optionally its capacity per member."""

    model_config = ConfigDict(extra="forbid")

    members: list[MemberIn] = Field(max_length=MAX_MEMBERS)
    capacity: int | None = Field(default=None, ge=1, le=MAX_CAPACITY, strict=True)

    @field_validator("members")
    @classmethod
    def _unique(cls, members: list[MemberIn]) -> list[MemberIn]:
        seen: set[str] = set()
        for member in members:
            if member.user in seen:
                raise ValueError(f"user {member.user!r} is listed twice")
            seen.add(member.user)
        return members


def parse(model: type[M], raw: object) -> M:
    """Validate ``raw`` as ``model``; raise ``Invalid`` naming the first bad field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        fields = [".".join(str(p) for p in err["loc"]) or "body" for err in errors]
        reason = "; ".join(f"{f}: {err['msg']}" for f, err in zip(fields, errors, strict=True))
        raise Invalid(reason, field=fields[0]) from exc


def parse_date(text: str) -> date:
    """Parse a ``YYYY-MM-DD`` path segment; raise ``Invalid`` otherwise."""
    try:
        if DATE.fullmatch(text) is None:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"date {text[:40]!r} is not a YYYY-MM-DD day", field="date") from exc


def parse_policy(policy_id: str, raw: Any) -> SlaPolicy:
    """Validate an SLA policy sent for ``policy_id`` (its ``id`` must match or be absent)."""
    if POLICY_ID.fullmatch(policy_id) is None:
        raise Invalid(f"policy id {policy_id[:80]!r} must match {POLICY_ID.pattern}", field="id")
    if not isinstance(raw, dict):
        raise Invalid("the body must be an SLA policy (a JSON object)", field="body")
    if raw.get("id", policy_id) != policy_id:
        raise Invalid(f"the body's id {raw['id']!r} is not the path's {policy_id!r}", field="id")
    return parse(SlaPolicy, {**raw, "id": policy_id})
