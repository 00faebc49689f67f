"""The envelope every bus message travels in, and the registry of message models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.ids import new_id


class Frozen(BaseModel):
    """Base of every contract model: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(Frozen):
    """A versioned message; subclasses fix ``type`` and ``version`` as literals."""

    type: str
    version: int
    topic_suffix: ClassVar[str | None] = None

    def routing_key(self) -> str:
        """Return the topic this message is published under."""
        return self.type


M = TypeVar("M", bound=type[Message])

_REGISTRY: dict[tuple[str, int], type[Message]] = {}


def register(*types: str, version: int) -> Any:
    """Register a message model under one or more ``type`` names for ``version``."""

    def decorate(cls: M) -> M:
        for name in types:
            _REGISTRY[(name, version)] = cls
        return cls

    return decorate


class Envelope(Frozen):
    """What travels on the bus: identity, causality and the message as JSON data."""

    id: str = Field(default_factory=new_id)
    type: str
    version: int
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str
    causation_id: str | None = None
    routing_key: str
    data: dict[str, Any]

    @classmethod
    def of(
        cls,
        message: Message,
        *,
        correlation_id: str | None = None,
        causation: Envelope | None = None,
        occurred_at: datetime | None = None,
        message_id: str | None = None,
    ) -> Envelope:
        """Wrap ``message``; inherit the correlation id from ``causation`` if given."""
        if correlation_id is None:
            correlation_id = causation.correlation_id if causation else new_id()
        extra: dict[str, Any] = {}
        if occurred_at is not None:
            extra["occurred_at"] = occurred_at
        if message_id is not None:
            extra["id"] = message_id
        return cls(
            type=message.type,
            version=message.version,
            correlation_id=correlation_id,
            causation_id=causation.id if causation else None,
            routing_key=message.routing_key(),
            data=message.model_dump(mode="json"),
            **extra,
        )

    def message(self) -> Message:
        """Parse ``data`` into its registered, typed message model."""
        return parse_message(self.type, self.version, self.data)

    def to_json(self) -> bytes:
        """Serialise for the wire."""
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        """Parse from the wire."""
        return cls.model_validate_json(raw)


def parse_message(type_: str, version: int, data: dict[str, Any]) -> Message:
    """Return the typed model for ``type_``/``version``; raise ``KeyError`` if unknown."""
    model = _REGISTRY[(type_, version)]
    return model.model_validate(data)


def knows_type(type_: str) -> bool:
    """Return True if some version of ``type_`` is registered in this process."""
    return any(name == type_ for name, _ in _REGISTRY)
