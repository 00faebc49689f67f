"""Notify's own settings: outbound gateways, delivery timing, surveys (``VOCDESK_*``).

SMTP, the sender address and LINE come from ``shared.settings`` because other
services and outside clients rely on those names; what only notify reads lives
here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AnyUrl, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    """What notify reads beyond the shared settings."""

    model_config = SettingsConfigDict(env_prefix="VOCDESK_", env_file=".env", extra="ignore")

    # SMS gateway taking JSON {from, to, text} with HTTP basic auth.
    sms_gateway_url: AnyUrl | None = None
    sms_gateway_username: str = ""
    sms_gateway_password: SecretStr = SecretStr("")
    sms_sender: str = "VOCDESK"
    sms_max_segments: int = Field(default=3, ge=1, le=10)

    # Firebase Cloud Messaging HTTP v1: a service-account JSON file, or a
    # ready access token where something else refreshes it.
    fcm_project_id: str | None = None
    fcm_credentials_file: Path | None = None
    fcm_access_token: SecretStr | None = None
    fcm_base_url: AnyUrl = AnyUrl("https://fcm.googleapis.com")

    # Delivery: backoff between attempts, and when to give up and tell an agent.
    # The first retry waits at least notify_retry_min_s; later ones are drawn
    # between it and the exponential ceiling, so retries never bunch near zero.
    notify_retry_min_s: float = Field(default=1.0, gt=0)
    notify_retry_base_s: float = Field(default=2.0, gt=0)
    notify_retry_max_s: float = Field(default=300.0, gt=0)
    notify_give_up_after_s: float = Field(default=6 * 3600.0, gt=0)
    notify_poll_interval_s: float = Field(default=1.0, gt=0)
    notify_batch_size: int = Field(default=64, ge=1, le=1000)
    notify_concurrency: int = Field(default=64, ge=1, le=1000)
    # A claimed delivery is another replica's to retry after this; it must
    # outlast the slowest send (SMTP timeout) so two replicas never race.
    notify_lease_s: float = Field(default=90.0, gt=0)
    notify_http_timeout_s: float = Field(default=10.0, gt=0)
    notify_smtp_timeout_s: float = Field(default=30.0, gt=0)
    # How long a write waits for others to the same collection to go with it
    # in one bulk write (records, outcomes, rate slots, reply tokens): fewer
    # round trips to the store per notification, each sent a little later
    # (a record and a rate slot wait before a send: about 0.2 s at 0.1).
    notify_write_linger_s: float = Field(default=0.1, ge=0, le=1)

    # Circuit breaker per provider: open after this many transient failures in
    # a row, let one probe through after notify_breaker_open_s, doubling (up to
    # the max) while probes keep failing.
    notify_breaker_failures: int = Field(default=5, ge=1)
    notify_breaker_open_s: float = Field(default=30.0, gt=0)
    notify_breaker_open_max_s: float = Field(default=300.0, gt=0)
    # Addresses looked up from privacy, kept in memory until their delivery ends.
    notify_address_cache_size: int = Field(default=10_000, ge=0)

    # Per-customer rate limit: at most this many messages per window; more wait.
    notify_rate_limit: int = Field(default=10, ge=1)
    notify_rate_window_s: float = Field(default=3600.0, gt=0)

    # Satisfaction survey links for email, SMS and the app.
    survey_base_url: AnyUrl | None = None
    survey_ttl_days: float = Field(default=14.0, gt=0)
