"""The phone channel: the CTI webhook (``channel``), its events (``events``), Asterisk (``ami``)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from services.intake.channels import Loop
from services.intake.channels.phone.ami import AmiListener
from services.intake.channels.phone.channel import PhoneParts, router
from services.intake.channels.phone.store import INDEXES
from services.intake.settings import IntakeSettings
from shared.messages import Channel as ChannelName
from shared.runtime import Runtime
from shared.store import IndexPlan


class PhoneChannel:
    """The phone channel on a runtime: the CTI webhook, and the AMI listener when configured."""

    name: ChannelName = "phone"
    indexes: IndexPlan = INDEXES

    def __init__(self, runtime: Runtime, settings: IntakeSettings) -> None:
        self._runtime = runtime
        self._settings = settings
        self.parts = PhoneParts.on(runtime)

    def routers(self) -> Sequence[APIRouter]:
        """Return ``POST /v1/phone/events``."""
        return [router]

    def background(self) -> Sequence[Loop]:
        """Return the AMI listener's loop if an AMI host and user are set, else none."""
        settings = self._settings
        if not (settings.ami_host and settings.ami_user):
            return []
        ami = AmiListener(
            self._runtime,
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_user,
            secret=settings.ami_secret.get_secret_value(),
        )
        return [ami.run]
