"""A circuit breaker per provider: stop calling a provider that keeps failing.

closed ──(``failures`` retryable failures in a row)──> open
open ──(open period over)──> half_open: one probe is let through, the rest wait
half_open ──probe succeeds──> closed;  ──probe fails──> open, for twice as long (capped)

While a provider is open no delivery to it is attempted (nor its customer's
address looked up again): each waits until the breaker would let a probe through,
plus a random spread so the recovered provider is not hit by all of them at once.
State is per process: each replica learns the outage on its own few attempts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from shared.clock import Clock
from shared.metrics import BREAKER_LEVEL, BREAKER_STATE

BreakerState = Literal["closed", "open", "half_open"]


@dataclass
class _Circuit:
    state: BreakerState = "closed"
    failures: int = 0
    open_for: float = 0.0
    open_until: datetime | None = None
    probing: bool = False
    changed_at: datetime | None = None
    last_reason: str = ""


@dataclass
class Breakers:
    """The circuits of every provider this process sends to."""

    clock: Clock
    failures: int = 5
    open_s: float = 30.0
    open_max_s: float = 300.0
    rng: random.Random = field(default_factory=random.Random)
    _circuits: dict[str, _Circuit] = field(default_factory=dict)

    def admit(self, provider: str) -> datetime | None:
        """Return None if a send to ``provider`` may go now, else when to ask again."""
        circuit = self._circuits.setdefault(provider, _Circuit())
        now = self.clock.now()
        if circuit.state == "closed":
            return None
        assert circuit.open_until is not None
        if circuit.state == "open" and now >= circuit.open_until:
            self._move(provider, circuit, "half_open", now)
        if circuit.state == "half_open" and not circuit.probing:
            circuit.probing = True
            return None
        # Spread the waiting deliveries over one open period from the next
        # probe on: the first back probes, the rest find the answer.
        spread = timedelta(seconds=self.rng.uniform(0.0, circuit.open_for))
        return max(circuit.open_until, now) + spread

    def record(self, provider: str, *, healthy: bool, reason: str = "") -> None:
        """Record an admitted send's answer: ``healthy`` unless the provider failed transiently."""
        circuit = self._circuits.setdefault(provider, _Circuit())
        now = self.clock.now()
        was_probe, circuit.probing = circuit.probing, False
        if healthy:
            if circuit.state != "closed":
                self._move(provider, circuit, "closed", now)
            circuit.failures, circuit.open_for = 0, 0.0
            return
        circuit.failures += 1
        circuit.last_reason = reason
        if was_probe or (circuit.state == "closed" and circuit.failures >= self.failures):
            circuit.open_for = min(max(circuit.open_for * 2, self.open_s), self.open_max_s)
            circuit.open_until = now + timedelta(seconds=circuit.open_for)
            self._move(provider, circuit, "open", now)

    def _move(self, provider: str, circuit: _Circuit, state: BreakerState, now: datetime) -> None:
        circuit.state, circuit.changed_at = state, now
        BREAKER_STATE.labels(provider).set(BREAKER_LEVEL[state])

    def release(self, provider: str) -> None:
        """Give back an admission that ended without asking the provider."""
        circuit = self._circuits.get(provider)
        if circuit is not None:
            circuit.probing = False

    def state(self, provider: str) -> BreakerState:
        """Return ``provider``'s state (an open circuit past its period reads half_open)."""
        circuit = self._circuits.get(provider)
        if circuit is None:
            return "closed"
        lapsed = circuit.open_until is not None and self.clock.now() >= circuit.open_until
        if circuit.state == "open" and lapsed:
            return "half_open"
        return circuit.state

    def snapshot(self) -> list[dict[str, object]]:
        """Return every provider's state, for the status endpoint and the console's banner."""
        return [
            {
                "provider": name,
                "state": self.state(name),
                "since": c.changed_at.isoformat() if c.changed_at else None,
                "retry_at": c.open_until.isoformat() if c.open_until else None,
                "reason": c.last_reason if self.state(name) != "closed" else "",
            }
            for name, c in sorted(self._circuits.items())
        ]
