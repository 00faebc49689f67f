"""Routing's composition root: case consumers, the outbox relay, the internal API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.routing import api
from services.routing.handlers import Routing
from services.routing.org import load_org
from services.routing.outbox import OutboxRelay
from services.routing.store import INDEXES
from shared.http import health_router, install_common
from shared.runtime import Runtime, ServiceParts, running


def create_app(runtime: Runtime) -> FastAPI:
    """Build routing's HTTP app on ``runtime``."""
    org = load_org(runtime.settings.org)
    relay = OutboxRelay(runtime)
    routing = Routing(runtime, org=org, relay=relay)
    parts = ServiceParts(
        indexes=INDEXES, subscriptions=routing.subscriptions(), background=[relay.run]
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, parts):
            yield

    app = FastAPI(title="vocdesk routing", version="1", lifespan=lifespan)
    install_common(app)
    app.include_router(health_router(runtime.readiness))
    app.include_router(api.router(runtime, org=org))
    return app
