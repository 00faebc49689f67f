"""Value kinds every service and message shares: an organisation's id, a case's urgency.

An organisation is configuration (one ``<org>.yaml``), so its id is a plain
lower-case name, not a list of known ones: a message from another install's
organisation is still well-formed. Whether this install serves an
organisation is checked where it matters (``shared.settings``, the loader).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

# An id may become a file name (``<org>.yaml``) and part of a path: a plain name only.
ORG_ID_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"

OrgId = Annotated[str, StringConstraints(pattern=ORG_ID_PATTERN)]
Urgency = Literal["low", "normal", "high", "urgent"]
