"""Dead letters for admins: ``/api/v1/admin/dead-letters`` lists and replays parked messages.

Each work queue parks what it could not handle in ``<queue>.dead`` with the
reason in a header. The list shows, per queue, each message's reason and its
envelope's id, type, version and times, never its data: a
``contact.received`` body carries the customer's identity. Listing takes
messages with ``basic.get`` unacknowledged and gives them back when its
channel closes, so nothing leaves the queue by being looked at. A replay
publishes the message again, body and properties unchanged, to the
exchange under its original routing key, and only after the broker confirmed
that removes it from the dead-letter queue; consumers' inboxes keep a queue
that had handled it from handling it twice.
"""

from pathlib import Path
from typing import Annotated, Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from services.console.deps import Admin, Parts
from services.console.pages import page_csp
from shared.bus.amqp import REASON_HEADER, AmqpBus
from shared.bus.topology import EXCHANGE, QUEUES, QueueSpec
from shared.errors import BusUnavailable, Invalid, NotFound
from shared.messages.base import Envelope

PAGE = Path(__file__).parent / "static" / "dead-letters.html"
MAX_LIST = 200


class DeadLetterQueues:
    """The ``.dead`` queues of the broker the bus uses."""

    def __init__(self, url: str, queues: dict[str, QueueSpec] = QUEUES) -> None:
        self._url = url
        self._queues = queues

    async def list(self, *, queue: str | None, limit: int) -> list[dict[str, Any]]:
        """Return each queue's dead-letter count and up to ``limit`` messages' metadata."""
        names = [self._spec(queue).name] if queue else list(self._queues)
        connection = await self._connect()
        async with connection:
            listed = []
            for name in names:
                # A channel per queue: closing it gives back what was looked at.
                channel = await connection.channel()
                spec = self._queues[name]
                try:
                    dead = await channel.declare_queue(spec.dead_letter_queue, passive=True)
                except aio_pika.exceptions.ChannelNotFoundEntity:
                    # Not declared yet (no service of it ever started): nothing parked.
                    listed.append({"queue": name, "count": 0, "items": []})
                    continue
                count = int(dead.declaration_result.message_count or 0)
                items = []
                for _ in range(min(count, limit)):
                    message = await dead.get(no_ack=False, fail=False)
                    if message is None:
                        break
                    items.append(_metadata(message))
                await channel.close()
                listed.append({"queue": name, "count": count, "items": items})
            return listed

    async def replay(self, queue: str, message_id: str) -> dict[str, Any]:
        """Publish ``message_id`` from ``queue``'s dead letters again and remove it there."""
        spec = self._spec(queue)
        connection = await self._connect()
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            dead = await channel.declare_queue(spec.dead_letter_queue, passive=True)
            for _ in range(int(dead.declaration_result.message_count or 0)):
                message = await dead.get(no_ack=False, fail=False)
                if message is None:
                    break
                if message.message_id == message_id:
                    routing_key = await _republish(channel, message)
                    await message.ack()
                    return {"queue": queue, "id": message_id, "routing_key": routing_key}
            raise NotFound(f"no dead letter {message_id} in {spec.dead_letter_queue}")

    def _spec(self, queue: str) -> QueueSpec:
        if queue not in self._queues:
            raise NotFound(f"no queue {queue}; one of {', '.join(self._queues)}")
        return self._queues[queue]

    async def _connect(self) -> aio_pika.abc.AbstractConnection:
        try:
            return await aio_pika.connect(self._url, timeout=5)
        except (OSError, aio_pika.exceptions.AMQPError) as exc:
            raise BusUnavailable(f"cannot reach the broker: {type(exc).__name__}") from exc


