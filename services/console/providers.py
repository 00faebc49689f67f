"""Provider outages for the console's banner: ``GET /api/v1/providers/status``.

Notify knows each provider's circuit breaker (``/internal/v1/providers``);
the console asks it at most every few seconds however many browsers poll, so
an outage costs notify one call per interval, and shows as one banner while
a circuit is open, gone when it closes. If notify does not answer, the banner
says nothing rather than the console failing: an outage elsewhere must not
take the console down.
"""

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from services.console.auth import User
from services.console.clients import ServiceClient
from shared.errors import VocdeskError

CACHE_S = 5.0


def router(*, current_user: Callable[..., Any], notify: ServiceClient) -> APIRouter:
    """Return the provider status route."""
    api = APIRouter(prefix="/api/v1", tags=["providers"])
    cached: dict[str, Any] = {"at": float("-inf"), "answer": None}

    @api.get("/providers/status")
    async def provider_status(user: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
        now = time.monotonic()
        if cached["answer"] is None or now - cached["at"] >= CACHE_S:
            try:
                found = await notify.call("GET", "/internal/v1/providers", user=user)
                answer = {"known": True, "providers": found["providers"]}
            except VocdeskError:
                answer = {"known": False, "providers": []}
            cached.update(at=now, answer=answer)
        answer = cached["answer"]
        down = [p for p in answer["providers"] if p["state"] != "closed"]
        return {**answer, "down": down}

    return api
