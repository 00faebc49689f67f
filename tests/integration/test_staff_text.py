"""Staff text is vaulted like contact text: masked in routing and on the bus, clear to the customer.

Intake's walk-in door, privacy, routing and notify run on real RabbitMQ and the
embedded store; the console's case routes call privacy and routing in-process
with the acting user's signed assertion; LINE is a fake checking its API's format.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Header
from pydantic import AnyUrl, SecretStr

from services.console import cases, deps
from services.console.auth import User
from services.console.clients import ServiceClient
from services.console.live import LiveHub
from services.notify.app import create_app as notify_app
from services.notify.settings import NotifySettings
from shared.bus.amqp import AmqpBus
from shared.http import install_common
from shared.ids import new_id
from shared.messages import Contact, Identity
from shared.runtime import Runtime, open_store
from tests.support.console_parts import UnseenBook, console_parts
from tests.support.desk import TOKEN, Desk, eventually, running_desk
from tests.support.messages import line_contact
from tests.support.notify_fakes import LINE_TOKEN, FakeLine
from tests.support.notify_stack import FAST

pytestmark = pytest.mark.integration

NAME = "ประภาพร ศรีสุขวงศ์"
PHONE = "0865512907"
REPLY = f"เรียนคุณ{NAME} ช่างจะโทรกลับที่เบอร์ {PHONE} ภายในวันนี้ค่ะ"


class Flaky:
    """Privacy's app, answering 503 to staff-text reveals while ``down``."""

    def __init__(self, app: FastAPI) -> None:
        self.app, self.down, self.refused = app, False, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.down and scope["type"] == "http" and scope["path"].endswith("/reveal"):
            self.refused += 1
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


class Staffed:
    """The desk with notify on its bus and the console's case routes in front."""

    def __init__(
        self, desk: Desk, line: FakeLine, console: httpx.AsyncClient, notify: Any, flaky: Flaky
    ) -> None:
        self.desk, self.line, self.console, self.notify_store = desk, line, console, notify
        self.privacy = flaky

    async def as_user(
        self, method: str, path: str, *, role: str, unit: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"x-test-user": f"{role}.one", "x-test-role": role, "x-test-unit": unit or ""}
        return await self.console.request(method, path, headers=headers, **kwargs)

    async def sent_to(self, user_id: str, marker: str) -> str:
        """Wait for the LINE message to ``user_id`` containing ``marker``; return its text."""

        async def probe() -> str | None:
            texts = [
                str(m.get("text")) for _, to, ms in self.line.delivered if to == user_id for m in ms
            ]
            return next((t for t in texts if marker in t), None)

        return await eventually(probe, what=f"a LINE message with {marker}")


def _console(desk: Desk, http: httpx.AsyncClient) -> FastAPI:
    def current_user(
        x_test_user: Annotated[str, Header()],
        x_test_role: Annotated[str, Header()],
        x_test_unit: Annotated[str, Header()] = "",
    ) -> User:
        return User(username=x_test_user, role=x_test_role, unit=x_test_unit or None)

    def client(service: str) -> ServiceClient:
        return ServiceClient(
            f"http://{service}",
            token=TOKEN,
            acting_key=desk.settings.acting_key.get_secret_value(),
            audience=service,
            http=http,
        )

    app = FastAPI()
    install_common(app)
    app.state.parts = console_parts(
        routing=client("routing"), privacy=client("privacy"), hub=LiveHub(), seen=UnseenBook()
    )
    app.dependency_overrides[deps.current_user] = current_user
    app.include_router(cases.router)
    return app


@pytest.fixture
async def staffed(mongo_url: str, tmp_path: Path) -> AsyncIterator[Staffed]:
    async with running_desk(mongo_url, tmp_path) as desk, AsyncExitStack() as stack:
        line = FakeLine()
        settings = desk.settings.model_copy(
            update={
                "privacy_url": AnyUrl("http://privacy"),
                "routing_url": AnyUrl("http://routing"),
                "line_api_base": AnyUrl("http://line.test"),
                "line_channel_token": SecretStr(LINE_TOKEN),
            }
        )
        flaky = Flaky(desk.apps["privacy"])
        mounts = {
            "http://privacy": httpx.ASGITransport(app=flaky),
            "http://routing": httpx.ASGITransport(app=desk.apps["routing"]),
            "http://line.test": httpx.ASGITransport(app=line.app),
        }
        http = await stack.enter_async_context(httpx.AsyncClient(mounts=mounts, timeout=10))
        runtime = Runtime(
            service="notify",
            settings=settings,
            bus=AmqpBus(desk.amqp_url),
            store=open_store(settings, "notify", mongo_url),
        )
        notify = notify_app(runtime, settings=NotifySettings.model_validate(FAST), http=http)
        await stack.enter_async_context(notify.router.lifespan_context(notify))
        console = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=_console(desk, http)), base_url="http://console"
            )
        )
        yield Staffed(desk, line, console, runtime.store, flaky)


def customer_line_contact(user_id: str) -> Contact:
    return line_contact(
        user_id,
        text="ไฟดับทั้งซอยตั้งแต่เมื่อคืน",
        customer=Identity(name=NAME, line_user_id=user_id),
        consent="withheld",
    )


