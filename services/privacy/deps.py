"""What privacy's routes are given: the service's parts, built once by ``app.py``.

``create_app`` builds a ``PrivacyParts`` and sets it as ``app.state.parts``;
a route asks for it with the ``Parts`` dependency instead of closing over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from services.privacy.consent_book import ConsentBook
from services.privacy.reveal import Revealer
from services.privacy.rights import Rights
from services.privacy.staff_texts import StaffTexts
from shared.store import Store


@dataclass(frozen=True)
class PrivacyParts:
    """Privacy's parts its routes use: reveals, consent, subject rights, staff texts, the store."""

    store: Store
    revealer: Revealer
    consents: ConsentBook
    rights: Rights
    staff_texts: StaffTexts


def parts(request: Request) -> PrivacyParts:
    """Return the parts ``create_app`` set on the app."""
    return cast(PrivacyParts, request.app.state.parts)


Parts = Annotated[PrivacyParts, Depends(parts)]
