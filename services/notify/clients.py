"""Notify's calls to privacy (where to reach a customer) and routing (a customer's rating).

Both carry the service token and act as user ``notify`` with role ``notify``.
The HTTP client is passed in, so tests can put a real privacy or routing app,
or a recording fake, behind it.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.notify.domain import ReplyTarget
from shared.errors import NotFound, UpstreamUnavailable
from shared.internal_api import Acting, InternalApi, raise_for_answer

NOTIFY = Acting(user="notify", role="notify")


class _Internal(InternalApi):
    """Another service's internal API, reached as notify."""

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request(method, path, acting=NOTIFY, **kwargs)


class PrivacyClient(_Internal):
    """Resolve reply handles to the customer's address (audited by privacy)."""

    async def reply_target(self, handle: str, *, case_id: str) -> ReplyTarget:
        """Return where the customer behind ``handle`` can be reached; NotFound if erased."""
        response = await self._request(
            "GET", f"/internal/v1/reply-handles/{handle}", params={"case_id": case_id}
        )
        if response.status_code == httpx.codes.NOT_FOUND:
            raise NotFound("the customer is unknown or erased")
        if response.status_code != httpx.codes.OK:
            # Anything else may pass (a busy audit log, a restart, a token being
            # rotated): the delivery waits and tries again until it gives up.
            raise UpstreamUnavailable(f"privacy answered {response.status_code}")
        return ReplyTarget.model_validate(response.json())

    async def staff_texts(self, refs: list[str], *, case_id: str) -> dict[str, str]:
        """Return the clear staff texts of ``refs`` to send; NotFound if one is gone."""
        response = await self._request(
            "POST",
            "/internal/v1/staff-texts/reveal",
            json={
                "case_id": case_id,
                "refs": refs,
                "purpose": "notify_customer",
                "reason": "text staff wrote to the customer",
            },
        )
        if response.status_code != httpx.codes.OK:
            # As for addresses: the delivery waits and tries again until it gives up.
            raise UpstreamUnavailable(f"privacy answered {response.status_code}")
        texts = response.json().get("texts", {})
        shown = {ref: texts[ref]["text"] for ref in refs if texts.get(ref, {}).get("revealed")}
        if len(shown) != len(set(refs)):
            # Erased (or never vaulted): the masked copy is never sent in its place.
            raise NotFound("the staff text is unknown or erased")
        return shown


class RoutingClient(_Internal):
    """Hand a customer's satisfaction rating to routing, which closes or reopens the case."""

    async def record_satisfaction(
        self, case_id: str, *, score: int, comment: str | None, channel: str
    ) -> None:
        """Record the rating; raise NotFound, Conflict, Invalid or UpstreamUnavailable."""
        response = await self._request(
            "POST",
            f"/internal/v1/cases/{case_id}/satisfaction",
            json={"score": score, "comment": comment, "channel": channel},
        )
        raise_for_answer(response)
