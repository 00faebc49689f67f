"""The message bus: one interface, a RabbitMQ implementation and an in-process one."""

from shared.bus.base import (
    DELIVERY_LIMIT,
    Bus,
    BusHealth,
    Decision,
    Handler,
    Inbox,
    MemoryInbox,
    Subscription,
    decide,
)
from shared.bus.topology import DLX, EXCHANGE, QUEUES, QueueSpec, topic_matches

__all__ = [
    "DELIVERY_LIMIT",
    "DLX",
    "EXCHANGE",
    "QUEUES",
    "Bus",
    "BusHealth",
    "Decision",
    "Handler",
    "Inbox",
    "MemoryInbox",
    "QueueSpec",
    "Subscription",
    "decide",
    "topic_matches",
]
