"""The AMI listener logs in to a manager interface and turns a finished call into a contact."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from services.intake.channels.phone.ami import AmiCollector, AmiListener
from services.intake.channels.phone.events import parse_ami
from services.intake.channels.phone.store import INDEXES as PHONE_INDEXES
from services.intake.store import INDEXES
from shared.bus.inproc import InProcessBus
from shared.messages import ContactReceived, Envelope
from shared.runtime import Runtime
from shared.settings import Settings
from shared.store import Store
from tests.conftest import FIXTURES

pytestmark = pytest.mark.integration

SAMPLE = FIXTURES / "channels" / "phone" / "ami_sample.txt"


@contextlib.asynccontextmanager
async def fake_manager_interface(script: bytes) -> AsyncIterator[tuple[int, list[bytes]]]:
    """An AMI server: greets, accepts the login, then sends ``script``."""
    logins: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/6.0.0\r\n")
        request = await reader.readuntil(b"\r\n\r\n")
        logins.append(request)
        action_id = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"actionid")
        )
        writer.write(
            b"Response: Success\r\nActionID: "
            + action_id
            + b"\r\nMessage: Authentication accepted\r\n\r\n"
        )
        writer.write(script)
        await writer.drain()
        with contextlib.suppress(Exception):
            await reader.read()  # hold the line open until the client leaves

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], logins
    finally:
        server.close()


def test_collector_gives_the_call_back_only_when_the_caller_hangs_up() -> None:
    blocks = parse_ami(SAMPLE.read_text())
    collector = AmiCollector()
    released = [event for block in blocks for event in collector.feed(block)]
    assert [e.event for e in released] == ["newCall", "answer", "hangup"]
    assert {e.call_id for e in released} == {"1794963731.2591"}
    assert collector.open_calls <= 1  # only the trailing Cdr may wait


async def test_listener_logs_in_and_publishes_the_finished_call(store: Store) -> None:
    await store.ensure_indexes({**INDEXES, **PHONE_INDEXES})
    bus = InProcessBus()
    runtime = Runtime(service="intake", settings=Settings(), bus=bus, store=store)
    async with fake_manager_interface(SAMPLE.read_bytes()) as (port, logins):
        listener = AmiListener(
            runtime, host="127.0.0.1", port=port, username="vocdesk", secret="ami-secret"
        )
        task = asyncio.create_task(listener.run())
        try:
            for _ in range(100):
                if listener.contacts:
                    break
                await asyncio.sleep(0.1)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert b"Username: vocdesk" in logins[0]
    assert len(listener.contacts) == 1
    queue = bus._queues["privacy.contacts"].pending  # nobody consumes in this test
    message = Envelope.from_json(queue.get_nowait()[0]).message()
    assert isinstance(message, ContactReceived)
    assert message.contact.channel == "phone"
    assert message.contact.customer.phone == "+66864427139"
    assert message.contact.thread.call_id == "1794963731.2591"
    await bus.close()
