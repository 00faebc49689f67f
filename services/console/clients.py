"""Calls from the console to routing's and privacy's internal APIs, as the acting user."""

from __future__ import annotations

from typing import Any

import httpx

from services.console.auth import User
from shared.internal_api import Acting, InternalApi


class ServiceClient:
    """An internal API reached with the service token, on behalf of a console user."""

    def __init__(self, base_url: str, *, token: str, http: httpx.AsyncClient) -> None:
        self._api = InternalApi(base_url, token=token, http=http)

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
