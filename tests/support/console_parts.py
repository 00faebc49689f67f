"""Console parts for a test app that includes some of the console's routers as they are.

``console_parts`` sets the parts a test gives and leaves every other one None,
so a route reaching for a part the test did not give fails loudly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from services.console.deps import ConsoleParts


class UnseenBook:
    """Unread markers that remember nothing: every listed case stays as routing sent it."""

    async def mark_seen(self, user: str, case_id: str) -> None:
        """Forget that ``user`` opened the case."""

    async def mark_unread(self, user: str, items: Sequence[dict[str, Any]]) -> None:
        """Leave the items as they are."""


def console_parts(**given: Any) -> ConsoleParts:
    """Return the console's parts with ``given`` set and every other required one None."""
    absent = {
        f.name: None
        for f in dataclasses.fields(ConsoleParts)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    return ConsoleParts(**(absent | given))
