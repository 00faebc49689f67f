"""Identifiers: ULIDs for messages and records."""

from __future__ import annotations

from ulid import ULID


def new_id() -> str:
    """Return a new ULID as a 26-character string (sortable by creation time)."""
    return str(ULID())
