"""Local stand-ins for notify's providers: LINE, an SMTP server, routing, HTTP gateways."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

LINE_TOKEN = "line-channel-token"


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free local port; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers only this flag
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


class FakeLine:
    """LINE's reply and push endpoints, refusing what the API reference refuses."""

    def __init__(self, token: str = LINE_TOKEN) -> None:
        self.token = token
        self.delivered: list[tuple[str, str, list[dict[str, Any]]]] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.reply_tokens: set[str] = set()
        self.accepted_keys: dict[str, str] = {}
        self.script: list[tuple[int, bool]] = []  # (status, deliver before answering)
        self.retry_after: str | None = None  # sent with every scripted failure
        self.app = FastAPI()
        self.app.post("/v2/bot/message/{endpoint}")(self.handle)

    async def handle(self, endpoint: str, request: Request) -> JSONResponse:
        """Answer one reply or push request as LINE would."""
        self.requests.append((endpoint, dict(request.headers)))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"message": "Authentication failed"}, 401)
        body = await request.json()
        problem = self._check(endpoint, body, request.headers.get("x-line-retry-key"))
        if problem:
            return JSONResponse({"message": problem}, 400)
        key = request.headers.get("x-line-retry-key")
        if key in self.accepted_keys:
            headers = {"x-line-accepted-request-id": self.accepted_keys[key]}
            return JSONResponse({"message": "The retry key is already accepted"}, 409, headers)
        status, deliver = self.script.pop(0) if self.script else (200, True)
        if deliver:
            self.delivered.append(
                (endpoint, body.get("to") or body["replyToken"], body["messages"])
            )
            self.reply_tokens.discard(body.get("replyToken", ""))
            if key:
                self.accepted_keys[key] = uuid.uuid4().hex
        if status == 200:
            return JSONResponse({"sentMessages": [{"id": "4649"}]})
        headers = {"retry-after": self.retry_after} if self.retry_after else {}
        return JSONResponse({"message": "scripted failure"}, status, headers)

    def _check(self, endpoint: str, body: dict[str, Any], key: str | None) -> str | None:
        messages = body.get("messages")
        if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
            return "messages must hold 1 to 5 message objects"
        for message in messages:
            if message.get("type") != "text" or not 1 <= len(message.get("text", "")) <= 5000:
                return "a text message needs 1 to 5000 characters"
            items = message.get("quickReply", {"items": []})["items"]
            if len(items) > 13 or any(
                item["type"] != "action" or len(item["action"]["label"]) > 20 for item in items
            ):
                return "quickReply items are invalid"
        if endpoint == "reply":
            if key is not None:
                return "X-Line-Retry-Key is not supported by this API"
            return None if body.get("replyToken") in self.reply_tokens else "Invalid reply token"
        if endpoint != "push" or not isinstance(body.get("to"), str):
            return "unknown endpoint or no 'to'"
        try:
            uuid.UUID(str(key))
        except ValueError:
            return "X-Line-Retry-Key must be a UUID"
        return None


class MailSink:
    """An aiosmtpd handler that keeps what it receives, or refuses recipients."""

    def __init__(self, rcpt_answer: str | None = None) -> None:
        self.raw: list[bytes] = []
        self.rcpt_answer = rcpt_answer
        self.arrived = asyncio.Event()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, _: Any
    ) -> str:
        """Accept the recipient unless told to refuse it."""
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message."""
        self.raw.append(envelope.content)
        return "250 2.0.0 queued"


@contextmanager
def smtp_server(sink: MailSink) -> Iterator[int]:
    """Run a real SMTP server on a free local port; yield the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@dataclass
class Recorder:
    """A JSON endpoint that records what it is sent and answers from a script."""

    calls: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    app: FastAPI = field(default_factory=FastAPI)

    def __post_init__(self) -> None:
        self.app.post("/{path:path}")(self.handle)

    async def handle(self, path: str, request: Request) -> JSONResponse:
        """Record the call and answer the next scripted status (200 by default)."""
        self.calls.append(("/" + path, await request.json(), dict(request.headers)))
        status = self.script.pop(0) if self.script else 200
        body = {"id": f"msg-{len(self.calls)}", "name": f"projects/p/messages/{len(self.calls)}"}
        return JSONResponse(body if status < 400 else {"reason": "scripted"}, status)
