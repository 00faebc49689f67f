"""Fixtures for every suite: the embedded MongoDB-protocol server over a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aio_pika.robust_connection import RobustConnection

from shared.embedded import EmbeddedMongo
from shared.ids import new_id
from shared.store import Store, connect

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"

# Every robust broker connection a test opens, so none outlives the run.
_CONNECTIONS: weakref.WeakSet[RobustConnection] = weakref.WeakSet()
_robust_init = RobustConnection.__init__


def _tracked_init(self: RobustConnection, *args: Any, **kwargs: Any) -> None:
    _robust_init(self, *args, **kwargs)
    _CONNECTIONS.add(self)


RobustConnection.__init__ = _tracked_init  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
async def _close_leaked_broker_connections() -> AsyncIterator[None]:
    """Close the connections a test left open before the run's event loop ends.

    aio-pika's reconnect loop swallows a cancellation that arrives while it is
    connecting (it only stops once ``close`` was called), so a connection left
    open to a port a test has since shut would keep the loop's shutdown
    waiting for ever.
    """
    yield
    loop = asyncio.get_running_loop()
    for connection in list(_CONNECTIONS):
        if connection.loop is loop and not connection.close_called:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start one embedded store for the whole run."""
    server = EmbeddedMongo(tmp_path_factory.mktemp("mongo") / "data")
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
async def store(mongo_url: str) -> AsyncIterator[Store]:
    """A database of its own for one test."""
    db = connect(mongo_url, f"test_{new_id().lower()}")
    yield db
    await db.client.drop_database(db.db.name)
    await db.client.close()
