"""Notify wired to the real privacy app, the real store, the in-process bus and local providers.

Privacy screens contacts through its own consumer, so reply handles are real
and notify's address look-ups go through privacy's audited endpoint. Routing,
LINE, the SMS gateway and FCM are local fakes behind the same HTTP client
notify uses; email goes to a real SMTP server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from services.notify.app import create_app as notify_app
from services.notify.settings import NotifySettings
from services.privacy.app import create_app as privacy_app
from services.routing.app import create_app as routing_app
from shared.bus import Subscription
from shared.bus.inproc import InProcessBus
from shared.ids import new_id
from shared.messages import (
    CaseEvent,
    CaseSnapshot,
    Contact,
    ContactReceived,
    ContactScreened,
    Envelope,
    Message,
)
from shared.runtime import Runtime, open_store
from shared.settings import Settings
from shared.store import Document, Store
from tests.support.notify_fakes import LINE_TOKEN, FakeLine, MailSink, Recorder, smtp_server
from tests.support.routing import KeywordModel

SERVICE_TOKEN = "service-token-notify-tests"
SECRET_KEY = "secret-key-notify-tests"
MAIL_FROM = "ศูนย์บริการ 1129 <care@pea.example>"
FAST = {
    "notify_retry_base_s": 0.05,
    "notify_retry_min_s": 0.05,
    "notify_retry_max_s": 0.2,
    "notify_poll_interval_s": 0.05,
    "sms_gateway_url": "http://sms.test/send",
    "sms_gateway_username": "pea",
    "sms_gateway_password": "sms-secret",
    "fcm_project_id": "pea-app",
    "fcm_access_token": "ya29.test",
    "fcm_base_url": "http://fcm.test",
}


@dataclass
class NotifyStack:
    """Everything a notify test talks to."""

    settings: Settings
    bus: InProcessBus
    notify_store: Store
    line: FakeLine
    mail: MailSink
    routing: Recorder
    sms: Recorder
    fcm: Recorder
    http: httpx.AsyncClient
    mongo_url: str
    notify: FastAPI | None = None
    on_bus: list[Envelope] = field(default_factory=list)
    screened: dict[str, ContactScreened] = field(default_factory=dict)
    _running: contextlib.AsyncExitStack | None = None

    async def start_notify(self, **notify_settings: Any) -> FastAPI:
        """Start a notify replica on the shared store (as after a restart)."""
        runtime = _runtime("notify", self.settings, self.bus, self.mongo_url)
        settings = NotifySettings(**{**FAST, **notify_settings})
        self.notify = notify_app(runtime, settings=settings, http=self.http)
        self._running = contextlib.AsyncExitStack()
        await self._running.enter_async_context(self.notify.router.lifespan_context(self.notify))
        return self.notify

    async def stop_notify(self) -> None:
        """Stop the running notify replica, as a crash or deploy would."""
        if self._running is not None:
            await self._running.aclose()
            self._running = None
        # The in-process bus has no unsubscribe; a stopped replica's consumers
        # must not keep taking messages with a closed store.
        queue = self.bus._queues["notify.events"]
        for task in queue.workers:
            task.cancel()
        await asyncio.gather(*queue.workers, return_exceptions=True)
        queue.workers.clear()

    def notify_client(self) -> httpx.AsyncClient:
        """Return a client for notify's own HTTP routes."""
        assert self.notify is not None
        transport = httpx.ASGITransport(app=self.notify)
        return httpx.AsyncClient(transport=transport, base_url="http://notify.test")

    async def screen(self, contact: Contact) -> ContactScreened:
        """Have privacy screen ``contact`` and return what it published."""
        await self.bus.publish(Envelope.of(ContactReceived(contact=contact)))
        for _ in range(200):
            if contact.id in self.screened:
                return self.screened[contact.id]
            await asyncio.sleep(0.02)
        raise AssertionError("privacy did not screen the contact")

    async def publish(self, message: Message | Envelope) -> Envelope:
        """Publish a message (or an envelope, to redeliver it) to notify."""
        envelope = message if isinstance(message, Envelope) else Envelope.of(message)
        await self.bus.publish(envelope)
        return envelope

    async def delivery(self, envelope: Envelope, *, timeout: float = 10.0) -> Document:
        """Wait until the notification ``envelope`` caused is settled; return its log entry."""
        deadline = asyncio.get_running_loop().time() + timeout
        doc: Document | None = None
        while asyncio.get_running_loop().time() < deadline:
            doc = await self.notify_store["deliveries"].find_one({"_id": f"n-{envelope.id}"})
            if doc is not None and doc["status"] != "queued":
                return doc
            await asyncio.sleep(0.02)
        raise AssertionError(f"delivery not settled: {doc}")

    def published(self, type_: str) -> list[Envelope]:
        """Return what reached the bus with ``type_`` (outside notify's own queue)."""
        return [e for e in self.on_bus if e.type == type_]

    async def wait_published(self, type_: str, *, timeout: float = 5.0) -> list[Envelope]:
        """Wait until something with ``type_`` reached the bus; return all of it."""
        for _ in range(int(timeout / 0.02)):
            if self.published(type_):
                await asyncio.sleep(0.1)  # a duplicate would show up by now
                return self.published(type_)
            await asyncio.sleep(0.02)
        raise AssertionError(f"nothing of type {type_} was published")

    def bus_text(self) -> str:
        """Return every captured bus message as JSON text."""
        return "\n".join(
            json.dumps(e.model_dump(mode="json"), ensure_ascii=False) for e in self.on_bus
        )


