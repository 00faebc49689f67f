"""Provider outages for the console's banner: ``GET /api/v1/providers/status``.

Notify knows each provider's circuit breaker (``/internal/v1/providers``);
the console asks it at most every few seconds however many browsers poll, so
an outage costs notify one call per interval, and shows as one banner while
a circuit is open, gone when it closes. If notify does not answer, the banner
says nothing rather than the console failing: an outage elsewhere must not
take the console down.
"""

import time

from fastapi import APIRouter
from pydantic import Field

from services.console.deps import CurrentUser, Notify, Parts
from shared.api_models.notify import ProviderRead, ProvidersRead
from shared.errors import VocdeskError

CACHE_S = 5.0

router = APIRouter(prefix="/api/v1", tags=["providers"])


class ProviderStatusRead(ProvidersRead):
    """Every provider's circuit as notify last said, and the ones not working now."""

    known: bool = Field(description="whether notify answered; if not, nothing is known")
    down: list[ProviderRead] = Field(description="the providers whose circuit is not closed")


@router.get("/providers/status")
async def provider_status(user: CurrentUser, parts: Parts, notify: Notify) -> ProviderStatusRead:
    """Return the providers' circuits for the outage banner (asked of notify every few seconds)."""
    now = time.monotonic()
    cache = parts.provider_status
    answer = cache.answer
    if answer is None or now - cache.at >= CACHE_S:
        try:
            found = await notify.call("GET", "/internal/v1/providers", user=user)
            answer = {"known": True, "providers": found["providers"]}
        except VocdeskError:
            answer = {"known": False, "providers": []}
        cache.at, cache.answer = now, answer
    down = [p for p in answer["providers"] if p["state"] != "closed"]
    return ProviderStatusRead.model_validate({**answer, "down": down})