async def _republish(channel: AbstractChannel, message: AbstractIncomingMessage) -> str:
    try:
        routing_key = Envelope.from_json(message.body).routing_key
    except ValueError as exc:
        raise Invalid(f"cannot replay an unreadable envelope: {exc}") from exc
    headers = {k: v for k, v in (message.headers or {}).items() if k != REASON_HEADER}
    exchange = await channel.get_exchange(EXCHANGE)
    await exchange.publish(
        aio_pika.Message(
            message.body,
            headers=headers,
            message_id=message.message_id,
            type=message.type,
            content_type=message.content_type,
            correlation_id=message.correlation_id,
            timestamp=message.timestamp,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        ),
        routing_key=routing_key,
        mandatory=True,
    )
    return routing_key


def _metadata(message: AbstractIncomingMessage) -> dict[str, Any]:
    headers = message.headers or {}
    entry: dict[str, Any] = {
        "id": message.message_id,
        "type": message.type,
        "reason": str(headers.get(REASON_HEADER) or _broker_reason(headers)),
        "deliveries": headers.get("x-delivery-count"),
    }
    try:
        envelope = Envelope.from_json(message.body)
    except ValueError:
        return entry | {"readable": False}
    return entry | {
        "readable": True,
        "version": envelope.version,
        "routing_key": envelope.routing_key,
        "occurred_at": envelope.occurred_at.isoformat(),
        "correlation_id": envelope.correlation_id,
    }


def _broker_reason(headers: dict[str, Any]) -> str:
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        return f"dead-lettered by the broker: {deaths[0].get('reason')}"
    return "no reason recorded"


class DeadLetterRead(BaseModel):
    """A parked message's metadata: never its data (a contact's carries the customer)."""

    id: str | None = Field(description="the message's id")
    type: str | None = Field(description="the message's AMQP type")
    reason: str = Field(description="why it was parked")
    deliveries: int | None = Field(description="how often it was delivered before")
    readable: bool = Field(description="whether its envelope could be read")
    version: int | None = Field(default=None, description="a readable envelope's version")
    routing_key: str | None = Field(default=None, description="where a replay publishes it")
    occurred_at: str | None = Field(default=None, description="when its event occurred")
    correlation_id: str | None = None


class DeadLetterQueueRead(BaseModel):
    """One work queue's dead letters: how many, and the first ones' metadata."""

    queue: str
    count: int
    items: list[DeadLetterRead]


class DeadLettersRead(BaseModel):
    """Each work queue's dead letters."""

    queues: list[DeadLetterQueueRead]


class ReplayRead(BaseModel):
    """A dead letter published again, and where to."""

    queue: str
    id: str
    routing_key: str


router = APIRouter(tags=["admin"])


def queues(parts: Parts) -> DeadLetterQueues:
    """Return the dead-letter queues of the broker the console's bus uses."""
    if not isinstance(parts.bus, AmqpBus):
        raise BusUnavailable("dead letters are kept by RabbitMQ; this install runs without it")
    return DeadLetterQueues(parts.bus.url)


# An unreadable envelope's entry has no version, routing key, time or correlation id.
@router.get("/api/v1/admin/dead-letters", response_model_exclude_unset=True)
async def list_dead_letters(
    _: Admin,
    parts: Parts,
    queue: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 50,
) -> DeadLettersRead:
    """List each work queue's dead letters (metadata only; nothing leaves the queue)."""
    listed = await queues(parts).list(queue=queue, limit=limit)
    return DeadLettersRead.model_validate({"queues": listed})


@router.post("/api/v1/admin/dead-letters/{queue}/{message_id}/replay")
async def replay_dead_letter(queue: str, message_id: str, _: Admin, parts: Parts) -> ReplayRead:
    """Publish a dead letter again under its routing key, then remove it from the queue."""
    return ReplayRead.model_validate(await queues(parts).replay(queue, message_id))


@router.get("/admin/dead-letters", include_in_schema=False)
async def page() -> Response:
    """Serve the dead-letter page."""
    html = PAGE.read_text()
    return HTMLResponse(html, headers={"Content-Security-Policy": page_csp(html)})
