"""Mobile app push through Firebase Cloud Messaging, HTTP v1 API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from services.notify.adapters.base import (
    AppAddress,
    DeliveryResult,
    OutboundMessage,
    json_field,
    post_json,
    result_from_response,
    wrong_address,
)

TokenProvider = Callable[[], Awaitable[str]]


def fcm_message(notification: OutboundMessage, device_token: str) -> dict[str, object]:
    """Build the v1 ``message``: a visible notification plus data for the app."""
    data = {
        "notification_id": notification.notification_id,
        "case_number": notification.case_number,
        "kind": notification.kind,
        "language": notification.language,
    }
    if notification.survey_url:
        data["survey_url"] = notification.survey_url
    return {
        "message": {
            "token": device_token,
            "notification": {
                "title": notification.subject or notification.case_number,
                "body": notification.text,
            },
            # FCM refuses data values that are not strings.
            "data": data,
        }
    }


class FcmAdapter:
    """Send notifications to app installations through FCM HTTP v1."""

    def __init__(
        self,
        project_id: str,
        token_provider: TokenProvider,
        http: httpx.AsyncClient,
        *,
        base_url: str = "https://fcm.googleapis.com",
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/v1/projects/{project_id}/messages:send"
        # Returns a fresh OAuth 2.0 access token; it owns caching and refresh.
        self._token_provider = token_provider
        self._http = http

    async def send(self, notification: OutboundMessage) -> DeliveryResult:
        """Post one message to FCM and report its answer."""
        address = notification.address
        if not isinstance(address, AppAddress):
            return wrong_address(notification, "FCM")
        token = await self._token_provider()
        answer = await post_json(
            self._http,
            self._url,
            fcm_message(notification, address.device_token),
            via="fcm",
            headers={"Authorization": f"Bearer {token}"},
        )
        if isinstance(answer, DeliveryResult):
            return answer
        return result_from_response(answer, via="fcm", message_id=json_field(answer, "name"))