def case_event(
    screened: ContactScreened,
    type_: str,
    *,
    case_id: str | None = None,
    number: str | None = None,
    seq: int = 1,
    unit: str | None = "pea-netops",
    detail: dict[str, Any] | None = None,
    status: str = "routed",
) -> CaseEvent:
    """Return a case event for the case opened by ``screened``."""
    return CaseEvent.model_validate(
        {
            "type": type_,
            "seq": seq,
            "at": datetime.now(UTC),
            "case": CaseSnapshot(
                id=case_id or f"case-{screened.contact_id}",
                number=number or f"VOC-2026-{int(new_id()[-6:], 36) % 1000000:06d}",
                org="pea",
                status=status,
                unit=unit,
                channel=screened.channel,
                channels=(screened.channel,),
                subject_ref=screened.subject_ref,
                reply_handle=screened.reply_handle,
                language=screened.language,
            ),
            "detail": detail or {},
        }
    )


@contextlib.asynccontextmanager
async def notify_stack(
    mongo_url: str,
    *,
    mail: MailSink | None = None,
    real_routing: Path | None = None,
    **notify_settings: Any,
) -> AsyncIterator[NotifyStack]:
    """Run privacy and notify on one in-process bus and one store server.

    With ``real_routing`` (a data directory) routing's own app opens and
    routes cases from privacy's screened contacts and takes the ratings;
    otherwise routing is a recorder and screened contacts come back to the test.
    """
    sink = mail or MailSink()
    with smtp_server(sink) as smtp_port:
        settings = Settings(
            env="test",
            mongo_db_prefix=f"n{new_id().lower()[-10:]}",
            data_dir=real_routing or Path("var"),
            service_token=SERVICE_TOKEN,
            secret_key=SECRET_KEY,
            privacy_url="http://privacy.test",
            routing_url="http://routing.test",
            notify_url="http://notify.test",
            smtp_url=f"smtp://127.0.0.1:{smtp_port}",
            mail_from=MAIL_FROM,
            line_api_base="http://line.test",
            line_channel_token=LINE_TOKEN,
        )
        bus = InProcessBus()
        apps: dict[str, FastAPI] = {
            "privacy": privacy_app(_runtime("privacy", settings, bus, mongo_url))
        }
        line, routing, sms, fcm = FakeLine(), Recorder(), Recorder(), Recorder()
        if real_routing is not None:
            apps["routing"] = routing_app(
                _runtime("routing", settings, bus, mongo_url), model=KeywordModel()
            )
        mounts = {
            "http://privacy.test": httpx.ASGITransport(app=apps["privacy"]),
            "http://routing.test": httpx.ASGITransport(app=apps.get("routing", routing.app)),
            "http://line.test": httpx.ASGITransport(app=line.app),
            "http://sms.test": httpx.ASGITransport(app=sms.app),
            "http://fcm.test": httpx.ASGITransport(app=fcm.app),
        }
        async with httpx.AsyncClient(mounts=mounts, timeout=5) as http:
            stack = NotifyStack(
                settings=settings,
                mongo_url=mongo_url,
                bus=bus,
                notify_store=open_store(settings, "notify", mongo_url),
                line=line,
                mail=sink,
                routing=routing,
                sms=sms,
                fcm=fcm,
                http=http,
            )
            await _capture(stack, screened="routing" not in apps)
            try:
                async with contextlib.AsyncExitStack() as running:
                    for app in apps.values():
                        await running.enter_async_context(app.router.lifespan_context(app))
                    await stack.start_notify(**notify_settings)
                    try:
                        yield stack
                    finally:
                        await stack.stop_notify()
            finally:
                await bus.close()
                client = stack.notify_store.client
                for service in ("notify", *apps):
                    await client.drop_database(f"{settings.mongo_db_prefix}_{service}")
                await client.close()


def _runtime(service: str, settings: Settings, bus: InProcessBus, mongo_url: str) -> Runtime:
    store = open_store(settings, service, mongo_url)
    return Runtime(service=service, settings=settings, bus=bus, store=store, owns_bus=False)


async def _capture(stack: NotifyStack, *, screened: bool) -> None:
    async def on_screened(envelope: Envelope) -> None:
        stack.on_bus.append(envelope)
        message = envelope.message()
        if isinstance(message, ContactScreened):
            stack.screened[message.contact_id] = message

    async def console(envelope: Envelope) -> None:
        stack.on_bus.append(envelope)

    if screened:
        subscription = Subscription(queue="routing.contacts", handler=on_screened, prefetch=1)
        await stack.bus.subscribe(subscription)
    await stack.bus.subscribe(Subscription(queue="console.events", handler=console, prefetch=1))


def expiring(seconds: float) -> str:
    """Return a LINE reply token expiry ``seconds`` from now, as intake writes it."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
