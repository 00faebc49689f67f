"""What intake's doors publish in ``/openapi.json``: bodies they read raw, answers, refusals.

The channel doors read their body themselves (counted against a limit, and
the signature checked on the exact bytes) instead of letting FastAPI parse a
model, so their request body is declared here from the same models. The
doors that take one contact answer ``Accepted``; a door taking a batch
declares its own answer beside its route. Every refusal has the error tree's
shape (``shared.http``): ``error`` and ``reason``, a ``field`` when one is to
blame, ``errors`` for a request FastAPI itself refused.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

# The statuses intake's doors refuse with, and why.
REASONS = {
    401: "missing or wrong credentials or signature",
    403: "the acting role may not do this",
    409: "the idempotency key or id was used for a different body, or is still in flight",
    413: "the body is over the door's limit (refused while it is read)",
    422: "the body or a header is invalid; the reason names the field",
    429: "rate limit of the source or the customer; retry after Retry-After seconds",
    503: "the bus or the store did not answer; nothing was kept, retry after Retry-After seconds",
}


class Accepted(BaseModel):
    """A contact taken: its id, the same on every retry with the same key.

    Named ``Accepted`` rather than ``AcceptedRead``: the name is the schema's in
    ``/openapi.json``, which integrators generate clients from since the first version.
    """

    id: str
    status: Literal["accepted"] = "accepted"


class FieldRefusal(BaseModel):
    """One field FastAPI refused, and why."""

    model_config = ConfigDict(extra="allow")

    field: str
    reason: str


class Refusal(BaseModel):
    """A refused request: the error's name and the reason."""

    model_config = ConfigDict(extra="allow")

    error: str
    reason: str | None = None
    field: str | None = None
    errors: list[FieldRefusal] | None = None


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Return the ``responses`` of a route that refuses with ``statuses``."""
    return {status: {"model": Refusal, "description": REASONS[status]} for status in statuses}


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Return ``model``'s JSON schema with its ``$defs`` inlined, to embed in an operation."""
    schema = model.model_json_schema()
    defs: dict[str, Any] = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return resolve({**defs[ref.removeprefix("#/$defs/")], **rest})
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def body(
    schema: dict[str, Any],
    media_type: str = "application/json",
    *,
    encoding: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the ``openapi_extra`` declaring a required request body of ``schema``."""
    content: dict[str, Any] = {"schema": schema}
    if encoding:
        content["encoding"] = encoding
    return {"requestBody": {"required": True, "content": {media_type: content}}}
