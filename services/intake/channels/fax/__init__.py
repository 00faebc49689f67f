"""The fax channel: the gateway's webhook (``channel``) and its reading of pages (``ocr``)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from services.intake.channels import RoutesOnly
from services.intake.channels.fax.channel import FaxParts, router
from services.intake.settings import IntakeSettings
from shared.messages import Channel as ChannelName
from shared.runtime import Runtime


class FaxChannel(RoutesOnly):
    """The fax channel on a runtime: ``POST /v1/fax/inbound``, read by OCR within the request."""

    name: ChannelName = "fax"

    def __init__(self, runtime: Runtime, settings: IntakeSettings) -> None:
        self.parts = FaxParts.on(runtime)

    def routers(self) -> Sequence[APIRouter]:
        """Return the fax gateway's webhook."""
        return [router]
