"""The console's body cap: a declared or streamed body over it is a 413 before it is read."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI, Request

from services.console.limits import BodyLimit

LIMIT = 1024


def _app() -> tuple[FastAPI, list[int]]:
    app = FastAPI()
    read: list[int] = []

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        body = await request.body()
        read.append(len(body))
        return {"size": len(body)}

    app.add_middleware(BodyLimit, limit=LIMIT)
    return app, read


async def _post(
    app: FastAPI, content: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        return await client.post("/upload", content=content, headers=headers)


async def test_a_body_within_the_cap_reaches_the_route() -> None:
    app, read = _app()
    answer = await _post(app, b"x" * LIMIT)
    assert (answer.status_code, read) == (200, [LIMIT])


async def test_a_declared_length_over_the_cap_is_refused_unread() -> None:
    app, read = _app()
    answer = await _post(app, b"x" * (LIMIT + 1))
    assert answer.status_code == 413
    assert "MB" in answer.json()["reason"]
    assert read == []


async def test_a_streamed_body_is_cut_off_at_the_cap() -> None:
    app, read = _app()

    async def chunks() -> Any:
        for _ in range(10):
            yield b"y" * 512  # no Content-Length: counted as it arrives

    answer = await _post(app, chunks())
    assert answer.status_code == 413
    assert read == []


async def test_a_malformed_length_is_refused() -> None:
    app, read = _app()
    answer = await _post(app, b"x", headers={"content-length": "ten"})
    assert answer.status_code == 413
    assert read == []
