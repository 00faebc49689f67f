"""Real RabbitMQ for tests: isolated queues per test, and a proxy that can cut the line."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import quote

import aio_pika

from shared.bus.amqp import AmqpBus
from shared.bus.topology import QueueSpec
from shared.ids import new_id
from shared.messages import Envelope

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


async def until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait until ``predicate`` holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def waiting_messages(queue: str, url: str = AMQP_URL) -> int:
    """Return how many messages wait in ``queue`` (which must exist)."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


async def take_envelopes(queue: str, url: str = AMQP_URL) -> list[Envelope]:
    """Take every message waiting in ``queue`` off it and return their envelopes."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.get_queue(queue)
        found = []
        while (message := await declared.get(fail=False)) is not None:
            await message.ack()
            found.append(Envelope.from_json(message.body))
        return found


def unique_spec(*suffixes: str) -> QueueSpec:
    """Return a queue of its own, bound to topics nobody else publishes."""
    tag = new_id().lower()
    return QueueSpec(f"test.{tag}", tuple(f"test.{tag}.{s}" for s in suffixes or ("#",)))


async def connected_bus(spec: QueueSpec, url: str = AMQP_URL, timeout: float = 2.0) -> AmqpBus:
    """Return a RabbitMQ bus that knows only ``spec``, connected."""
    bus = AmqpBus(url, publish_timeout=timeout, queues={spec.name: spec})
    await bus.connect()
    return bus


def topic_of(spec: QueueSpec) -> str:
    """Return a topic that ``spec``'s binding routes to its queue."""
    return spec.bindings[0].replace("#", "msg")


async def delete_queues(*specs: QueueSpec) -> None:
    """Remove the test queues and their dead-letter queues from the broker."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for spec in specs:
            for name in (spec.name, spec.dead_letter_queue):
                with contextlib.suppress(Exception):
                    await channel.queue_delete(name)


async def get_dead(
    spec: QueueSpec, *, timeout: float = 10.0
) -> aio_pika.abc.AbstractIncomingMessage:
    """Wait for a message in ``spec``'s dead-letter queue and return it (acknowledged)."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(spec.dead_letter_queue)
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            message = await queue.get(fail=False)
            if message is not None:
                await message.ack()
                return message
            await asyncio.sleep(0.1)
    raise AssertionError(f"nothing dead-lettered in {spec.dead_letter_queue}")


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@contextlib.contextmanager
def private_vhost(prefix: str = "test") -> Iterator[str]:
    """Yield the URL of a virtual host of this run's own, removed afterwards."""
    # Queue names are fixed, so systems started by other tests on the same
    # broker would otherwise compete for each other's messages.
    name = f"{prefix}-{new_id().lower()}"
    _rabbitmqctl("add_vhost", name)
    try:
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@127.0.0.1:5672/{quote(name, safe='')}"
    finally:
        _rabbitmqctl("delete_vhost", name)


def close_all_connections() -> None:
    """Make the broker drop every client connection, as a restart would."""
    subprocess.run(
        ["rabbitmqctl", "close_all_connections", "test: simulated broker restart"],
        check=True,
        capture_output=True,
        timeout=60,
    )


class CuttableProxy:
    """A TCP proxy to the broker; ``cut`` drops every connection and refuses new ones."""

    def __init__(self, target_port: int = 5672) -> None:
        self._target = target_port
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0

    async def start(self) -> None:
        """Listen on a free local port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        """Return the AMQP URL through the proxy."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target)
        self._writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()


@contextlib.asynccontextmanager
async def blackhole() -> AsyncIterator[int]:
    """A port that accepts connections and never answers (a hung broker)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in held:
            writer.transport.abort()
