"""Live case events to browsers over a websocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from fastapi import WebSocket

from services.console.auth import User
from shared.messages import CASE_EVENT_TYPES, CaseEvent, Envelope

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Listener:
    socket: WebSocket
    user: User


class LiveHub:
    """Fan case events out to the connected browsers that may see them."""

    def __init__(self) -> None:
        self._listeners: set[_Listener] = set()

    def __len__(self) -> int:
        return len(self._listeners)

    async def serve(self, socket: WebSocket, user: User) -> None:
        """Keep ``socket`` registered until the browser goes away."""
        listener = _Listener(socket, user)
        self._listeners.add(listener)
        try:
            while True:
                await socket.receive_text()  # pings from the page; content ignored
        except Exception:  # noqa: S110 - any receive error means the browser left
            pass
        finally:
            self._listeners.discard(listener)

    async def on_event(self, envelope: Envelope) -> None:
        """Push a case event or a delivery problem to every listener allowed to see it."""
        if envelope.type.startswith("notification."):
            # Owned by notify; forwarded as data (it carries no personal data).
            await self._push({"type": envelope.type, **envelope.data}, unit=None)
            return
        if envelope.type not in CASE_EVENT_TYPES:
            return  # a newer event kind this console does not show yet
        message = envelope.message()
        assert isinstance(message, CaseEvent)
        payload: dict[str, object] = {
            "type": message.type,
            "seq": message.seq,
            "case": {
                "id": message.case.id,
                "number": message.case.number,
                "status": message.case.status,
                "unit": message.case.unit,
                "urgency": message.case.urgency,
                "topic": message.case.topic,
            },
        }
        await self._push(payload, unit=message.case.unit)

    async def _push(self, payload: dict[str, object], *, unit: str | None) -> None:
        targets = [
            listener
            for listener in list(self._listeners)
            if listener.user.role != "unit_member" or (unit and listener.user.unit == unit)
        ]
        await asyncio.gather(*(self._send(listener, payload) for listener in targets))

    async def _send(self, listener: _Listener, payload: dict[str, object]) -> None:
        with contextlib.suppress(Exception):
            await listener.socket.send_json(payload)
