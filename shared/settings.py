"""Settings from ``VOCDESK_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AnyUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.errors import ConfigError
from shared.kinds import OrgId
from shared.org_files import known_orgs, org_path

PLACEHOLDER = "change-me"

CommaList = Annotated[list[str], NoDecode]


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# The secrets each service uses; production refuses to start one without its own.
SERVICE_SECRETS: dict[str, tuple[str, ...]] = {
    "intake": (
        "secret_key",
        "service_token",
        "acting_key",
        "line_channel_secret",
        "line_channel_token",
        "fax_hmac_secret",
    ),
    "privacy": ("service_token", "acting_key", "vault_kek", "blind_index_key"),
    "routing": ("service_token", "acting_key"),
    "notify": ("secret_key", "service_token", "acting_key", "line_channel_token"),
    "console": ("secret_key", "service_token", "acting_key"),
}


class Settings(BaseSettings):
    """Every setting of every service; each service reads what it needs."""

    model_config = SettingsConfigDict(env_prefix="VOCDESK_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    org: OrgId = "pea"
    log_level: str = "INFO"
    data_dir: Path = Path("var")

    bus: Literal["auto", "rabbitmq", "in-process"] = "auto"
    amqp_url: AnyUrl | None = None
    mongo_url: AnyUrl | None = None
    mongo_db_prefix: str = "vocdesk"
    publish_timeout_s: float = Field(default=2.0, gt=0)
    # ``vocdesk up`` gives up on a service after this many crashes in a row.
    supervisor_max_restarts: int = Field(default=5, ge=0)
    # ... and stops one still not ready this long after its start (a crash).
    supervisor_start_timeout_s: float = Field(default=120.0, gt=0)

    host: str = "127.0.0.1"
    console_port: int = 8000
    intake_port: int = 8001
    privacy_port: int = 8002
    routing_port: int = 8003
    notify_port: int = 8004
    smtp_port: int = 2525

    intake_url: AnyUrl | None = None
    privacy_url: AnyUrl | None = None
    routing_url: AnyUrl | None = None
    notify_url: AnyUrl | None = None

    secret_key: SecretStr = SecretStr(PLACEHOLDER)
    service_token: SecretStr = SecretStr(PLACEHOLDER)
    acting_key: SecretStr = SecretStr(PLACEHOLDER)
    vault_kek: SecretStr = SecretStr(PLACEHOLDER)
    blind_index_key: SecretStr = SecretStr(PLACEHOLDER)
    admin_password: SecretStr | None = None

    line_channel_secret: SecretStr = SecretStr(PLACEHOLDER)
    line_channel_token: SecretStr = SecretStr(PLACEHOLDER)
    line_api_base: AnyUrl = AnyUrl("https://api.line.me")
    app_api_keys: CommaList = Field(default_factory=list)
    cti_tokens: CommaList = Field(default_factory=list)
    fax_hmac_secret: SecretStr = SecretStr(PLACEHOLDER)
    smtp_url: AnyUrl | None = None
    mail_from: str = "vocdesk@localhost"

    # Intake rate limits: token buckets per source (an app key, a LINE bot, a
    # PBX) and per customer (an app user, a LINE user, a caller), per replica.
    # A source is one backend for many customers, so its bucket takes a
    # province-wide outage; one customer flooding meets their own bucket first.
    rate_app_per_s: float = Field(default=500.0, gt=0)
    rate_app_burst: int = Field(default=5000, ge=1)
    rate_app_user_per_s: float = Field(default=0.2, gt=0)
    rate_app_user_burst: int = Field(default=10, ge=1)
    rate_line_per_s: float = Field(default=500.0, gt=0)
    rate_line_burst: int = Field(default=5000, ge=1)
    rate_line_user_per_s: float = Field(default=1.0, gt=0)
    rate_line_user_burst: int = Field(default=30, ge=1)
    rate_pbx_per_s: float = Field(default=50.0, gt=0)
    rate_pbx_burst: int = Field(default=1000, ge=1)
    rate_caller_per_s: float = Field(default=1.0, gt=0)
    rate_caller_burst: int = Field(default=40, ge=1)

    _split = field_validator("app_api_keys", "cti_tokens", mode="before")(_split_commas)

    @field_validator("org", mode="before")
    @classmethod
    def _served_org(cls, value: object) -> object:
        # An organisation is a file in the config folder; serving one without it cannot work.
        if isinstance(value, str):
            path = org_path(value)  # refuses an id that is not a plain name
            if not path.is_file():
                known = ", ".join(known_orgs()) or "none"
                raise ConfigError(
                    f"VOCDESK_ORG={value!r} has no organisation file {path}; "
                    f"the config folder has: {known}"
                )
        return value

    @model_validator(mode="after")
    def _development_secrets(self) -> Settings:
        # Development never runs on "change-me": each install gets random
        # secrets, created once under data_dir and shared by all its services.
        if self.env != "development":
            return self
        missing = [n for n in INSTALL_SECRETS if getattr(self, n).get_secret_value() == PLACEHOLDER]
        if missing:
            generated = install_secrets(self.data_dir)
            for name in missing:
                setattr(self, name, SecretStr(generated[name]))
        return self

    def refuse_placeholders(self, services: Iterable[str] = tuple(SERVICE_SECRETS)) -> None:
        """In production, raise ``ConfigError`` naming each secret ``services`` need but lack.

        Each service is checked for its own secrets only, so a deployment can
        give each one just what it uses (privacy alone holds the vault keys).
        """
        if self.env != "production":
            return
        needed = dict.fromkeys(name for service in services for name in SERVICE_SECRETS[service])
        placeholders = [
            name for name in needed if getattr(self, name).get_secret_value() in ("", PLACEHOLDER)
        ]
        if placeholders:
            names = ", ".join(f"VOCDESK_{n.upper()}" for n in placeholders)
            raise ConfigError(f"placeholder secrets refused in production: {names}")

    def service_url(self, service: Literal["intake", "privacy", "routing", "notify"]) -> str:
        """Return the base URL of another service's internal HTTP API."""
        configured: AnyUrl | None = getattr(self, f"{service}_url")
        if configured is not None:
            return str(configured).rstrip("/")
        port: int = getattr(self, f"{service}_port")
        return f"http://127.0.0.1:{port}"


# Secrets only this install's services share; channel secrets come from the provider.
INSTALL_SECRETS = ("secret_key", "service_token", "acting_key", "vault_kek", "blind_index_key")
SECRETS_FILE = "secrets.json"


def install_secrets(data_dir: Path) -> dict[str, str]:
    """Return the install's development secrets from ``data_dir``, creating them once (0600)."""
    path = data_dir / SECRETS_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        values = {name: secrets.token_urlsafe(32) for name in INSTALL_SECRETS}
        values["vault_kek"] = f"dev1:{values['vault_kek']}"
        temporary = data_dir / f".{SECRETS_FILE}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(values, out, indent=2)
        try:
            # Linking fails if another service of the install won the race: use its file.
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    stored = json.loads(path.read_text())
    if not isinstance(stored, dict) or any(not stored.get(n) for n in INSTALL_SECRETS):
        raise ConfigError(f"{path} is not a complete secrets file; remove it to start afresh")
    return {name: str(stored[name]) for name in INSTALL_SECRETS}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process's settings, read once from the environment."""
    return Settings()
