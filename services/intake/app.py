"""Intake's composition root: channel routes, archive indexes, the bus."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.intake import (
    app_channel,
    fax_channel,
    line_channel,
    line_media,
    phone_channel,
    walkin_channel,
)
from services.intake.ami_listener import AmiListener
from services.intake.mail_channel import mail_loops
from services.intake.openapi import document_readiness
from services.intake.settings import IntakeSettings
from services.intake.store import INDEXES
from shared.http import health_router, install_common
from shared.runtime import Runtime, ServiceParts, running


def create_app(runtime: Runtime) -> FastAPI:
    """Build intake's HTTP app on ``runtime``."""

    media = line_media.MediaFetcher(runtime)
    settings = IntakeSettings()
    loops = [media.run, *mail_loops(runtime, settings)]
    if settings.ami_host and settings.ami_user:
        ami = AmiListener(
            runtime,
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_user,
            secret=settings.ami_secret.get_secret_value(),
        )
        loops.append(ami.run)
    parts = ServiceParts(
        indexes={**INDEXES, **line_media.INDEXES, **phone_channel.INDEXES},
        background=loops,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, parts):
            yield

    app = FastAPI(title="vocdesk intake", version="1", lifespan=lifespan)
    install_common(app)
    app.include_router(document_readiness(health_router(runtime.readiness)))
    app.include_router(app_channel.router(runtime))
    app.include_router(line_channel.router(runtime, media=media))
    app.include_router(phone_channel.router(runtime))
    app.include_router(fax_channel.router(runtime))
    app.include_router(walkin_channel.router(runtime))
    return app
