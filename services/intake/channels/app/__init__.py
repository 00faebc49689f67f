"""The mobile-app channel: its contact route (``channel``)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from services.intake.channels import RoutesOnly
from services.intake.channels.app.channel import AppParts, router
from services.intake.settings import IntakeSettings
from shared.messages import Channel as ChannelName
from shared.runtime import Runtime


class AppChannel(RoutesOnly):
    """The app channel on a runtime: ``POST /v1/app/contacts``."""

    name: ChannelName = "app"

    def __init__(self, runtime: Runtime, settings: IntakeSettings) -> None:
        self.parts = AppParts.on(runtime)

    def routers(self) -> Sequence[APIRouter]:
        """Return the app's contact route."""
        return [router]
