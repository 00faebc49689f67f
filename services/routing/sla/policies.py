"""SLA policies and the per-case SLA clock, all in business time. No I/O.

The clock keeps the instant each due time and escalation step falls due, recomputed
only when the clock starts, pauses, resumes or changes calendar, so the watcher needs
plain comparisons and one indexed field (``next_due()``) to find its work.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    model_validator,
)

from services.routing.sla.calendar import ZERO, BusinessCalendar, as_utc
from shared.errors import ConfigError, Conflict

TargetName = Literal["first_response", "unit_ack", "resolution"]
Action = Literal["remind_assignee", "supervisor", "escalation_unit", "executive"]
SlaState = Literal["ok", "warning", "breached"]
Instant = Annotated[AwareDatetime, AfterValidator(as_utc)]
Seconds = Annotated[
    timedelta, PlainSerializer(timedelta.total_seconds, return_type=float, when_used="json")
]


class EscalationStep(BaseModel):
    """Take ``action`` once ``fraction`` of the ``target``'s time has been used."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fraction: float = Field(gt=0)
    action: Action
    target: TargetName

    @model_validator(mode="before")
    @classmethod
    def _from_triple(cls, raw: object) -> object:
        # YAML may write a step compactly as [0.75, supervisor, resolution].
        if isinstance(raw, list | tuple) and len(raw) == 3:
            return dict(zip(("fraction", "action", "target"), raw, strict=True))
        return raw

    @property
    def key(self) -> str:
        """Return the id that records this step as fired, e.g. ``resolution@0.75:supervisor``."""
        return f"{self.target}@{self.fraction}:{self.action}"


