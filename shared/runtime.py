"""What a running service is wired to: settings, bus, store, clock; built in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shared.bus.base import Bus, Subscription
from shared.clock import Clock, SystemClock
from shared.errors import BusUnavailable, ConfigError
from shared.settings import Settings
from shared.store import IndexPlan, MongoInbox, Store, connect

log = logging.getLogger(__name__)

_T = TypeVar("_T")

LOCAL_BROKER = "amqp://guest:guest@127.0.0.1:5672/"


def port_answers(host: str = "127.0.0.1", port: int = 5672, timeout: float = 0.5) -> bool:
    """Return True if something accepts TCP connections on ``host``:``port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_amqp_url(settings: Settings, *, probe: bool = True) -> str | None:
    """Return the broker URL: configured, else a local broker if one answers, else None."""
    if settings.bus == "in-process":
        return None
    if settings.amqp_url is not None:
        return str(settings.amqp_url)
    if (probe or settings.bus == "rabbitmq") and port_answers():
        return LOCAL_BROKER
    return None


def make_bus(settings: Settings) -> Bus:
    """Return the RabbitMQ bus for this process's settings."""
    from shared.bus.amqp import AmqpBus

    url = resolve_amqp_url(settings)
    if url is None:
        raise ConfigError(
            "no broker: set VOCDESK_AMQP_URL or start RabbitMQ "
            "(or use `vocdesk up`, which runs everything in one process without one)"
        )
    return AmqpBus(url, publish_timeout=settings.publish_timeout_s)


@dataclass
class Runtime:
    """A service's connections, shared by its API, consumers and handlers."""

    service: str
    settings: Settings
    bus: Bus
    store: Store
    clock: Clock = field(default_factory=SystemClock)
    owns_bus: bool = True
    subscriptions: list[Subscription] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def inbox(self) -> MongoInbox:
        """Return the service's idempotency inbox."""
        return MongoInbox(self.store)

    async def readiness(self, *, timeout: float = 0.8) -> dict[str, object]:
        """Report within ``timeout`` whether the bus has its consumers and the store answers."""
        bus, store_ok = await asyncio.gather(
            _bounded(self.bus.health(), timeout), _bounded(self.store.ping(), timeout)
        )
        expected = {s.queue for s in self.subscriptions}
        reasons: list[str] = []
        if bus is None:
            reasons.append(f"bus health did not answer within {timeout}s")
        elif not bus.connected:
            reasons.append("bus not connected")
        else:
            reasons += [f"no consumer on {q}" for q in sorted(expected) if not bus.consumers.get(q)]
        if store_ok is None:
            reasons.append(f"store did not answer within {timeout}s")
        elif not store_ok:
            reasons.append("store unavailable")
        return {
            "ready": not reasons,
            "service": self.service,
            "reasons": reasons,
            "bus": {
                "kind": bus.kind if bus else self.bus.kind,
                "connected": bool(bus and bus.connected),
                "consumers": bus.consumers if bus else {},
            },
            "store": {"ok": bool(store_ok)},
        }


async def _bounded(check: Coroutine[Any, Any, _T], timeout: float) -> _T | None:
    # Shielded: a late check finishes in the background instead of being
    # cancelled mid-RPC, which would close its broker channel.
    try:
        return await asyncio.wait_for(asyncio.shield(check), timeout)
    except TimeoutError:
        return None


@dataclass
class ServiceParts:
    """What a service declares: its indexes, its consumers and its background loops."""

    indexes: IndexPlan = field(default_factory=dict)
    subscriptions: Sequence[Subscription] = ()
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = ()


async def _connect_bus(runtime: Runtime, subscriptions: Sequence[Subscription]) -> None:
    # Keep trying: a service that starts before the broker must still come up
    # and answer /readyz with 503 until it has its consumers.
    delay = 0.5
    while True:
        try:
            await runtime.bus.connect()
            for sub in subscriptions:
                await runtime.bus.subscribe(sub)
            return
        except BusUnavailable as exc:
            log.warning("bus not reachable yet: %s", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)


@contextlib.asynccontextmanager
async def running(runtime: Runtime, parts: ServiceParts) -> AsyncIterator[Runtime]:
    """Bootstrap indexes, connect the bus, start consumers and loops; undo on exit."""
    await runtime.store.ensure_indexes({**MongoInbox.INDEXES, **parts.indexes})
    runtime.subscriptions.extend(parts.subscriptions)
    runtime.tasks.append(
        asyncio.create_task(
            _connect_bus(runtime, parts.subscriptions), name=f"{runtime.service}:connect-bus"
        )
    )
    for loop in parts.background:
        name = f"{runtime.service}:{getattr(loop, '__qualname__', 'loop')}"
        runtime.tasks.append(asyncio.create_task(loop(), name=name))
    try:
        yield runtime
    finally:
        await _shut_down(runtime)


STOP_GRACE_S = 10.0


async def _shut_down(runtime: Runtime) -> None:
    # Each step is bounded: a loop that ignores its cancellation or a broker
    # that never answers the close must not keep the process from stopping.
    # What is cut off is safe to lose here: unacknowledged deliveries return
    # to their queues and leased work is taken again when its lease ends.
    grace = STOP_GRACE_S
    for task in runtime.tasks:
        task.cancel()
    if runtime.tasks:
        _, pending = await asyncio.wait(runtime.tasks, timeout=grace)
        for task in pending:
            log.warning("background task %s did not stop within %.0fs", task.get_name(), grace)
    steps: list[tuple[str, Coroutine[Any, Any, None]]] = []
    if runtime.owns_bus:
        steps.append(("bus", runtime.bus.close()))
    steps.append(("store", runtime.store.client.close()))
    for what, step in steps:
        try:
            await asyncio.wait_for(step, grace)
        except TimeoutError:
            log.warning("closing the %s took longer than %.0fs; leaving it", what, grace)
        except Exception:
            log.exception("closing the %s failed", what)


def open_store(settings: Settings, service: str, mongo_url: str) -> Store:
    """Return the service's own database on ``mongo_url``."""
    return connect(mongo_url, f"{settings.mongo_db_prefix}_{service}")
