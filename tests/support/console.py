"""The whole console app (``create_app``) in front of the desk: routing, privacy and intake.

The console runs with its own database and bus connection on the desk's
virtual host; its calls to the other services go over ASGI, notify is a stub
that reports every provider healthy. One account per role is created and
logged in, and one case exists in the unit member's unit.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from fastapi import FastAPI
from pydantic import AnyUrl

from services.console import users
from services.console.app import create_app
from services.console.auth import issue_token
from shared.bus.amqp import AmqpBus
from shared.runtime import Runtime, open_store
from tests.support.desk import Desk, running_desk
from tests.support.messages import contact

PASSWORD = "console-matrix-passphrase-7"
ROLES = ("agent", "supervisor", "manager", "admin", "dpo", "unit_member")
# Accounts that are not personas: one to log in as, one for admins to change.
LOGIN_USER = "matrix.login"
TARGET_USER = "matrix.target"


@dataclass
class ConsoleUnderTest:
    """The running console, its personas' tokens and a case to act on."""

    desk: Desk
    app: FastAPI
    client: httpx.AsyncClient
    runtime: Runtime
    tokens: dict[str, str]
    case: dict[str, Any]

    def headers(self, persona: str) -> dict[str, str]:
        """Return the headers of ``persona`` (``anonymous`` sends no token)."""
        if persona == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[persona]}"}


def _notify_stub(request: httpx.Request) -> httpx.Response:
    # Every provider healthy, no template changed: notify's answers, as empty as they come.
    path = request.url.path
    if path == "/internal/v1/templates":
        return httpx.Response(200, json=_TEMPLATES)
    if path == "/internal/v1/templates/preview":
        slot = json.loads(request.content)["slot"]
        return httpx.Response(200, json={"slot": slot, "sample": {}, "renders": []})
    if path == "/internal/v1/templates/changes":
        return httpx.Response(200, json={"items": []})
    if path.startswith("/internal/v1/templates/"):
        slot = unquote(path.removeprefix("/internal/v1/templates/"))
        return httpx.Response(200, json=_SLOT | {"name": slot})
    return httpx.Response(200, json={"providers": []})


_TEMPLATES = {
    "kinds": [],
    "channels": [],
    "languages": [],
    "parts": [],
    "max_chars": 20_000,
    "sample": {},
    "overrides": {},
    "slots": [],
}
_SLOT = dict.fromkeys(
    ("language", "kind", "part", "default", "fallback", "override", "updated_at", "updated_by")
)


@asynccontextmanager
async def running_console(mongo_url: str, tmp_path: Path) -> AsyncIterator[ConsoleUnderTest]:
    """Run the desk and the console app in front of it, with every role logged in."""
    async with running_desk(mongo_url, tmp_path) as desk, AsyncExitStack() as stack:
        settings = desk.settings.model_copy(
            update={f"{name}_url": AnyUrl(f"http://{name}") for name in desk.apps}
            | {"notify_url": AnyUrl("http://notify")}
        )
        mounts: dict[str, httpx.AsyncBaseTransport] = {
            f"http://{name}": httpx.ASGITransport(app=app) for name, app in desk.apps.items()
        }
        mounts["http://notify"] = httpx.MockTransport(_notify_stub)
        http = await stack.enter_async_context(httpx.AsyncClient(mounts=mounts, timeout=30))
        runtime = Runtime(
            service="console",
            settings=settings,
            bus=AmqpBus(desk.amqp_url),
            store=open_store(settings, "console", mongo_url),
        )
        app = create_app(runtime, http=http)
        await stack.enter_async_context(app.router.lifespan_context(app))

        first = contact(text="ไฟดับทั้งหมู่บ้านตั้งแต่เมื่อคืน มีสายไฟขาด")
        await desk.receive(first)
        case = await desk.case_holding(first.id)
        now = runtime.clock.now()
        tokens = {}
        for role in ROLES:
            unit = case.unit if role == "unit_member" else None
            doc = await users.create_user(
                runtime.store,
                username=f"matrix.{role}",
                password=PASSWORD,
                role=role,
                unit=unit,
                at=now,
            )
            tokens[role] = issue_token(doc, secret=settings.secret_key.get_secret_value(), now=now)
        for name in (LOGIN_USER, TARGET_USER):
            await users.create_user(
                runtime.store, username=name, password=PASSWORD, role="agent", unit=None, at=now
            )
        client = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                base_url="http://console",
                timeout=30,
            )
        )
        yield ConsoleUnderTest(
            desk=desk,
            app=app,
            client=client,
            runtime=runtime,
            tokens=tokens,
            case={"id": case.id, "number": case.number, "unit": case.unit},
        )
        await runtime.store.client.drop_database(runtime.store.db.name)
