"""Privacy's own settings: retention periods per data class and background intervals."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DAY_S = 24 * 3600


class PrivacySettings(BaseSettings):
    """``VOCDESK_RETENTION_*`` and privacy's loop intervals; keys stay in the shared settings."""

    model_config = SettingsConfigDict(env_prefix="VOCDESK_", env_file=".env", extra="ignore")

    # Clear contact text (and its reply address) is kept this long after the case closed.
    retention_contact_text_days: int = Field(default=365, ge=1)
    # A customer's identity is kept this long after their last contact, once
    # every contact of theirs has had its clear text purged.
    retention_identity_days: int = Field(default=730, ge=1)
    retention_interval_s: float = Field(default=6 * 3600, gt=0)
    consent_relay_interval_s: float = Field(default=5.0, gt=0)
    # How long a reply-handle look-up may wait for others to go with it in one
    # read and one audit append. None by default: look-ups asked while a group
    # is on its way go together anyway, and notify asks for a batch of
    # deliveries at once; a linger trades each look-up's latency for fewer
    # round trips when look-ups come one by one.
    privacy_lookup_linger_s: float = Field(default=0.0, ge=0, le=1)
    # How long a batch of received contacts waits to fill (up to 32).
    privacy_batch_wait_s: float = Field(default=0.02, gt=0, le=1)
