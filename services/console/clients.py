"""Calls from the console to the internal APIs, as the acting user (a signed assertion)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from services.console.auth import User
from shared.internal_api import Acting, InternalApi
from shared.settings import Settings


def segment(value: str) -> str:
    """Return ``value`` quoted as one path segment (no ``/``, ``?`` or ``#`` gets through)."""
    return quote(value, safe="")


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
