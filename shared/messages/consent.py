"""``consent.changed``: privacy tells services that keep a case's consent.

Routing keeps ``consent`` on the case from the screened contact; when a customer
or an agent changes it later, this message tells routing (and anyone else bound
to ``consent.changed``). It carries no personal data: the case and the state.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from shared.messages.base import Message, register
from shared.messages.contacts import Consent


@register("consent.changed", version=1)
class ConsentChanged(Message):
    """A case's consent to disclose identity changed; the newest ``at`` wins."""

    type: Literal["consent.changed"] = "consent.changed"
    version: Literal[1] = 1
    case_id: str
    state: Consent
    at: AwareDatetime
