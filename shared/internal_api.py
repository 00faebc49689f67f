"""Calls between vocdesk services: the service token, the acting assertion, one error mapping.

Every internal API checks ``X-Service-Token`` and learns who acts only from
``X-Acting-Assertion``, a short-lived JWT for that one service
(``shared.assertions``), verified in ``shared.http.service_auth``.
Answers map back onto the error tree here, so a 404 from routing is a
``NotFound`` in the console, whatever the caller.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx

from shared.assertions import HEADER, Acting, mint
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


__all__ = [
    "Acting",
    "ActingAuth",
    "InternalApi",
    "raise_for_answer",
    "reason_of",
    "service_headers",
]


def service_headers(
    acting: Acting, *, token: str, acting_key: str, audience: str
) -> dict[str, str]:
    """Return the headers of a call to ``audience`` made for ``acting``."""
    return {
        "X-Service-Token": token,
        HEADER: mint(acting, audience=audience, key=acting_key),
    }


class ActingAuth(httpx.Auth):
    """Sign every request of an httpx client with the service token and a fresh assertion."""

    def __init__(self, acting: Acting, *, token: str, acting_key: str, audience: str) -> None:
        self._acting = acting
        self._token = token
        self._acting_key = acting_key
        self._audience = audience

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the headers to ``request``."""
        request.headers.update(
            service_headers(
                self._acting,
                token=self._token,
                acting_key=self._acting_key,
                audience=self._audience,
            )
        )
        yield request


class InternalApi:
    """Another service's internal API, with the service token."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        http: httpx.AsyncClient,
        acting_key: str,
        audience: str,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.audience = audience
        self._token = token
        self._acting_key = acting_key
        self._http = http

    async def request(
        self, method: str, path: str, *, acting: Acting, **kwargs: Any
    ) -> httpx.Response:
        """Send the request; raise ``UpstreamUnavailable`` only if nothing answered."""
        headers = {
            **service_headers(
                acting, token=self._token, acting_key=self._acting_key, audience=self.audience
            ),
            **correlation_header(),
        }
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
