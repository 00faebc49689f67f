"""Calls between vocdesk services: the service token, the acting user, one error mapping.

Every internal API checks ``X-Service-Token`` and reads who acts from
``X-Acting-User``, ``X-Acting-Role`` and ``X-Acting-Unit`` (``shared.http``).
Answers map back onto the error tree here, so a 404 from routing is a
``NotFound`` in the console, whatever the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    UpstreamUnavailable,
)
from shared.http import correlation_header

_ERRORS: dict[int, type[DomainError]] = {
    400: Invalid,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: Conflict,
    422: Invalid,
}


@dataclass(frozen=True)
class Acting:
    """Who a service-to-service call is made for."""

    user: str
    role: str
    unit: str | None = None

    def headers(self) -> dict[str, str]:
        """Return the acting-user headers."""
        headers = {"X-Acting-User": self.user, "X-Acting-Role": self.role}
        if self.unit:
            headers["X-Acting-Unit"] = self.unit
        return headers


class InternalApi:
    """Another service's internal API, with the service token."""

    def __init__(self, base_url: str, *, token: str, http: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._http = http

    async def request(
        self, method: str, path: str, *, acting: Acting, **kwargs: Any
    ) -> httpx.Response:
        """Send the request; raise ``UpstreamUnavailable`` only if nothing answered."""
        headers = {"X-Service-Token": self._token, **acting.headers(), **correlation_header()}
        try:
            return await self._http.request(method, self.base_url + path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(
                f"{self.base_url} did not answer: {type(exc).__name__}"
            ) from exc

    async def call(self, method: str, path: str, *, acting: Acting, **kwargs: Any) -> Any:
        """Send the request and return its JSON; map an error answer onto the error tree."""
        response = await self.request(method, path, acting=acting, **kwargs)
        raise_for_answer(response)
        return response.json() if response.content else None


def raise_for_answer(response: httpx.Response) -> None:
    """Raise the error-tree exception an error answer stands for; return on success."""
    if response.is_success:
        return
    reason = reason_of(response)
    kind = _ERRORS.get(response.status_code)
    if kind is not None:
        raise kind(reason)
    raise UpstreamUnavailable(
        f"{response.request.url.path} answered {response.status_code}: {reason}"
    )


def reason_of(response: httpx.Response) -> str:
    """Return the reason an error answer gives, shortened."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("reason") or body.get("detail") or body)[:200]
    return str(body)[:200]
