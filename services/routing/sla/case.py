"""A case's SLA: which policy, which calendar, and what the clock does as the case moves. No I/O.

The clock itself (``policies.py``) is kept in ``case.sla`` as its document; the
earliest instant it needs attention is copied to ``case.sla_next_due``, the
one indexed field the SLA watcher queries. Policies are those in force (an
admin's overrides, else the file's): a clock keeps the targets it started
with, so a changed policy applies to clocks started afterwards.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.routing.cases.domain import Case
from services.routing.org.config import UNIT_CALENDAR, OrgConfig
from services.routing.org.in_force import policies_in_force
from services.routing.sla.calendar import BusinessCalendar
from services.routing.sla.policies import (
    EscalationStep,
    SlaClock,
    SlaPolicy,
    TargetName,
    select_policy,
)
from shared.messages.cases import CaseEventType

# What each escalation action emits: a reminder warns, everything above it escalates.
STEP_EVENTS: dict[str, CaseEventType] = {
    "remind_assignee": "case.sla.warning",
    "supervisor": "case.escalated",
    "escalation_unit": "case.escalated",
    "executive": "case.escalated",
}


class SlaKeeper:
    """Start, pause, resume, transfer and escalate cases' SLA clocks per the organisation."""

    def __init__(self, org: OrgConfig) -> None:
        self._org = org

    def policy_for(self, case: Case) -> SlaPolicy | None:
        """Return the policy that matches the case most specifically."""
        return select_policy(
            policies_in_force(self._org),
            category=case.category,
            topic=case.topic,
            urgency=case.urgency,
            tier=case.tier,
        )

    def clock(self, case: Case) -> SlaClock | None:
        """Return the case's clock, or None if no policy applies."""
        if not case.sla:
            return None
        return SlaClock.from_doc(case.sla, calendars=self._org.business_calendars)

    def start(self, case: Case, at: datetime) -> None:
        """Start the clock of the policy matching the case (none if no policy matches)."""
        policy = self.policy_for(case)
        if policy is None:
            self._keep(case, None)
            return
        self._keep(case, SlaClock.start(policy, self._calendar(policy, case.unit), at))

    def pause(self, case: Case, at: datetime) -> None:
        """Stop the clock while the case waits for the customer."""
        clock = self.clock(case)
        if clock is not None and clock.paused_since is None:
            clock.pause(at)
            self._keep(case, clock)

    def resume(self, case: Case, at: datetime) -> None:
        """Run the clock again once the customer answers or work resumes."""
        clock = self.clock(case)
        if clock is not None and clock.paused_since is not None:
            clock.resume(at)
            self._keep(case, clock)

    def met(self, case: Case, target: TargetName, at: datetime) -> None:
        """Record ``target`` as met (repeats are ignored)."""
        clock = self.clock(case)
        if clock is not None:
            clock.met(target, at)
            self._keep(case, clock)

    def transfer(self, case: Case, at: datetime) -> None:
        """Carry the used time over to the new unit, counting on its calendar if the policy says."""
        clock = self.clock(case)
        if clock is None:
            return
        policy = self._policy(clock.policy_id)
        if policy is not None and policy.calendar == UNIT_CALENDAR:
            clock.transfer(self._calendar(policy, case.unit), at)
            self._keep(case, clock)

    def reselect(self, case: Case, at: datetime) -> None:
        """Apply a different policy after a reclassification, as if it had applied from the start.

        Met targets, fired steps and reported breaches carry over; pauses before the
        change are not replayed, so the new policy counts them (the stricter reading).
        """
        old = self.clock(case)
        policy = self.policy_for(case)
        if old is None or policy is None:
            if old is None:
                self.start(case, at)
            return
        if policy.id == old.policy_id:
            return
        clock = SlaClock.start(policy, self._calendar(policy, case.unit), old.started_at)
        for target, when in sorted(old.met_at.items(), key=lambda item: item[1]):
            clock.met(target, when)
        keys = {step.key for step in clock.steps}
        for key in old.fired:
            if key in keys:
                clock.mark_fired(key)
        for target in old.breach_reported:
            if target in clock.targets:
                clock.mark_breach_reported(target)
        if old.paused_since is not None:
            clock.pause(old.paused_since)
        case.sla_history.append({**old.to_doc(), "ended_at": at.isoformat(), "why": "reclassified"})
        self._keep(case, clock)

    def restart(self, case: Case, at: datetime, *, why: str) -> None:
        """Start a fresh clock on reopen; the unit already knows the case, so no acknowledgement."""
        old = self.clock(case)
        if old is not None:
            case.sla_history.append({**old.to_doc(), "ended_at": at.isoformat(), "why": why})
        self.start(case, at)
        self.met(case, "unit_ack", at)

    def fire_due(self, case: Case, at: datetime) -> list[tuple[CaseEventType, dict[str, Any]]]:
        """Mark every step and breach due by ``at`` as done; return the events they call for."""
        clock = self.clock(case)
        if clock is None:
            self._keep(case, None)
            return []
        events: list[tuple[CaseEventType, dict[str, Any]]] = []
        for step in clock.due_steps(at):
            events.append((STEP_EVENTS[step.action], self._step_detail(case, clock, step)))
            clock.mark_fired(step.key)
        for target in clock.due_breaches(at):
            due = clock.due[target]
            events.append(
                (
                    "case.sla.breached",
                    {"target": target, "due_at": due.isoformat(), "unit": case.unit},
                )
            )
            clock.mark_breach_reported(target)
        self._keep(case, clock)
        return events

    def view(self, case: Case, at: datetime) -> dict[str, Any]:
        """Return the SLA as the API shows it: policy, due times, state per target."""
        clock = self.clock(case)
        if clock is None:
            return {"policy": None, "due": {}, "state": {}, "paused": False, "next_due": None}
        return {
            "policy": clock.policy_id,
            "calendar": clock.calendar_id,
            "targets": {t: span.total_seconds() for t, span in clock.targets.items()},
            "due": {t: when.isoformat() for t, when in clock.due.items()},
            "met": {t: when.isoformat() for t, when in clock.met_at.items()},
            "state": clock.state(at),
            "paused": clock.paused_since is not None,
            "next_due": case.sla_next_due.isoformat() if case.sla_next_due else None,
            "fired": list(clock.fired),
            "breached": list(clock.breach_reported),
        }

    def _step_detail(self, case: Case, clock: SlaClock, step: EscalationStep) -> dict[str, Any]:
        unit = self._org.unit(case.unit)
        to: dict[str, str | None]
        if step.action == "remind_assignee":
            to = {"user": case.assignee, "unit": case.unit}
        elif step.action == "supervisor":
            to = {"user": unit.supervisor if unit else None}
        elif step.action == "escalation_unit":
            to = {"unit": (unit.escalation_unit if unit else None) or self._org.escalation_unit}
        else:
            to = {"user": self._org.executive}
        return {
            "step": step.key,
            "action": step.action,
            "target": step.target,
            "fraction": step.fraction,
            "due_at": clock.step_due[step.key].isoformat(),
            "to": to,
        }

    def _policy(self, policy_id: str) -> SlaPolicy | None:
        return next((p for p in policies_in_force(self._org) if p.id == policy_id), None)

    def _calendar(self, policy: SlaPolicy, unit_id: str | None) -> BusinessCalendar:
        calendars = self._org.business_calendars
        if policy.calendar != UNIT_CALENDAR:
            return calendars[policy.calendar]
        unit = self._org.unit(unit_id) or self._org.unit(self._org.fallback_unit)
        assert unit is not None, "the fallback unit exists (checked on load)"
        return calendars[unit.calendar]

    @staticmethod
    def _keep(case: Case, clock: SlaClock | None) -> None:
        case.sla = clock.to_doc() if clock is not None else {}
        case.sla_next_due = clock.next_due() if clock is not None else None
