"""The walk-in channel: counter entries the console forwards (``channel``)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from services.intake.channels import RoutesOnly
from services.intake.channels.walkin.channel import WalkInParts, router
from services.intake.settings import IntakeSettings
from shared.messages import Channel as ChannelName
from shared.runtime import Runtime


class WalkInChannel(RoutesOnly):
    """The walk-in channel on a runtime: ``POST /internal/v1/walk-in``."""

    name: ChannelName = "walk_in"

    def __init__(self, runtime: Runtime, settings: IntakeSettings) -> None:
        self.parts = WalkInParts(runtime)

    def routers(self) -> Sequence[APIRouter]:
        """Return the counter entry's route."""
        return [router]
