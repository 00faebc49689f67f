"""The live hub on a real websocket: units, replay after a reconnect, reset, presence, mentions."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
import websockets
from fastapi import FastAPI, WebSocket

from services.console.auth import User
from services.console.live import LiveHub
from shared.embedded import free_port
from shared.ids import new_id
from shared.messages import CaseEvent, Envelope
from shared.messages.cases import CaseSnapshot

pytestmark = pytest.mark.integration

USERS = {
    "north": User(username="north.one", role="unit_member", unit="north"),
    "south": User(username="south.one", role="unit_member", unit="south"),
    "agent": User(username="agent.one", role="agent", unit=None),
    "agent2": User(username="agent.two", role="agent", unit=None),
}


def _event(unit: str, seq: int = 1, kind: str = "case.routed") -> Envelope:
    snapshot = CaseSnapshot(
        id=new_id(),
        number=f"VOC-2026-{seq:06d}",
        org="pea",
        status="routed",
        unit=unit,
        channel="app",
    )
    event = CaseEvent(type=kind, seq=seq, at=datetime.now(UTC), case=snapshot)  # type: ignore[arg-type]
    return Envelope.of(event)


class Live:
    def __init__(self, hub: LiveHub, port: int) -> None:
        self.hub, self.port = hub, port

    def connect(self, who: str) -> Any:
        return websockets.connect(f"ws://127.0.0.1:{self.port}/live/{who}")


async def _next(socket: Any, kind: str | None = None) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
        if kind is None or message["type"] == kind:
            return dict(message)


@pytest.fixture
async def hub() -> AsyncIterator[Live]:
    hub = LiveHub()
    app = FastAPI()

    @app.websocket("/live/{who}")
    async def serve(socket: WebSocket, who: str) -> None:
        await socket.accept()
        await hub.serve(socket, USERS[who])

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.02)
    yield Live(hub, port)
    server.should_exit = True
    await task


async def _connected(hub: Live, count: int) -> None:
    for _ in range(250):
        if len(hub.hub) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the websocket did not register")


async def test_a_unit_member_hears_only_its_units_events(hub: Live) -> None:
    async with hub.connect("north") as north, hub.connect("agent") as agent:
        await _connected(hub, 2)
        await hub.hub.on_event(_event("south", 1))
        await hub.hub.on_event(_event("north", 2))
        heard = await _next(north)
        assert heard["case"]["unit"] == "north"
        assert [(await _next(agent))["case"]["unit"] for _ in range(2)] == ["south", "north"]


async def test_a_reconnecting_page_gets_what_it_missed_in_order(hub: Live) -> None:
    async with hub.connect("agent") as agent:
        await _connected(hub, 1)
        await hub.hub.on_event(_event("north", 1))
        last = (await _next(agent))["cursor"]
    await hub.hub.on_event(_event("north", 2))
    await hub.hub.on_event(_event("south", 3))
    async with hub.connect("agent") as agent, hub.connect("north") as north:
        await agent.send(json.dumps({"type": "resume", "after": last}))
        missed = [await _next(agent), await _next(agent)]
        assert [m["case"]["number"] for m in missed] == ["VOC-2026-000002", "VOC-2026-000003"]
        assert last < missed[0]["cursor"] < missed[1]["cursor"]
        # The north member replays its unit's events only.
        await north.send(json.dumps({"type": "resume", "after": last}))
        assert (await _next(north))["case"]["number"] == "VOC-2026-000002"
        await hub.hub.on_event(_event("north", 4))
        assert (await _next(north))["case"]["number"] == "VOC-2026-000004"


async def test_a_gap_the_hub_no_longer_holds_asks_the_page_to_reload(
    hub: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with hub.connect("agent") as agent:
        await _connected(hub, 1)
        await hub.hub.on_event(_event("north", 1))
        seen = (await _next(agent))["cursor"]
        # A cursor from before this hub started (a restarted console): reload.
        await agent.send(json.dumps({"type": "resume", "after": 1}))
        assert (await _next(agent))["type"] == "reset"
        # Events the hub no longer holds (more than its ring): reload.
        monkeypatch.setattr(hub.hub, "_ring", deque(hub.hub._ring, maxlen=2))
        for seq in range(2, 5):
            await hub.hub.on_event(_event("north", seq))
        await agent.send(json.dumps({"type": "resume", "after": seen}))
        kinds = [(await _next(agent))["type"] for _ in range(4)]
        assert kinds == ["case.routed"] * 3 + ["reset"]


async def test_presence_tells_each_viewer_who_else_has_the_case_open(hub: Live) -> None:
    case = new_id()
    async with hub.connect("agent") as one, hub.connect("agent2") as two:
        await one.send(json.dumps({"type": "viewing", "case": case}))
        assert (await _next(one, "presence"))["viewers"] == ["agent.one"]
        await two.send(json.dumps({"type": "viewing", "case": case}))
        assert (await _next(one, "presence"))["viewers"] == ["agent.one", "agent.two"]
        assert (await _next(two, "presence"))["viewers"] == ["agent.one", "agent.two"]
        await two.send(json.dumps({"type": "left"}))
        assert (await _next(one, "presence"))["viewers"] == ["agent.one"]


async def test_a_mention_reaches_the_named_user_only(hub: Live) -> None:
    async with hub.connect("agent") as one, hub.connect("agent2") as two:
        await _connected(hub, 2)
        await hub.hub.mention(["agent.two"], {"type": "mention", "by": "agent.one"})
        assert (await _next(two))["by"] == "agent.one"
        await hub.hub.on_event(_event("north", 1))
        assert (await _next(one))["type"] == "case.routed"  # no mention came first
