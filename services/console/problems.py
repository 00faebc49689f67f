"""How the console's refusals look, in its OpenAPI document.

Every refusal is the error tree's JSON (``shared.http``): ``error`` names the
kind and ``reason`` says why; a refused request body or parameter lists each
field's reason under ``errors`` instead. ``install`` documents these answers on
every ``/api/v1`` operation, in place of FastAPI's own validation-error shape,
which the console never sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

PROBLEM: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "the kind of refusal"},
        "reason": {"type": "string", "description": "why, in words"},
        "field": {"type": "string", "description": "the field refused, if one"},
        "errors": {
            "type": "array",
            "description": "each refused field or parameter and why",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}

REFUSALS = {
    "400": "the request cannot be carried out as sent",
    "401": "no valid bearer token, or a wrong username or password",
    "403": "the caller's role may not do this",
    "404": "no such thing, or not one the caller may know of",
    "409": "the thing's state does not allow this now",
    "413": "the request is too large",
    "422": "a field or parameter is refused; each one's reason is given",
    "429": "too many attempts; retry after Retry-After seconds",
    "503": "a service behind the console did not answer; retry after Retry-After seconds",
}
_REF = {"$ref": "#/components/schemas/Problem"}


def document(schema: dict[str, Any], *, prefix: str = "/api/v1") -> dict[str, Any]:
    """Add the refusals to every operation under ``prefix`` of an OpenAPI ``schema``."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, why in REFUSALS.items():
                responses[status] = {
                    "description": why,
                    "content": {"application/json": {"schema": _REF}},
                }
    return schema


def install(app: FastAPI) -> None:
    """Give ``app``'s own refusals (an unreadable body, an unknown path) the problem shape, and
    make its OpenAPI document name the refusals each ``/api/v1`` operation may give."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        return document(build())

    async def framework_refusal(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        body = {"error": _kind(exc.status_code), "reason": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(HTTPException, framework_refusal)


def _kind(status: int) -> str:
    kinds = {400: "Invalid", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}
    return kinds.get(status, "Refused" if status < 500 else "Unavailable")
