"""Notify's composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.notify.handlers import Notify
from services.notify.store import INDEXES
from shared.http import health_router, install_common
from shared.runtime import Runtime, ServiceParts, running


def create_app(runtime: Runtime) -> FastAPI:
    """Build notify's HTTP app on ``runtime``."""
    notify = Notify(runtime)
    parts = ServiceParts(indexes=INDEXES, subscriptions=notify.subscriptions())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, parts):
            yield

    app = FastAPI(title="vocdesk notify", version="1", lifespan=lifespan)
    install_common(app)
    app.include_router(health_router(runtime.readiness))
    return app