class SlaPolicy(BaseModel):
    """Targets, calendar and escalation for the cases it matches; ``None`` matches anything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    category: str | None = None
    topic: str | None = None
    urgency: str | None = None
    tier: str | None = None
    targets: dict[TargetName, Seconds]
    calendar: str = Field(min_length=1)
    escalation: tuple[EscalationStep, ...] = ()

    @model_validator(mode="after")
    def _coherent(self) -> SlaPolicy:
        if not self.targets:
            raise ValueError(f"policy {self.id!r} sets no target")
        for name, span in self.targets.items():
            if span <= ZERO:
                raise ValueError(f"policy {self.id!r}: target {name} must be positive")
        keys = [step.key for step in self.escalation]
        for step in self.escalation:
            if step.target not in self.targets:
                raise ValueError(f"policy {self.id!r}: step {step.key} has no {step.target} target")
            if keys.count(step.key) > 1:
                raise ValueError(f"policy {self.id!r}: step {step.key} is listed twice")
        return self


def select_policy(
    policies: Iterable[SlaPolicy],
    *,
    category: str | None,
    topic: str | None,
    urgency: str | None,
    tier: str | None,
) -> SlaPolicy | None:
    """Return the matching policy that names the most fields; the first listed wins a tie."""
    case = {"category": category, "topic": topic, "urgency": urgency, "tier": tier}
    best: SlaPolicy | None = None
    best_named = -1
    for policy in policies:
        wanted = {name: getattr(policy, name) for name in case}
        if any(value is not None and value != case[name] for name, value in wanted.items()):
            continue
        named = sum(value is not None for value in wanted.values())
        if named > best_named:  # strictly greater, so a tie keeps the earlier policy
            best, best_named = policy, named
    return best


class SlaClock(BaseModel):
    """One case's SLA clock; ``to_doc()`` is what the case document stores."""

    model_config = ConfigDict(extra="forbid")

    policy_id: str
    calendar_id: str
    targets: dict[TargetName, Seconds]
    steps: tuple[EscalationStep, ...]
    started_at: Instant
    # ``consumed`` holds the business time used up to this instant.
    counted_until: Instant
    paused_since: Instant | None = None
    consumed: dict[TargetName, Seconds]
    met_at: dict[TargetName, Instant] = Field(default_factory=dict)
    due: dict[str, Instant] = Field(default_factory=dict)
    step_due: dict[str, Instant] = Field(default_factory=dict)
    fired: list[str] = Field(default_factory=list)
    breach_reported: list[TargetName] = Field(default_factory=list)
    _calendar: BusinessCalendar = PrivateAttr()

    @classmethod
    def start(cls, policy: SlaPolicy, calendar: BusinessCalendar, at: datetime) -> SlaClock:
        """Start a clock for ``policy`` on ``calendar`` at ``at``."""
        at = as_utc(at)
        clock = cls(
            policy_id=policy.id,
            calendar_id=calendar.id,
            targets=dict(policy.targets),
            steps=policy.escalation,
            started_at=at,
            counted_until=at,
            consumed=dict.fromkeys(policy.targets, ZERO),
        )
        clock._calendar = calendar
        clock._replan()
        return clock

    @classmethod
    def from_doc(
        cls, doc: Mapping[str, Any], *, calendars: Mapping[str, BusinessCalendar]
    ) -> SlaClock:
        """Rebuild a clock from ``to_doc()`` output, finding its calendar by id."""
        clock = cls.model_validate(doc)
        if clock.calendar_id not in calendars:
            raise ConfigError(f"SLA clock uses unknown calendar {clock.calendar_id!r}")
        clock._calendar = calendars[clock.calendar_id]
        return clock

    def to_doc(self) -> dict[str, Any]:
        """Return the clock as JSON-safe data: ISO 8601 instants, durations in seconds."""
        return self.model_dump(mode="json")

    @property
    def calendar(self) -> BusinessCalendar:
        """Return the calendar the clock currently counts on."""
        return self._calendar

    def pause(self, at: datetime) -> None:
        """Stop counting at ``at`` while the case waits for the customer."""
        if self.paused_since is not None:
            raise Conflict(f"SLA clock already paused since {self.paused_since.isoformat()}")
        self.paused_since = self._count_to(at)
        self._replan()

    def resume(self, at: datetime) -> None:
        """Count again from ``at``; pending due times move by the business time paused."""
        if self.paused_since is None:
            raise Conflict("SLA clock is not paused")
        self._count_to(at)
        self.paused_since = None
        self._replan()

    def transfer(self, new_calendar: BusinessCalendar, at: datetime) -> None:
        """Count on ``new_calendar`` from ``at``, keeping the business time already used."""
        self._count_to(at)
        self._calendar, self.calendar_id = new_calendar, new_calendar.id
        self._replan()

    def reschedule(self, at: datetime) -> None:
        """Recompute pending due times after the calendar changed, e.g. a new holiday."""
        self.transfer(self._calendar, at)

    def met(self, target: TargetName, at: datetime) -> None:
        """Record ``target`` as met at ``at``; repeats and targets the policy lacks are ignored."""
        if target in self.targets and target not in self.met_at:
            self.met_at[target] = self._count_to(at)

    def elapsed(self, target: TargetName, at: datetime) -> timedelta:
        """Return the business time ``target`` has used by ``at``."""
        at = as_utc(at)
        used = self.consumed[target]
        if self.paused_since is None and target not in self.met_at and at > self.counted_until:
            used += self._calendar.business_time_between(self.counted_until, at)
        return used

    def state(self, at: datetime) -> dict[TargetName, SlaState]:
        """Return per target: breached, warning (first step under 1.0 reached) or ok."""
        states: dict[TargetName, SlaState] = {}
        for target, span in self.targets.items():
            used = self.elapsed(target, at)
            warn = min(
                (s.fraction for s in self.steps if s.target == target and s.fraction < 1.0),
                default=None,
            )
            if used >= span:
                states[target] = "breached"
            elif warn is not None and used >= span * warn:
                states[target] = "warning"
            else:
                states[target] = "ok"
        return states

    def due_steps(self, at: datetime) -> list[EscalationStep]:
        """Return the unfired steps whose threshold has passed by ``at``, earliest first."""
        at = as_utc(at)
        ready = [(when, item) for when, item in self._pending() if when <= at]
        ready.sort(key=lambda pair: pair[0])
        return [item for _, item in ready if isinstance(item, EscalationStep)]

    def due_breaches(self, at: datetime) -> list[TargetName]:
        """Return the unmet targets past their due time by ``at`` not yet reported."""
        at = as_utc(at)
        return [item for when, item in self._pending() if when <= at and isinstance(item, str)]

    def next_due(self) -> datetime | None:
        """Return the earliest instant a step or a breach needs attention; None if nothing will."""
        return min((when for when, _ in self._pending()), default=None)

    def mark_fired(self, step_key: str) -> None:
        """Record the step ``step_key`` as fired so it is not returned again."""
        if step_key not in {step.key for step in self.steps}:
            raise ValueError(f"policy {self.policy_id!r} has no escalation step {step_key!r}")
        if step_key not in self.fired:
            self.fired.append(step_key)

    def mark_breach_reported(self, target: TargetName) -> None:
        """Record the breach of ``target`` as reported so it is not returned again."""
        if target not in self.targets:
            raise ValueError(f"policy {self.policy_id!r} has no {target} target")
        if target not in self.breach_reported:
            self.breach_reported.append(target)

    def _pending(self) -> Iterator[tuple[datetime, EscalationStep | TargetName]]:
        """Yield each scheduled step and due time that still needs attention."""
        for step in self.steps:
            when = self.step_due.get(step.key)
            if when and step.key not in self.fired and step.target not in self.met_at:
                yield when, step
        for target in self.targets:
            when = self.due.get(target)
            if when and target not in self.breach_reported and target not in self.met_at:
                yield when, target

    def _count_to(self, at: datetime) -> datetime:
        """Add the business time used up to ``at`` to every running target; return ``at``."""
        # An instant before the last change (clock skew between replicas) counts as that
        # change: business time already counted cannot be taken back.
        at = max(as_utc(at), self.counted_until)
        if self.paused_since is None:
            used = self._calendar.business_time_between(self.counted_until, at)
            for target in self.targets:
                if target not in self.met_at:
                    self.consumed[target] += used
        self.counted_until = at
        return at

    def _replan(self) -> None:
        """Recompute every instant not yet passed from the consumed time; drop them if paused."""
        plans: list[tuple[dict[str, datetime], str, TargetName, timedelta]] = [
            (self.due, target, target, span) for target, span in self.targets.items()
        ]
        plans += [
            (self.step_due, step.key, step.target, self.targets[step.target] * step.fraction)
            for step in self.steps
        ]
        now = self.counted_until
        for table, key, target, threshold in plans:
            if target in self.met_at or (key in table and table[key] <= now):
                continue  # met targets and passed instants are history
            if self.paused_since is None:
                left = max(threshold - self.consumed[target], ZERO)
                table[key] = self._calendar.add_business_time(now, left)
            else:
                table.pop(key, None)
