"""Validating a channel's JSON payload into its model, with an error that names the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from shared.errors import Invalid

M = TypeVar("M", bound=BaseModel)


def parse_payload(model: type[M], raw: bytes | str | Mapping[str, Any], *, what: str) -> M:
    """Return ``raw`` validated as ``model``; raise ``Invalid`` naming the first bad field."""
    try:
        # Strict JSON: Python's json lets unpaired surrogates through, which the
        # bus and the store cannot encode.
        data = from_json(raw) if isinstance(raw, bytes | str) else raw
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]
        detail = "; ".join(f"{at or what}: {msg}" for at, msg in errors)
        raise Invalid(f"{what}: {detail}", field=errors[0][0] or None) from exc
    except ValueError as exc:
        raise Invalid(f"{what} is not JSON: {exc}", field=what) from exc
