"""The bus on RabbitMQ (aio-pika): quorum queues, confirms, dead-letter queues, robust consumers."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)

from shared import metrics, tracing
from shared.bus.base import DELIVERY_LIMIT, BusHealth, Decision, Subscription, decide
from shared.bus.batch import decide_batch
from shared.bus.topology import DLX, EXCHANGE, QUEUES, QueueSpec
from shared.errors import BusUnavailable, Unroutable
from shared.logging import correlation_scope
from shared.messages.base import Envelope

log = logging.getLogger(__name__)

REASON_HEADER = "x-vocdesk-dead-reason"


def queue_arguments(spec: QueueSpec) -> dict[str, Any]:
    """Return the arguments of a work queue: quorum, delivery limit, dead-letter route."""
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": DLX,
        "x-dead-letter-routing-key": spec.name,
    }


RECONNECT_S = 1.0


class AmqpBus:
    """Publish and consume on RabbitMQ; reconnects and restores consumers by itself."""

    kind = "rabbitmq"

    def __init__(
        self, url: str, *, publish_timeout: float = 2.0, queues: dict[str, QueueSpec] = QUEUES
    ) -> None:
        self._url = url
        self._timeout = publish_timeout
        self._queues = queues
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._dlx: AbstractExchange | None = None
        self._subscriptions: list[Subscription] = []
        self._batchers: list[asyncio.Task[None]] = []
        self._connect_lock = asyncio.Lock()

    @property
    def url(self) -> str:
        """Return the broker URL this bus connects to (for admin tools on the same broker)."""
        return self._url

    async def connect(self) -> None:
        """Connect and declare the topology (idempotent)."""
        async with self._connect_lock:
            if self._connection is not None and not self._connection.is_closed:
                return
            try:
                self._connection = await asyncio.wait_for(
                    # Reconnect each second (aio-pika waits 5 s by default), so a
                    # restarted broker has its consumers back within seconds.
                    aio_pika.connect_robust(
                        self._url, timeout=self._timeout, reconnect_interval=RECONNECT_S
                    ),
                    self._timeout,
                )
            except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as exc:
                raise BusUnavailable(f"cannot reach the broker: {type(exc).__name__}") from exc
            channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
            self._publish_channel = channel
            self._exchange = await channel.declare_exchange(
                EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
            )
            self._dlx = await channel.declare_exchange(
                DLX, aio_pika.ExchangeType.DIRECT, durable=True
            )
            for spec in self._queues.values():
                await self._declare(channel, spec)

    async def _declare(
        self, channel: AbstractChannel, spec: QueueSpec
    ) -> aio_pika.abc.AbstractQueue:
        dead = await channel.declare_queue(
            spec.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await dead.bind(DLX, routing_key=spec.name)
        queue = await channel.declare_queue(
            spec.name, durable=True, arguments=queue_arguments(spec)
        )
        for pattern in spec.bindings:
            await queue.bind(EXCHANGE, routing_key=pattern)
        return queue

    async def publish(self, envelope: Envelope) -> None:
        """Publish with confirms and ``mandatory``; raise if not confirmed within the timeout."""
        try:
            await asyncio.wait_for(self._publish(envelope), self._timeout)
        except TimeoutError as exc:
            raise BusUnavailable(
                f"broker did not confirm {envelope.type} within {self._timeout}s"
            ) from exc
        except aio_pika.exceptions.DeliveryError as exc:
            raise Unroutable(f"no queue took {envelope.routing_key}") from exc
        except (OSError, aio_pika.exceptions.AMQPError, RuntimeError) as exc:
            raise BusUnavailable(f"publish failed: {type(exc).__name__}: {exc}") from exc
        metrics.MESSAGES_PUBLISHED.labels(envelope.type).inc()

    async def _publish(self, envelope: Envelope) -> None:
        await self.connect()
        assert self._exchange is not None
        await self._exchange.publish(
            to_amqp(envelope), routing_key=envelope.routing_key, mandatory=True
        )

    async def subscribe(self, subscription: Subscription) -> None:
        """Consume on a channel of its own, with the subscription's prefetch."""
        await self.connect()
        assert self._connection is not None
        spec = self._queues[subscription.queue]
        channel = await self._connection.channel()
        batched = subscription.batch_handler is not None and subscription.batch_size > 1
        # A batch consumer holds at least one batch; each further batch the
        # prefetch holds runs beside it (see _batches).
        prefetch = subscription.prefetch
        if batched:
            prefetch = max(prefetch, subscription.batch_size)
        await channel.set_qos(prefetch_count=prefetch)
        queue = await self._declare(channel, spec)
        dlx = await channel.get_exchange(DLX)

        if batched:
            waiting: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            self._batchers.append(
                asyncio.create_task(
                    self._batches(subscription, dlx, waiting, prefetch=prefetch),
                    name=f"batches:{spec.name}",
                )
            )
            await queue.consume(waiting.put)
        else:

            async def on_message(message: AbstractIncomingMessage) -> None:
                await self._handle(subscription, dlx, message)

            await queue.consume(on_message)
        self._subscriptions.append(subscription)

    async def _batches(
        self,
        subscription: Subscription,
        dlx: AbstractExchange,
        waiting: asyncio.Queue[AbstractIncomingMessage],
        *,
        prefetch: int,
    ) -> None:
        """Take deliveries as they come (``batch_size`` or ``max_wait``) and handle each lot."""
        loop = asyncio.get_running_loop()
        # Batches run side by side as far as the prefetch holds them, so one
        # holding a message through a store outage does not stop the next.
        slots = asyncio.Semaphore(max(1, prefetch // subscription.batch_size))
        running: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            slots.release()

        try:
            while True:
                await slots.acquire()
                batch = [await waiting.get()]
                deadline = loop.time() + subscription.max_wait
                while len(batch) < subscription.batch_size:
                    left = deadline - loop.time()
                    if left <= 0:
                        break
                    try:
                        batch.append(await asyncio.wait_for(waiting.get(), left))
                    except TimeoutError:
                        break
                task = asyncio.create_task(self._answer_batch(subscription, dlx, batch))
                running.add(task)
                task.add_done_callback(finished)
        finally:
            for task in list(running):
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _answer_batch(
        self,
        subscription: Subscription,
        dlx: AbstractExchange,
        batch: list[AbstractIncomingMessage],
    ) -> None:
        try:
            await self._handle_batch(subscription, dlx, batch)
        except Exception:
            # Whatever is left unanswered returns to the queue with its channel.
            log.exception("a batch of %s could not be answered", subscription.queue)

    async def _handle_batch(
        self,
        subscription: Subscription,
        dlx: AbstractExchange,
        batch: list[AbstractIncomingMessage],
    ) -> None:
        queue = subscription.queue
        readable: list[tuple[AbstractIncomingMessage, Envelope]] = []
        for message in batch:
            try:
                readable.append((message, Envelope.from_json(message.body)))
            except ValueError as exc:
                await self._dead_letter(dlx, queue, message, f"unreadable envelope: {exc}")
        if not readable:
            return
        traces = {envelope.id: _trace_of(m, envelope) for m, envelope in readable}
        started = time.perf_counter()
        outcomes = await decide_batch(
            subscription,
            [(envelope, _delivery_number(m)) for m, envelope in readable],
            traces=traces,
        )
        took = (time.perf_counter() - started) / len(readable)
        for (message, envelope), (decision, reason) in zip(readable, outcomes, strict=True):
            metrics.HANDLER_LATENCY.labels(queue).observe(took)
            metrics.MESSAGES_CONSUMED.labels(queue, decision.value).inc()
            with correlation_scope(envelope.correlation_id):
                try:
                    await self._answer(dlx, queue, message, envelope, decision, reason)
                except Exception:
                    # One lost answer must not leave the others unanswered.
                    log.exception("could not answer a delivery", extra={"message_id": envelope.id})

    async def _answer(
        self,
        dlx: AbstractExchange,
        queue: str,
        message: AbstractIncomingMessage,
        envelope: Envelope,
        decision: Decision,
        reason: str,
    ) -> None:
        if decision is Decision.ACK:
            await message.ack()
        elif decision is Decision.REQUEUE:
            delivery = _delivery_number(message)
            log.warning("requeued", extra={"message_id": envelope.id, "delivery": delivery})
            await message.nack(requeue=True)
        else:
            log.error("dead-lettered", extra={"message_id": envelope.id, "reason": reason})
            await self._dead_letter(dlx, queue, message, reason)

    async def _handle(
        self,
        subscription: Subscription,
        dlx: AbstractExchange,
        message: AbstractIncomingMessage,
    ) -> None:
        try:
            envelope = Envelope.from_json(message.body)
        except ValueError as exc:
            await self._dead_letter(dlx, subscription.queue, message, f"unreadable envelope: {exc}")
            return
        delivery = _delivery_number(message)
        queue = subscription.queue
        with (
            correlation_scope(envelope.correlation_id),
            tracing.trace_scope(_trace_of(message, envelope)),
        ):
            started = time.perf_counter()
            decision, reason = await decide(subscription, envelope, delivery=delivery)
            metrics.HANDLER_LATENCY.labels(queue).observe(time.perf_counter() - started)
            metrics.MESSAGES_CONSUMED.labels(queue, decision.value).inc()
            await self._answer(dlx, queue, message, envelope, decision, reason)

    async def _dead_letter(
        self, dlx: AbstractExchange, queue: str, message: AbstractIncomingMessage, reason: str
    ) -> None:
        # Republish with the reason (the broker's own dead-lettering cannot carry
        # one), then ack; if the republish fails, reject so the broker parks it.
        headers = dict(message.headers or {})
        headers[REASON_HEADER] = reason[:500]
        parked = aio_pika.Message(
            message.body,
            headers=headers,
            message_id=message.message_id,
            type=message.type,
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        metrics.MESSAGES_DEAD_LETTERED.labels(queue).inc()
        try:
            await dlx.publish(parked, routing_key=queue)
        except Exception:
            log.exception("could not park dead letter; rejecting instead")
            await message.reject(requeue=False)
            return
        await message.ack()

    async def health(self) -> BusHealth:
        """Ask the broker how many consumers each subscribed queue has."""
        report = BusHealth(kind=self.kind, connected=False)
        connection = self._connection
        if connection is None or connection.is_closed:
            return report
        try:
            channel = await asyncio.wait_for(connection.channel(), self._timeout)
            try:
                for sub in self._subscriptions:
                    queue = await channel.declare_queue(sub.queue, passive=True)
                    result = queue.declaration_result
                    report.consumers[sub.queue] = int(result.consumer_count or 0)
            finally:
                await channel.close()
        except Exception:
            log.warning("bus health check failed", exc_info=True)
            return report
        report.connected = True
        return report

    async def close(self) -> None:
        """Disconnect; unacknowledged deliveries go back to their queues."""
        if self._connection is not None:
            await self._connection.close()
        self._connection = None
        for task in self._batchers:
            task.cancel()
        await asyncio.gather(*self._batchers, return_exceptions=True)
        self._batchers.clear()


def to_amqp(envelope: Envelope) -> aio_pika.Message:
    """Build the AMQP message: properties mirror the envelope."""
    return aio_pika.Message(
        envelope.to_json(),
        message_id=envelope.id,
        type=envelope.type,
        content_type="application/json",
        correlation_id=envelope.correlation_id,
        timestamp=envelope.occurred_at,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers={
            "version": envelope.version,
            # W3C trace context: the current trace, else the correlation id's.
            tracing.HEADER: tracing.traceparent(envelope.correlation_id, span_seed=envelope.id),
        },
    )


def _trace_of(message: AbstractIncomingMessage, envelope: Envelope) -> tracing.TraceContext:
    # Continue the trace of the header; without one, the correlation id's.
    trace = tracing.parse((message.headers or {}).get(tracing.HEADER))  # type: ignore[arg-type]
    return trace or tracing.TraceContext(tracing.trace_id_for(envelope.correlation_id))


def _delivery_number(message: AbstractIncomingMessage) -> int:
    # Quorum queues count earlier failed deliveries in x-delivery-count.
    count = (message.headers or {}).get("x-delivery-count", 0)
    try:
        return int(count) + 1  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1
