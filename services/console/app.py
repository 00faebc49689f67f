"""The console's composition root: public API, live hub, web page, development admin."""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import FileResponse

from services.console import api, cases, users, walkin
from services.console.clients import ServiceClient
from services.console.live import LiveHub
from services.console.reports import router as reports_router
from shared.bus import Subscription
from shared.http import health_router, install_common
from shared.runtime import Runtime, ServiceParts, running

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


async def ensure_admin(runtime: Runtime) -> None:
    """In development, create ``admin`` (password from settings, else printed once)."""
    if runtime.settings.env != "development":
        return
    configured = runtime.settings.admin_password
    if configured is None and await runtime.store[users.USERS].find_one({"_id": "admin"}):
        return
    password = configured.get_secret_value() if configured else secrets.token_urlsafe(12)
    await users.create_user(
        runtime.store,
        username="admin",
        password=password,
        role="admin",
        unit=None,
        at=runtime.clock.now(),
        replace=True,
    )
    if configured is None:
        # Printed, not logged: the log must never hold a credential.
        print(f"vocdesk: admin password: {password}", file=sys.stderr, flush=True)


def create_app(runtime: Runtime) -> FastAPI:
    """Build the console's HTTP app on ``runtime``."""
    hub = LiveHub()
    http = httpx.AsyncClient(timeout=10.0)
    token = runtime.settings.service_token.get_secret_value()
    routing = ServiceClient(runtime.settings.service_url("routing"), token=token, http=http)
    privacy = ServiceClient(runtime.settings.service_url("privacy"), token=token, http=http)
    intake = ServiceClient(runtime.settings.service_url("intake"), token=token, http=http)
    parts = ServiceParts(
        indexes=users.INDEXES,
        subscriptions=[Subscription(queue="console.events", handler=hub.on_event, prefetch=16)],
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, parts):
            await ensure_admin(runtime)
            yield
        await http.aclose()

    app = FastAPI(title="vocdesk console", version="1", lifespan=lifespan)
    install_common(app)
    app.include_router(health_router(runtime.readiness))
    app.include_router(api.router(runtime, routing=routing, hub=hub))
    current_user = api.user_dependency(runtime.settings.secret_key.get_secret_value())
    app.include_router(
        cases.router(current_user=current_user, routing=routing, privacy=privacy)
    )
    app.include_router(walkin.router(current_user=current_user, intake=intake, routing=routing))
    app.include_router(reports_router(current_user=current_user, routing=routing))

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app
