"""Documents as the store hands them back: deep copies, datetimes cut to milliseconds in UTC.

What every in-memory repository fake copies its documents in and out with, so
a use case cannot lean on an object it wrote, and times compare as they do
after a round trip through BSON.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shared.store import Document


def stored(value: Any) -> Any:
    """Return a deep copy of ``value`` as the store would hand it back."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, Mapping):
        return {key: stored(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [stored(item) for item in value]
    return copy.copy(value)


def copies(docs: list[Document]) -> list[Document]:
    """Return copies of ``docs`` as the store would hand them back."""
    return [{key: stored(value) for key, value in doc.items()} for doc in docs]
