"""Fixtures for the integration suite: a RabbitMQ queue of a test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.bus.topology import QueueSpec
from tests.support.broker import delete_queues, unique_spec


@pytest.fixture
async def spec() -> AsyncIterator[QueueSpec]:
    """Yield a queue bound to topics nobody else publishes; delete it afterwards."""
    queue = unique_spec()
    yield queue
    await delete_queues(queue)
