"""The bus topology every service declares at start (idempotently) and the topic rules."""

from __future__ import annotations

from dataclasses import dataclass

EXCHANGE = "vocdesk.events"
DLX = "vocdesk.dlx"


@dataclass(frozen=True)
class QueueSpec:
    """A work queue: its name and the topics bound to it."""

    name: str
    bindings: tuple[str, ...]

    @property
    def dead_letter_queue(self) -> str:
        """Return the name of the queue that parks this queue's dead letters."""
        return f"{self.name}.dead"


# Declared by every service at start, so a publish never finds a topic unbound
# because its consumer has not started yet.
QUEUES: dict[str, QueueSpec] = {
    spec.name: spec
    for spec in (
        QueueSpec("privacy.contacts", ("contact.received.*",)),
        QueueSpec("routing.contacts", ("contact.screened",)),
        QueueSpec("routing.consent", ("consent.changed",)),
        QueueSpec("notify.events", ("case.#", "reply.requested")),
        QueueSpec("console.events", ("case.#", "notification.#")),
    )
}


def topic_matches(pattern: str, key: str) -> bool:
    """Return True if routing ``key`` matches AMQP topic ``pattern`` (``*`` one word, ``#`` any)."""
    return _match(pattern.split("."), key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head in ("*", words[0])) and _match(rest, words[1:])
