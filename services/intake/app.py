"""Intake's composition root: the channels' routes and loops, archive indexes, the bus."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.intake.channels import Channel, OpenChannel
from services.intake.channels.app import AppChannel
from services.intake.channels.fax import FaxChannel
from services.intake.channels.line import LineChannel
from services.intake.channels.mail import MailChannel
from services.intake.channels.phone import PhoneChannel
from services.intake.channels.walkin import WalkInChannel
from services.intake.settings import IntakeSettings
from services.intake.store import INDEXES
from shared.http import ServiceAuth, health_router, install_common, install_service_auth
from shared.runtime import Runtime, ServiceParts, running

# In the order their routes appear in the API description.
CHANNELS: tuple[OpenChannel, ...] = (
    AppChannel,
    LineChannel,
    PhoneChannel,
    FaxChannel,
    WalkInChannel,
    MailChannel,
)


def create_app(runtime: Runtime) -> FastAPI:
    """Build intake's HTTP app on ``runtime``."""

    settings = IntakeSettings()
    channels = [open_channel(runtime, settings) for open_channel in CHANNELS]
    indexes = dict(INDEXES)
    for channel in channels:
        indexes.update(channel.indexes)
    parts = ServiceParts(
        indexes=indexes,
        background=[loop for channel in channels for loop in channel.background()],
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, parts):
            yield

    app = FastAPI(title="vocdesk intake", version="1", lifespan=lifespan)
    install_common(app)
    app.include_router(health_router(runtime.readiness))
    mount(app, runtime, channels)
    return app


def mount(app: FastAPI, runtime: Runtime, channels: Sequence[Channel]) -> None:
    """Put ``channels``' routes on ``app``, each reading its parts from ``app.state.channels``."""
    # The walk-in door is called by the console with the service token.
    install_service_auth(app, ServiceAuth.of(runtime.settings, "intake"))
    app.state.channels = {channel.name: channel.parts for channel in channels}
    for channel in channels:
        for router in channel.routers():
            app.include_router(router)
