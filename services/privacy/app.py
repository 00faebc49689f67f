"""Privacy's composition root: the screening consumer and the internal API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.privacy import api
from services.privacy.handlers import Privacy
from services.privacy.screening import Screener, blind_indexer, key_ring
from services.privacy.store import INDEXES
from shared.http import health_router, install_common
from shared.runtime import Runtime, ServiceParts, running


def create_app(runtime: Runtime) -> FastAPI:
    """Build privacy's HTTP app on ``runtime``."""
    ring = key_ring(runtime.settings)
    screener = Screener(runtime.store, ring=ring, indexer=blind_indexer(runtime.settings))
    privacy = Privacy(runtime, screener=screener)
    parts = ServiceParts(indexes=INDEXES, subscriptions=privacy.subscriptions())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, parts):
            yield

    app = FastAPI(title="vocdesk privacy", version="1", lifespan=lifespan)
    install_common(app)
    app.include_router(health_router(runtime.readiness))
    app.include_router(api.router(runtime, ring=ring))
    return app