async def _dump(store: Any) -> str:
    """Return every document of a service's database as text."""
    docs = []
    for name in await store.db.list_collection_names():
        docs += [doc async for doc in store[name].find({})]
    return json.dumps(docs, ensure_ascii=False, default=str)


async def test_a_reply_is_masked_in_routing_and_on_the_bus_and_clear_to_the_customer(
    staffed: Staffed,
) -> None:
    desk = staffed.desk
    user_id = "U" + new_id().lower().ljust(32, "0")[:32]
    first = customer_line_contact(user_id)
    await desk.receive(first)
    case = await desk.case_holding(first.id)

    answer = await staffed.as_user(
        "POST", f"/api/v1/cases/{case.id}/replies", role="agent", json={"text": REPLY}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "queued"

    delivered = await staffed.sent_to(user_id, "ช่างจะโทรกลับ")
    assert PHONE in delivered
    assert NAME in delivered

    stored = await desk.case(case.id)
    routing_db = await _dump(desk.runtimes["routing"].store)
    assert PHONE not in routing_db
    assert NAME not in routing_db
    replied = [e for e in stored.timeline if e["detail"].get("change") == "replied"]
    assert replied
    assert replied[0]["detail"]["text_ref"].startswith("stx_")
    # What notify took off the bus (reply.requested) and keeps is masked too.
    notify_db = await _dump(staffed.notify_store)
    assert "reply_text" in notify_db
    assert PHONE not in notify_db
    assert NAME not in notify_db

    agent = await staffed.as_user("GET", f"/api/v1/cases/{case.id}", role="agent")
    assert agent.status_code == 200, agent.text
    agent_entry = next(e for e in agent.json()["timeline"] if e["detail"].get("text_ref"))
    assert agent_entry["detail"]["text"] == REPLY

    member = await staffed.as_user(
        "GET", f"/api/v1/cases/{case.id}", role="unit_member", unit=stored.unit
    )
    assert member.status_code == 200, member.text
    member_entry = next(e for e in member.json()["timeline"] if e["detail"].get("text_ref"))
    shown = member_entry["detail"]["text"]
    assert PHONE not in shown
    assert NAME not in shown
    assert shown.endswith("ค่ะ")
    assert member_entry["detail"]["revealed"] is False


async def test_a_resolution_summary_reaches_the_customer_clear_and_routing_masked(
    staffed: Staffed,
) -> None:
    desk = staffed.desk
    user_id = "U" + new_id().lower().rjust(32, "1")[:32]
    first = customer_line_contact(user_id)
    await desk.receive(first)
    case = await desk.case_holding(first.id)
    summary = f"เปลี่ยนมิเตอร์ให้แล้ว ติดต่อช่างได้ที่ {PHONE}"

    answer = await staffed.as_user(
        "POST", f"/api/v1/cases/{case.id}/resolve", role="agent", json={"summary": summary}
    )
    assert answer.status_code == 200, answer.text

    assert summary in await staffed.sent_to(user_id, "เปลี่ยนมิเตอร์")
    stored = await desk.case(case.id)
    assert stored.resolution is not None
    assert PHONE not in stored.resolution["summary"]
    assert PHONE not in await _dump(desk.runtimes["routing"].store)


async def test_a_question_waits_for_privacy_and_an_erased_customer_shows_masked(
    staffed: Staffed,
) -> None:
    desk = staffed.desk
    user_id = "U" + new_id().lower().rjust(32, "2")[:32]
    first = customer_line_contact(user_id)
    await desk.receive(first)
    case = await desk.case_holding(first.id)
    question = f"รบกวนยืนยันเบอร์ {PHONE} ว่ายังใช้ติดต่อได้ไหมคะ"

    staffed.privacy.down = True
    answer = await staffed.as_user(
        "POST", f"/api/v1/cases/{case.id}/request-info", role="agent", json={"question": question}
    )
    assert answer.status_code == 200, answer.text

    async def retried() -> bool | None:
        return True if staffed.privacy.refused >= 2 else None

    await eventually(retried, what="notify asking privacy again")
    asked = [
        str(m.get("text")) for _, to, ms in staffed.line.delivered if to == user_id for m in ms
    ]
    assert not [t for t in asked if "ยืนยันเบอร์" in t]  # neither masked nor clear yet
    staffed.privacy.down = False
    assert question in await staffed.sent_to(user_id, "ยืนยันเบอร์")

    stored = await desk.case(case.id)
    asked_event = next(e for e in stored.timeline if e["type"] == "case.info_requested")
    assert PHONE not in asked_event["detail"]["question"]

    before = await staffed.as_user("GET", f"/api/v1/cases/{case.id}", role="agent")
    shown = next(e for e in before.json()["timeline"] if e["type"] == "case.info_requested")
    assert shown["detail"]["question"] == question

    erased = await desk.call(
        "privacy",
        "POST",
        f"/internal/v1/subjects/{stored.subject_ref}/erase",
        role="dpo",
        json={"reason": "PDPA request 2026/99"},
    )
    assert erased.status_code == 200, erased.text
    agent = await staffed.as_user("GET", f"/api/v1/cases/{case.id}", role="agent")
    assert agent.status_code == 200, agent.text
    entry = next(e for e in agent.json()["timeline"] if e["type"] == "case.info_requested")
    assert PHONE not in entry["detail"]["question"]
    assert entry["detail"]["revealed"] is False
