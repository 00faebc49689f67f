"""What routing's internal routers share: the strict request body and the If-Match version."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.errors import Invalid


class Body(BaseModel):
    """Base of request bodies: unknown fields are refused, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


def version_of(if_match: str | None) -> int | None:
    """Return the case version an ``If-Match`` header names, None without one."""
    if not if_match:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise Invalid("If-Match must be the case's version number", field="If-Match")
    return int(value)
