"""The LINE channel: the webhook (``channel``), its events (``events``), its media (``media``).

The media records are in ``store``.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from services.intake.channels import Loop
from services.intake.channels.line.channel import LineParts, router
from services.intake.channels.line.store import INDEXES
from services.intake.settings import IntakeSettings
from shared.messages import Channel as ChannelName
from shared.runtime import Runtime
from shared.store import IndexPlan


class LineChannel:
    """The LINE channel on a runtime: the webhook, and the loop fetching its media."""

    name: ChannelName = "line"
    indexes: IndexPlan = INDEXES

    def __init__(self, runtime: Runtime, settings: IntakeSettings) -> None:
        # One fetcher for both: the webhook wakes the loop when media is due.
        self.parts = LineParts.on(runtime)

    def routers(self) -> Sequence[APIRouter]:
        """Return ``POST /v1/line/webhook``."""
        return [router]

    def background(self) -> Sequence[Loop]:
        """Return the media fetcher's loop."""
        return [self.parts.media.run]
