"""The message bus: one interface, a RabbitMQ implementation and an in-process one."""

from shared.bus.base import (
    DELIVERY_LIMIT,
    BatchHandler,
    Bus,
    BusHealth,
    Decision,
    Handler,
    Inbox,
    MemoryInbox,
    Subscription,
    decide,
)
from shared.bus.batch import decide_batch, message_scope
from shared.bus.topology import DLX, EXCHANGE, QUEUES, QueueSpec, topic_matches

__all__ = [
    "DELIVERY_LIMIT",
    "DLX",
    "EXCHANGE",
    "QUEUES",
    "BatchHandler",
    "Bus",
    "BusHealth",
    "Decision",
    "Handler",
    "Inbox",
    "MemoryInbox",
    "QueueSpec",
    "Subscription",
    "decide",
    "decide_batch",
    "message_scope",
    "topic_matches",
]
