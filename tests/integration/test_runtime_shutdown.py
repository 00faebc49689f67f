"""A service stops in bounded time even when a loop ignores its cancellation or the broker hangs."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pymongo.errors import InvalidOperation

import shared.runtime as runtime_module
from shared.bus.inproc import InProcessBus
from shared.ids import new_id
from shared.runtime import Runtime, ServiceParts, running
from shared.settings import Settings
from shared.store import connect

pytestmark = pytest.mark.integration


class HangingCloseBus(InProcessBus):
    """A bus whose close never returns, as with a broker that stopped answering."""

    async def close(self) -> None:
        await asyncio.Event().wait()


async def test_shutdown_is_bounded_and_still_closes_the_store(
    mongo_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runtime_module, "STOP_GRACE_S", 0.3)
    store = connect(mongo_url, f"test_{new_id().lower()}")
    runtime = Runtime(service="probe", settings=Settings(), bus=HangingCloseBus(), store=store)

    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            try:
                await released.wait()
            except asyncio.CancelledError:
                continue  # a loop that swallows its cancellation

    caplog.set_level(logging.WARNING, logger="shared.runtime")
    async with asyncio.timeout(10):
        async with running(runtime, ServiceParts(background=[stubborn])):
            await asyncio.sleep(0)
    said = [r.getMessage() for r in caplog.records]
    assert any("probe:" in line and "did not stop" in line for line in said)
    assert any("closing the bus" in line for line in said)
    with pytest.raises(InvalidOperation):
        await store.db.list_collection_names()
    released.set()
    await asyncio.gather(*runtime.tasks, return_exceptions=True)
