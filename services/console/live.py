"""Live case events to browsers over a websocket, with replay after a reconnect and presence.

Every event the console shows is appended to ``live_events`` with a cursor (one
counter, so cursors only grow) before it is pushed. A page that lost its socket
reconnects and sends ``{"type": "resume", "after": <last cursor seen>}``; the
hub replays what it missed, or answers ``{"type": "reset"}`` when the gap is
older than the log keeps (``RETENTION``) or longer than ``REPLAY_LIMIT``, and the
page reloads its lists. A page also says which case it shows
(``{"type": "viewing", "case": id}`` / ``{"type": "left"}``): everyone else on
that case gets ``{"type": "presence", "case": id, "viewers": [...]}``, the
collision indicator. Mentions in internal notes reach the named users only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import WebSocket
from pymongo import ASCENDING, IndexModel

from services.console.auth import User
from shared.clock import Clock
from shared.messages import CASE_EVENT_TYPES, CaseEvent, Envelope
from shared.store import IndexPlan, Store, increment

log = logging.getLogger(__name__)

EVENTS = "live_events"
COUNTERS = "live_counters"
RETENTION = timedelta(hours=24)
REPLAY_LIMIT = 500
INDEXES: IndexPlan = {
    EVENTS: [IndexModel([("cursor", ASCENDING)], unique=True), IndexModel("at")],
}
# Event detail fields a page may see: who and what, never customer text.
_DETAIL_FIELDS = ("mentions", "from", "to", "unit", "source", "target", "step", "target_case")


# Messages waiting for one slow page; past this it is told to reload instead.
BACKLOG = 1000
_RESET = json.dumps({"type": "reset"})


@dataclass(eq=False)
class _Listener:
    socket: WebSocket
    user: User
    viewing: str | None = None
    outbox: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(BACKLOG))

    def offer(self, text: str) -> None:
        """Queue ``text`` for the page without waiting; a page too far behind gets a reset."""
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            while not self.outbox.empty():
                self.outbox.get_nowait()
            self.outbox.put_nowait(_RESET)

    async def write(self) -> None:
        """Send what is queued, in order, until the page goes away."""
        while True:
            await self.socket.send_text(await self.outbox.get())


def _may_see(user: User, unit: str | None) -> bool:
    return user.role != "unit_member" or (unit is not None and user.unit == unit)


class LiveHub:
    """Fan case events out to the connected browsers that may see them."""

    def __init__(self, store: Store | None = None, clock: Clock | None = None) -> None:
        self._listeners: set[_Listener] = set()
        self._store = store
        self._clock = clock

    def __len__(self) -> int:
        return len(self._listeners)

    async def serve(self, socket: WebSocket, user: User) -> None:
        """Keep ``socket`` registered until the browser goes away, answering its requests."""
        listener = _Listener(socket, user)
        self._listeners.add(listener)
        writer = asyncio.create_task(listener.write())
        try:
            while True:
                text = await socket.receive_text()
                await self._request(listener, text)
        except Exception:  # noqa: S110 - any receive error means the browser left
            pass
        finally:
            self._listeners.discard(listener)
            writer.cancel()
            with contextlib.suppress(BaseException):
                await writer
            if listener.viewing:
                await self._presence(listener.viewing)

    async def _request(self, listener: _Listener, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return  # a ping
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind == "resume":
            after = message.get("after")
            if isinstance(after, int) and after >= 0:
                await self._replay(listener, after)
        elif kind == "viewing":
            case = message.get("case")
            if isinstance(case, str) and 0 < len(case) <= 40:
                await self._view(listener, case)
        elif kind == "left":
            await self._view(listener, None)

    async def _view(self, listener: _Listener, case: str | None) -> None:
        before, listener.viewing = listener.viewing, case
        for changed in {before, case} - {None}:
            assert changed is not None
            await self._presence(changed)

    async def _presence(self, case: str) -> None:
        viewers = sorted({item.user.username for item in self._listeners if item.viewing == case})
        text = json.dumps({"type": "presence", "case": case, "viewers": viewers})
        for item in list(self._listeners):
            if item.viewing == case:
                item.offer(text)

    async def _replay(self, listener: _Listener, after: int) -> None:
        if self._store is None:
            listener.offer(_RESET)
            return
        cursor = self._store[EVENTS].find({"cursor": {"$gt": after}}, {"_id": 0})
        found = await cursor.sort("cursor", ASCENDING).limit(REPLAY_LIMIT + 1).to_list()
        oldest = await self._store[EVENTS].find_one({}, {"cursor": 1}, sort=[("cursor", 1)])
        gap = oldest is not None and oldest["cursor"] > after + 1
        if len(found) > REPLAY_LIMIT or gap:
            listener.offer(_RESET)
            return
        for doc in found:
            if _may_see(listener.user, doc.get("unit")) and _addressed(listener.user, doc):
                listener.offer(json.dumps(doc["payload"]))

    async def mention(self, usernames: list[str], payload: dict[str, Any]) -> None:
        """Tell the named users they were mentioned (only those connected hear it now)."""
        named, text = set(usernames), json.dumps(payload)
        for item in list(self._listeners):
            if item.user.username in named:
                item.offer(text)

    async def on_event(self, envelope: Envelope) -> None:
        """Push a case event or a delivery problem to every listener allowed to see it."""
        if envelope.type.startswith("notification."):
            # Owned by notify; forwarded as data (it carries no personal data).
            await self._publish({"type": envelope.type, **envelope.data}, unit=None)
            return
        if envelope.type not in CASE_EVENT_TYPES:
            return  # a newer event kind this console does not show yet
        message = envelope.message()
        assert isinstance(message, CaseEvent)
        payload: dict[str, Any] = {
            "type": message.type,
            "seq": message.seq,
            "at": message.at.isoformat(),
            "actor": message.actor,
            "case": {
                "id": message.case.id,
                "number": message.case.number,
                "status": message.case.status,
                "unit": message.case.unit,
                "urgency": message.case.urgency,
                "topic": message.case.topic,
            },
        }
        detail = {k: message.detail[k] for k in _DETAIL_FIELDS if k in message.detail}
        if detail:
            payload["detail"] = detail
        await self._publish(payload, unit=message.case.unit)

    async def _publish(self, payload: dict[str, Any], *, unit: str | None) -> None:
        """Append ``payload`` to the log (it gains its cursor) and push it."""
        if self._store is not None and self._clock is not None:
            now: datetime = self._clock.now()
            payload["cursor"] = await increment(self._store, COUNTERS, "live")
            await self._store[EVENTS].insert_one(
                {"cursor": payload["cursor"], "at": now, "unit": unit, "payload": payload}
            )
            # The log keeps a day: a page away longer reloads instead of replaying.
            if payload["cursor"] % 200 == 0:
                await self._store[EVENTS].delete_many({"at": {"$lt": now - RETENTION}})
        await self._push(payload, unit=unit)

    async def _push(self, payload: dict[str, Any], *, unit: str | None) -> None:
        # Encoded once; each page's own writer sends it, so a slow page delays nobody.
        text = json.dumps(payload)
        for item in list(self._listeners):
            if _may_see(item.user, unit):
                item.offer(text)


def _addressed(user: User, doc: dict[str, Any]) -> bool:
    """Return True unless the logged event is addressed to other users only."""
    to = doc.get("to")
    return to is None or user.username in to
