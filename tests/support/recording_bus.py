"""A bus for tests that keeps what is published instead of sending it."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.bus.base import BusHealth, Subscription
from shared.errors import BusUnavailable
from shared.messages import Envelope


@dataclass
class RecordingBus:
    """A bus that keeps what is published, round-tripped through JSON; ``failing`` refuses it."""

    kind: str = "recording"
    failing: bool = False
    published: list[Envelope] = field(default_factory=list)

    async def connect(self) -> None:
        """Nothing to connect."""

    async def publish(self, envelope: Envelope) -> None:
        """Record the envelope, or fail like an unreachable broker."""
        if self.failing:
            raise BusUnavailable("broker unreachable (test)")
        self.published.append(Envelope.from_json(envelope.to_json()))

    async def subscribe(self, subscription: Subscription) -> None:
        """Consumers are called directly in these tests."""

    async def health(self) -> BusHealth:
        """Report connected, no consumers."""
        return BusHealth(kind=self.kind, connected=True)

    async def close(self) -> None:
        """Nothing to close."""

    def types(self, case_id: str | None = None) -> list[str]:
        """Return the published event types (of one case), in order."""
        return [
            e.type
            for e in self.published
            if case_id is None or e.data.get("case", {}).get("id") == case_id
        ]
