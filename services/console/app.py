"""The console's composition root: public API, live hub, web page, development admin."""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from services.console import (
    admin_users,
    api,
    attachments,
    cases,
    dead_letters,
    message_templates,
    pages,
    passwords,
    problems,
    providers,
    reports,
    routing_admin,
    throttle,
    users,
    walkin,
    workspace,
)
from services.console.auth import Directory
from services.console.clients import ServiceClient
from services.console.deps import ConsoleParts
from services.console.limits import BodyLimit
from services.console.live import LiveHub
from services.console.store import throttle as throttle_store
from services.console.store import tickets as tickets_store
from services.console.store import users as users_store
from services.console.store import workspace as workspace_store
from shared.bus import Subscription
from shared.errors import ConfigError, Invalid
from shared.http import health_router, install_common
from shared.runtime import Runtime, ServiceParts, running

log = logging.getLogger(__name__)
# In this order: the workspace's /cases/counts and the attachment routes before the
# case routes' /cases/{case_id} and /cases/{case_id}/{action}.
ROUTERS = (
    api.router,
    admin_users.router,
    attachments.router,
    workspace.router,
    routing_admin.router,
    cases.router,
    walkin.router,
    reports.router,
    dead_letters.router,
    providers.router,
    message_templates.router,
    pages.router,
)


def admin_password() -> str:
    """Return a random development admin password that meets the password policy."""
    while True:
        password = secrets.token_urlsafe(12)
        try:
            passwords.check_policy(password, username="admin")
        except Invalid:
            continue
        return password


async def ensure_admin(runtime: Runtime) -> None:
    """In development, create ``admin`` (password from settings, else printed once)."""
    if runtime.settings.env != "development":
        return
    configured = runtime.settings.admin_password
    if configured is None and await users_store.find_user(runtime.store, username="admin"):
        return
    password = configured.get_secret_value() if configured else admin_password()
    try:
        await users.create_user(
            runtime.store,
            username="admin",
            password=password,
            role="admin",
            unit=None,
            at=runtime.clock.now(),
            replace=True,
        )
    except Invalid as exc:
        raise ConfigError(f"VOCDESK_ADMIN_PASSWORD refused: {exc}") from exc
    if configured is None:
        # Printed, not logged: the log must never hold a credential.
        print(f"vocdesk: admin password: {password}", file=sys.stderr, flush=True)


def console_parts(runtime: Runtime, *, http: httpx.AsyncClient) -> ConsoleParts:
    """Return the console's parts on ``runtime``, calling the other services through ``http``."""

    def client(service: str) -> ServiceClient:
        return ServiceClient.of(runtime.settings, service, http=http)

    return ConsoleParts(
        store=runtime.store,
        clock=runtime.clock,
        bus=runtime.bus,
        secret=runtime.settings.secret_key.get_secret_value(),
        org=runtime.settings.org,
        hotline=workspace.hotline_of(runtime.settings.org),
        directory=Directory(runtime.store),
        throttle=throttle.LoginThrottle(runtime.store),
        hub=LiveHub(),
        seen=workspace_store.SeenBook(runtime.store, runtime.clock),
        routing=client("routing"),
        privacy=client("privacy"),
        intake=client("intake"),
        notify=client("notify"),
    )


def create_app(runtime: Runtime, *, http: httpx.AsyncClient | None = None) -> FastAPI:
    """Build the console's HTTP app on ``runtime``.

    ``http`` reaches the other services (tests pass one routing them in-process);
    the console closes only a client it made itself.
    """
    owns_http = http is None
    http = http or httpx.AsyncClient(timeout=10.0)
    parts = console_parts(runtime, http=http)
    service = ServiceParts(
        indexes={
            **users_store.INDEXES,
            **throttle_store.INDEXES,
            **tickets_store.INDEXES,
            **workspace_store.INDEXES,
        },
        subscriptions=[
            Subscription(queue="console.events", handler=parts.hub.on_event, prefetch=16)
        ],
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, service):
            await ensure_admin(runtime)
            await workspace.seed_canned(runtime.store, runtime.settings.org)
            yield
        if owns_http:
            await http.aclose()

    app = FastAPI(title="vocdesk console", version="1", lifespan=lifespan)
    app.state.parts = parts
    install_common(app, public_docs=True)
    problems.install(app)
    app.add_middleware(BodyLimit)
    app.include_router(health_router(runtime.readiness))
    for router in ROUTERS:
        app.include_router(router)

    return app
