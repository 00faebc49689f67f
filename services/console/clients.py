"""Calls from the console to the internal APIs, as the acting user (a signed assertion)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import Path

from services.console.auth import User
from shared.errors import NotFound
from shared.internal_api import Acting, InternalApi, raise_for_answer
from shared.settings import Settings

# A case is named by its id, a ULID as ``shared.ids.new_id`` makes them (26 Crockford
# base32 characters, the first at most 7), or by its number (``VOC-2026-000123``).
CASE_ID = re.compile(r"^(?:[0-7][0-9A-HJKMNP-TV-Z]{25}|VOC-\d{4}-\d{6,12})$")
CASE_ID_TEXT = "a case id (26-character ULID) or a case number (VOC-YYYY-NNNNNN)"
# A route's case id: a malformed one is refused (422) before routing is called.
CaseId = Annotated[str, Path(pattern=CASE_ID.pattern, max_length=40, description=CASE_ID_TEXT)]


def segment(value: str) -> str:
    """Return ``value`` quoted as one path segment (no ``/``, ``?`` or ``#`` gets through)."""
    return quote(value, safe="")


def case_path(case_id: str, *rest: str) -> str:
    """Return routing's path of a case (and ``rest``); raise ``NotFound`` for a malformed id.

    The routes validate the id already; this keeps a caller that did not from
    sending anything but one well-formed, quoted segment to routing.
    """
    if not CASE_ID.fullmatch(case_id):
        raise NotFound(f"no case {case_id[:40]!r}: expected {CASE_ID_TEXT}")
    return "/".join(["/internal/v1/cases", segment(case_id), *map(segment, rest)])


class ServiceClient:
    """An internal API reached with the service token, on behalf of a console user."""

    def __init__(
        self, base_url: str, *, token: str, acting_key: str, audience: str, http: httpx.AsyncClient
    ) -> None:
        self._api = InternalApi(
            base_url, token=token, http=http, acting_key=acting_key, audience=audience
        )

    @classmethod
    def of(cls, settings: Settings, service: str, *, http: httpx.AsyncClient) -> ServiceClient:
        """Return the client of ``service`` with this install's secrets."""
        return cls(
            settings.service_url(service),  # type: ignore[arg-type]
            token=settings.service_token.get_secret_value(),
            acting_key=settings.acting_key.get_secret_value(),
            audience=service,
            http=http,
        )

    async def call(
        self,
        method: str,
        path: str,
        *,
        user: User,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Call ``path`` as ``user`` and return its JSON; map its errors onto the error tree."""
        acting = Acting(user=user.username, role=user.role, unit=user.unit)
        return await self._api.call(method, path, acting=acting, params=params, json=json)

    async def fetch(
        self, method: str, path: str, *, user: User, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """Call ``path`` as ``user`` and return the answer itself (a file); errors as ``call``."""
        acting = Acting(user=user.username, role=user.role, unit=user.unit)
        answer = await self._api.request(method, path, acting=acting, params=params)
        raise_for_answer(answer)
        return answer


async def load_case(routing: ServiceClient, case_id: str, user: User) -> dict[str, Any]:
    """Return the case as routing shows it to ``user``; another unit's case is a 404."""
    case: dict[str, Any] = await routing.call("GET", case_path(case_id), user=user)
    if user.role == "unit_member" and case.get("unit") != user.unit:
        raise NotFound(f"no case {case_id}")  # a unit does not learn of others' cases
    return case


async def privacy_case_view(
    privacy: ServiceClient, case: dict[str, Any], user: User, *, reason: str
) -> dict[str, Any]:
    """Return privacy's view of the case's contacts for ``user`` (reveals audited)."""
    view: dict[str, Any] = await privacy.call(
        "POST",
        "/internal/v1/cases/view",
        user=user,
        json={
            "case_id": case["id"],
            "consent": case.get("consent", "unknown"),
            "subject_ref": case.get("subject_ref"),
            "split_from": case.get("split_from"),
            "contact_ids": [c["id"] for c in case.get("contacts", [])],
            "purpose": "handle_case",
            "reason": reason,
        },
    )
    return view
