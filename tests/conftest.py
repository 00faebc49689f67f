"""Fixtures for every suite: the embedded MongoDB-protocol server over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.embedded import EmbeddedMongo
from shared.ids import new_id
from shared.store import Store, connect

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


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
