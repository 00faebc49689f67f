"""What tests count of the store: the commands one client sends, and the server's own totals."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from pymongo import AsyncMongoClient, monitoring

from shared.ids import new_id
from shared.store import IndexPlan, Store


class Commands(monitoring.CommandListener):
    """Record the name and collection of each command a client sends."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        self.seen.append((event.command_name, target if isinstance(target, str) else ""))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@contextlib.asynccontextmanager
async def watched_store(
    mongo_url: str, indexes: IndexPlan
) -> AsyncIterator[tuple[Store, Commands]]:
    """Yield a store of its own database, with ``indexes``, whose commands are recorded."""
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, tz_aware=True, event_listeners=[commands]
    )
    store = Store(client, f"test_{new_id().lower()}")
    await store.ensure_indexes(indexes)
    try:
        yield store, commands
    finally:
        await client.drop_database(store.db.name)
        await client.close()


async def server_commands(store: Store) -> Counter[str]:
    """Return the commands the server has run on each collection of ``store``'s database."""
    totals = (await store.client.admin.command("top"))["totals"]
    prefix = f"{store.db.name}."
    return Counter(
        {
            ns.removeprefix(prefix): int(counts["total"]["count"])
            for ns, counts in totals.items()
            if ns.startswith(prefix) and isinstance(counts, dict)
        }
    )
