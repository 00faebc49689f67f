"""Calls from the console to routing's and privacy's internal APIs, as the acting user."""

from __future__ import annotations

from typing import Any

import httpx

from services.console.auth import User
from shared.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, UpstreamUnavailable
from shared.http import correlation_header

_ERRORS: dict[int, type[DomainError]] = {
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
}


class ServiceClient:
    """An internal API reached with the service token, on behalf of a user."""

    def __init__(self, base_url: str, *, token: str, http: httpx.AsyncClient) -> None:
        self._base = base_url
        self._token = token
        self._http = http

    async def call(
        self,
        method: str,
        path: str,
        *,
        user: User,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Call ``path`` and return its JSON; map its errors onto the error tree."""
        headers = {
            "X-Service-Token": self._token,
            "X-Acting-User": user.username,
            "X-Acting-Role": user.role,
            **({"X-Acting-Unit": user.unit} if user.unit else {}),
            **correlation_header(),
        }
        try:
            response = await self._http.request(
                method, self._base + path, params=params, json=json, headers=headers
            )
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"{self._base} did not answer: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            reason = _reason(response)
            kind = _ERRORS.get(response.status_code)
            if kind is not None:
                raise kind(reason)
            raise UpstreamUnavailable(
                f"{self._base}{path} answered {response.status_code}: {reason}"
            )
        return response.json()


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("reason") or body.get("detail") or body)
    return str(body)
