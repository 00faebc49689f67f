"""The channel adapters this deployment can use, built from settings.

A channel without its settings (no SMTP URL, no SMS gateway, no FCM project,
LINE's placeholder token) is simply absent, and a customer on it is reached
the next way ``domain.candidate_addresses`` lists, in the end by an agent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx
import jwt

from services.notify.adapters import (
    CallbackTaskAdapter,
    ChannelAdapter,
    DeliveryChannel,
    EmailAdapter,
    FcmAdapter,
    LineAdapter,
    SmsAdapter,
)
from services.notify.adapters.fcm import TokenProvider
from services.notify.settings import NotifySettings
from shared.clock import Clock
from shared.errors import ConfigError
from shared.settings import PLACEHOLDER, Settings

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


class Channels:
    """The configured adapters by delivery channel; callback is always there."""

    def __init__(self, adapters: Mapping[DeliveryChannel, ChannelAdapter]) -> None:
        self._adapters: dict[DeliveryChannel, ChannelAdapter] = {
            "callback": CallbackTaskAdapter(),
            **adapters,
        }

    def get(self, channel: DeliveryChannel) -> ChannelAdapter | None:
        """Return the adapter for ``channel`` if this deployment has one."""
        return self._adapters.get(channel)

    @property
    def available(self) -> frozenset[str]:
        """Return the channels that can send."""
        return frozenset(self._adapters)


def build_channels(
    settings: Settings, notify: NotifySettings, *, http: httpx.AsyncClient, clock: Clock
) -> Channels:
    """Return the adapters the settings configure."""
    adapters: dict[DeliveryChannel, ChannelAdapter] = {}
    line_token = settings.line_channel_token.get_secret_value()
    if line_token and line_token != PLACEHOLDER:
        adapters["line"] = LineAdapter(str(settings.line_api_base), line_token, http, clock=clock)
    if settings.smtp_url is not None:
        adapters["email"] = email_adapter(
            str(settings.smtp_url), settings.mail_from, timeout=notify.notify_smtp_timeout_s
        )
    if notify.sms_gateway_url is not None:
        adapters["sms"] = SmsAdapter(
            str(notify.sms_gateway_url),
            notify.sms_gateway_username,
            notify.sms_gateway_password.get_secret_value(),
            notify.sms_sender,
            http,
            max_segments=notify.sms_max_segments,
        )
    tokens = fcm_tokens(notify, http)
    if notify.fcm_project_id and tokens is not None:
        adapters["app"] = FcmAdapter(
            notify.fcm_project_id, tokens, http, base_url=str(notify.fcm_base_url)
        )
    return Channels(adapters)


def email_adapter(smtp_url: str, mail_from: str, *, timeout: float) -> EmailAdapter:
    """Return the email adapter for ``smtp://[user:password@]host:port`` (``smtps`` for TLS)."""
    url = urlparse(smtp_url)
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise ConfigError(f"VOCDESK_SMTP_URL must look like smtp://host:port, not {smtp_url!r}")
    secure = url.scheme == "smtps"
    return EmailAdapter(
        url.hostname,
        url.port or (465 if secure else 25),
        mail_from,
        timeout=timeout,
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        # None lets aiosmtplib upgrade when the relay offers STARTTLS.
        start_tls=None if not secure else False,
    )


def fcm_tokens(notify: NotifySettings, http: httpx.AsyncClient) -> TokenProvider | None:
    """Return how FCM access tokens are obtained, or None if nothing is configured."""
    if notify.fcm_credentials_file is not None:
        return ServiceAccountTokens(notify.fcm_credentials_file, http)
    if notify.fcm_access_token is not None:
        fixed = notify.fcm_access_token.get_secret_value()

        async def static() -> str:
            return fixed

        return static
    return None


class ServiceAccountTokens:
    """OAuth 2.0 access tokens for a Google service account (JWT bearer grant), cached."""

    def __init__(self, credentials_file: Path, http: httpx.AsyncClient) -> None:
        try:
            info = json.loads(credentials_file.read_text(encoding="utf-8"))
            self._email = str(info["client_email"])
            self._key = str(info["private_key"])
            self._token_uri = str(info.get("token_uri") or "https://oauth2.googleapis.com/token")
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"VOCDESK_FCM_CREDENTIALS_FILE is unusable: {exc}") from exc
        self._http = http
        self._token = ""
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        """Return a valid access token, fetching a new one shortly before the old one lapses."""
        async with self._lock:
            if time.time() < self._expires - 60:
                return self._token
            now = int(time.time())
            assertion = jwt.encode(
                {
                    "iss": self._email,
                    "scope": FCM_SCOPE,
                    "aud": self._token_uri,
                    "iat": now,
                    "exp": now + 3600,
                },
                self._key,
                algorithm="RS256",
            )
            response = await self._http.post(
                self._token_uri,
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    "assertion": assertion,
                },
            )
            response.raise_for_status()
            body = response.json()
            self._token = str(body["access_token"])
            self._expires = now + float(body.get("expires_in", 3600))
            return self._token
