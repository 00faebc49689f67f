"""The console's composition root: public API, live hub, web page, development admin."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Response
from fastapi.responses import FileResponse, HTMLResponse

from services.console import (
    admin_users,
    api,
    attachments,
    cases,
    passwords,
    problems,
    throttle,
    tickets,
    users,
    walkin,
    workspace,
)
from services.console.auth import Directory
from services.console.clients import ServiceClient
from services.console.dead_letters import router as dead_letters_router
from services.console.limits import BodyLimit
from services.console.live import LiveHub
from services.console.providers import router as providers_router
from services.console.reports import router as reports_router
from shared.bus import Subscription
from shared.errors import ConfigError, Invalid, NotFound
from shared.http import health_router, install_common
from shared.runtime import Runtime, ServiceParts, running

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
APP_DIR = STATIC / "app"
ASSET = re.compile(r"^[a-z][a-z0-9-]{0,40}\.(js|css|svg)$")
ASSET_TYPES = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}


def page_csp(page: str) -> str:
    """Return the page's Content-Security-Policy: its own inline script and style only, by hash."""

    def hashes(tag: str) -> str:
        blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.DOTALL)
        return " ".join(
            f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'"
            for b in blocks
        )

    return (
        f"default-src 'self'; script-src 'self' {hashes('script')}; "
        f"style-src 'self' {hashes('style')}; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
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
    if configured is None and await runtime.store[users.USERS].find_one({"_id": "admin"}):
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


def create_app(runtime: Runtime, *, http: httpx.AsyncClient | None = None) -> FastAPI:
    """Build the console's HTTP app on ``runtime``.

    ``http`` reaches the other services (tests pass one routing them in-process);
    the console closes only a client it made itself.
    """
    hub = LiveHub()
    owns_http = http is None
    http = http or httpx.AsyncClient(timeout=10.0)
    routing = ServiceClient.of(runtime.settings, "routing", http=http)
    privacy = ServiceClient.of(runtime.settings, "privacy", http=http)
    intake = ServiceClient.of(runtime.settings, "intake", http=http)
    directory = Directory(runtime.store)
    parts = ServiceParts(
        indexes={
            **users.INDEXES,
            **throttle.INDEXES,
            **tickets.INDEXES,
            **workspace.INDEXES,
        },
        subscriptions=[Subscription(queue="console.events", handler=hub.on_event, prefetch=16)],
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, parts):
            await ensure_admin(runtime)
            await workspace.seed_canned(runtime.store, runtime.settings.org)
            yield
        if owns_http:
            await http.aclose()

    app = FastAPI(title="vocdesk console", version="1", lifespan=lifespan)
    install_common(app, public_docs=True)
    problems.install(app)
    app.add_middleware(BodyLimit)
    app.include_router(health_router(runtime.readiness))
    app.include_router(api.router(runtime, routing=routing, hub=hub, directory=directory))
    current_user = api.user_dependency(runtime.settings.secret_key.get_secret_value(), directory)
    app.include_router(admin_users.router(runtime, current_user=current_user, directory=directory))
    app.include_router(attachments.router(runtime, current_user=current_user, routing=routing))
    app.include_router(
        workspace.router(runtime, current_user=current_user, routing=routing, privacy=privacy)
    )
    app.include_router(
        cases.router(
            current_user=current_user,
            routing=routing,
            privacy=privacy,
            hub=hub,
            seen=workspace.SeenBook(runtime.store, runtime.clock),
        )
    )
    app.include_router(walkin.router(current_user=current_user, intake=intake, routing=routing))
    app.include_router(
        reports_router(
            current_user=current_user,
            routing=routing,
            org=runtime.settings.org,
            page_csp=page_csp,
        )
    )
    app.include_router(dead_letters_router(runtime, current_user=current_user, page_csp=page_csp))
    notify = ServiceClient.of(runtime.settings, "notify", http=http)
    app.include_router(providers_router(current_user=current_user, notify=notify))

    shell = (STATIC / "shell.html").read_text(encoding="utf-8")
    shell_headers = {"Content-Security-Policy": page_csp(shell), "Cache-Control": "no-store"}

    async def page() -> Response:
        # One page for every workspace URL; the page's script shows the view the URL names.
        return HTMLResponse(shell, headers=shell_headers)

    for path in ("/", "/cases/{case_id}", "/supervisor", "/admin", "/admin/{section}"):
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False)

    @app.get("/app/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if not ASSET.fullmatch(name) or not (APP_DIR / name).is_file():
            raise NotFound(f"no file {name[:60]!r}")
        return FileResponse(
            APP_DIR / name,
            media_type=ASSET_TYPES[name.rsplit(".", 1)[1]],
            headers={"Cache-Control": "no-cache"},
        )

    return app
