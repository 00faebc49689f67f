"""Intake's own settings (``VOCDESK_*``): mail organisations, fax gateways, the IMAP poller.

The settings every service shares live in ``shared.settings``; these are read
only by intake's mail intake, so they stay here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.errors import ConfigError
from shared.kinds import OrgId
from shared.org_files import known_orgs

Addresses = Annotated[list[str], NoDecode]


class IntakeSettings(BaseSettings):
    """Mail intake's settings; the IMAP poller is off unless host and user are set."""

    model_config = SettingsConfigDict(env_prefix="VOCDESK_", env_file=".env", extra="ignore")

    # "address=org" or "domain=org"; a recipient matching none goes to VOCDESK_ORG.
    # By default each organisation with a file has its demo domain, <org>-demo.example.
    mail_orgs: Addresses = Field(
        default_factory=lambda: [f"{org}-demo.example={org}" for org in known_orgs()]
    )
    fax_gateway_addresses: Addresses = Field(default_factory=list)
    # Peers allowed to deliver fax-to-email over SMTP; empty trusts the From address.
    fax_gateway_hosts: Addresses = Field(default_factory=list)

    imap_host: str | None = None
    imap_port: int | None = Field(default=None, gt=0, lt=65536)
    imap_ssl: bool = True
    imap_user: str | None = None
    imap_password: SecretStr = SecretStr("")
    imap_mailbox: str = "INBOX"
    # Where accepted mail is moved (IMAP MOVE); unset, it is only flagged \Seen.
    imap_move_to: str | None = None
    imap_poll_s: float = Field(default=60.0, gt=0)
    imap_timeout_s: float = Field(default=60.0, gt=0)

    # Optional Asterisk manager interface; the listener runs only when a host is set.
    ami_host: str | None = None
    ami_port: int = Field(default=5038, gt=0, lt=65536)
    ami_user: str | None = None
    ami_secret: SecretStr = SecretStr("")

    @field_validator("mail_orgs", "fax_gateway_addresses", "fax_gateway_hosts", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _check(self) -> IntakeSettings:
        self.org_routes()  # refuse a malformed VOCDESK_MAIL_ORGS at start, not per mail
        if self.ami_host and not (self.ami_user and self.ami_secret.get_secret_value()):
            raise ConfigError("VOCDESK_AMI_HOST needs VOCDESK_AMI_USER and VOCDESK_AMI_SECRET")
        if self.imap_host and not (self.imap_user and self.imap_password.get_secret_value()):
            raise ConfigError("VOCDESK_IMAP_HOST needs VOCDESK_IMAP_USER and VOCDESK_IMAP_PASSWORD")
        return self

    @property
    def imap_enabled(self) -> bool:
        """Return True if a mailbox to poll is configured."""
        return bool(self.imap_host and self.imap_user)

    @property
    def imap_port_or_default(self) -> int:
        """Return the IMAP port: the configured one, else 993 with TLS and 143 without."""
        return self.imap_port or (993 if self.imap_ssl else 143)

    def org_routes(self) -> dict[str, OrgId]:
        """Return each configured address or domain, lower-cased, mapped to its organisation."""
        routes: dict[str, OrgId] = {}
        orgs = known_orgs()
        for item in self.mail_orgs:
            target, _, org = item.rpartition("=")
            org = org.strip()
            if not target.strip() or org not in orgs:
                choices = "|".join(orgs)
                raise ConfigError(f"VOCDESK_MAIL_ORGS entry {item!r} is not address={choices}")
            routes[target.strip().lower()] = org
        return routes
