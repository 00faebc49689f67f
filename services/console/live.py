"""Live case events to browsers over a websocket, with replay after a reconnect and presence.

Every event the hub pushes gets a cursor: milliseconds since the epoch,
raised by one where two fall in the same millisecond, so cursors only grow,
also across a restart. The hub keeps the last ``RING`` events (at most
``RETENTION`` old) in memory. A page that lost its socket reconnects and
sends ``{"type": "resume", "after": <last cursor seen>}``: the hub replays
what it missed, or answers ``{"type": "reset"}`` and the page reloads its
lists when it cannot be sure it has everything (the cursor is older than
what the hub holds, e.g. after a restart of the console). No store round trip
stands between an event and the pages. A page also says which case it shows
(``{"type": "viewing", "case": id}`` / ``{"type": "left"}``): everyone on that
case gets ``{"type": "presence", "case": id, "viewers": [...]}``, the
collision indicator. Mentions in internal notes reach the named users only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import WebSocket

from services.console.auth import User
from shared.messages import CASE_EVENT_TYPES, CaseEvent, Envelope

log = logging.getLogger(__name__)

RETENTION = timedelta(hours=24)
RING = 5000
REPLAY_LIMIT = 500
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

    def __init__(self) -> None:
        self._listeners: set[_Listener] = set()
        # (cursor, unit, text) of the recent events, oldest first.
        self._ring: deque[tuple[int, str | None, str]] = deque(maxlen=RING)
        self._last = 0
        self._dropped = 0  # the newest cursor no longer held
        # Events after this cursor were all seen by this hub: a replay from before it resets.
        self._since = self._next_cursor()

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
        horizon = (time.time() - RETENTION.total_seconds()) * 1000
        while self._ring and self._ring[0][0] < horizon:
            self._dropped = self._ring.popleft()[0]
        if after < self._since or after < self._dropped:
            listener.offer(_RESET)
            return
        missed = [(u, text) for c, u, text in self._ring if c > after]
        if len(missed) > REPLAY_LIMIT:
            listener.offer(_RESET)
            return
        for unit, text in missed:
            if _may_see(listener.user, unit):
                listener.offer(text)

    def _next_cursor(self) -> int:
        self._last = max(self._last + 1, int(time.time() * 1000))
        return self._last

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
        """Give ``payload`` its cursor, keep it for replays and push it."""
        payload["cursor"] = self._next_cursor()
        text = json.dumps(payload)
        if len(self._ring) == self._ring.maxlen:
            self._dropped = self._ring[0][0]
        self._ring.append((payload["cursor"], unit, text))
        self._push(text, unit=unit)

    def _push(self, text: str, *, unit: str | None) -> None:
        # Encoded once; each page's own writer sends it, so a slow page delays nobody.
        for item in list(self._listeners):
            if _may_see(item.user, unit):
                item.offer(text)
