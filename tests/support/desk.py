"""Intake's walk-in door, privacy and routing on real RabbitMQ (a virtual host of their own).

Each service has its own database on the embedded store and its own bus
connection, as in production; the test reaches them over ASGI.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from services.intake.app import mount
from services.intake.channels.walkin import WalkInChannel
from services.intake.settings import IntakeSettings
from services.intake.store import INDEXES as INTAKE_INDEXES
from services.privacy.app import create_app as create_privacy
from services.privacy.settings import PrivacySettings
from services.routing.app import create_app as create_routing
from services.routing.cases import store as case_store
from services.routing.cases.domain import Case
from shared.bus.amqp import AmqpBus
from shared.http import health_router, install_common
from shared.ids import new_id
from shared.messages import Contact, ContactReceived, Envelope
from shared.runtime import Runtime, ServiceParts, open_store, running
from shared.settings import Settings
from tests.support.acting import acting_headers
from tests.support.broker import private_vhost
from tests.support.routing import KeywordModel

TOKEN = "desk-service-token"
T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, what: str, timeout: float = 60.0
) -> T:
    """Poll ``probe`` until it returns something; fail naming ``what`` after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = await probe()
        if found is not None:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Desk:
    """The running services and how a test talks to them."""

    settings: Settings
    runtimes: dict[str, Runtime]
    http: dict[str, httpx.AsyncClient]
    # Where another service joins the desk's bus, and the apps to call in-process.
    amqp_url: str = ""
    apps: dict[str, FastAPI] = field(default_factory=dict)

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        role: str,
        user: str = "tester",
        unit: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Call a service's internal API as ``user`` with ``role`` (and ``unit``)."""
        headers = acting_headers(audience=service, token=TOKEN, role=role, user=user, unit=unit)
        return await self.http[service].request(method, path, headers=headers, **kwargs)

    async def receive(self, contact: Contact) -> None:
        """Publish a contact as intake does once a channel accepted it."""
        await self.runtimes["intake"].bus.publish(Envelope.of(ContactReceived(contact=contact)))

    async def case_holding(self, contact_id: str) -> Case:
        """Wait until routing has put the contact into a case; return that case."""
        store = self.runtimes["routing"].store

        async def probe() -> Case | None:
            return await case_store.find_by_contact(store, contact_id)

        return await eventually(probe, what=f"a case holding contact {contact_id}")

    async def case(self, case_id: str) -> Case:
        """Return the case as routing stores it now."""
        return await case_store.get_case(self.runtimes["routing"].store, case_id)

    async def view(
        self, case_id: str, *, role: str, unit: str | None = None, user: str = "tester"
    ) -> dict[str, Any]:
        """Return the case's contacts as ``role`` sees them, asked the way the console asks."""
        who: dict[str, Any] = {"role": role, "unit": unit, "user": user}
        case = await self.call("routing", "GET", f"/internal/v1/cases/{case_id}", **who)
        assert case.status_code == 200, case.text
        body = case.json()
        view = await self.call(
            "privacy",
            "POST",
            "/internal/v1/cases/view",
            **who,
            json={
                "case_id": body["id"],
                "consent": body["consent"],
                "subject_ref": body["subject_ref"],
                "contact_ids": [c["id"] for c in body["contacts"]],
                "reason": f"handling {body['number']}",
            },
        )
        assert view.status_code == 200, view.text
        return dict(view.json())


def _intake_app(runtime: Runtime) -> FastAPI:
    """Intake with only its walk-in door (no SMTP listener to compete for a port)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, ServiceParts(indexes=INTAKE_INDEXES)):
            yield

    app = FastAPI(lifespan=lifespan)
    install_common(app)
    app.include_router(health_router(runtime.readiness))
    mount(app, runtime, [WalkInChannel(runtime, IntakeSettings())])
    return app


@asynccontextmanager
async def running_desk(mongo_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    """Run intake's walk-in door, privacy and routing on a private virtual host."""
    with private_vhost("desk") as amqp_url:
        settings = Settings(
            env="test",
            org="pea",
            service_token=TOKEN,
            vault_kek="k1:desk-kek",
            blind_index_key="desk-index-key",
            mongo_db_prefix=f"d{new_id().lower()[-8:]}",
            data_dir=tmp_path / "var",
        )

        def runtime(service: str) -> Runtime:
            return Runtime(
                service=service,
                settings=settings,
                bus=AmqpBus(amqp_url),
                store=open_store(settings, service, mongo_url),
            )

        runtimes = {name: runtime(name) for name in ("intake", "privacy", "routing")}
        apps = {
            "intake": _intake_app(runtimes["intake"]),
            "privacy": create_privacy(
                runtimes["privacy"], settings=PrivacySettings(consent_relay_interval_s=0.2)
            ),
            "routing": create_routing(runtimes["routing"], model=KeywordModel()),
        }
        async with AsyncExitStack() as stack:
            clients: dict[str, httpx.AsyncClient] = {}
            for name, app in apps.items():
                await stack.enter_async_context(app.router.lifespan_context(app))
                clients[name] = await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url=f"http://{name}"
                    )
                )
            for name in ("privacy", "routing"):

                async def ready(name: str = name) -> bool | None:
                    report = await runtimes[name].readiness()
                    return True if report["ready"] else None

                await eventually(ready, what=f"{name}'s consumers")
            yield Desk(
                settings=settings, runtimes=runtimes, http=clients, amqp_url=amqp_url, apps=apps
            )
