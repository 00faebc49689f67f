"""Routing changed at run time: ad-hoc holidays, unit members, SLA policies, for every replica.

An admin's change is one document of ``OVERRIDES`` (``store.py``) keyed by what it changes,
so every replica and a restart see it. Replicas re-read them every few seconds
(as the rule book re-reads its rules) and put them in force: ad-hoc holidays on
the organisation's business calendars, units and policies through ``org/in_force.py``.
Every change is also written to the administration log. A saved override that
no longer fits the organisation file (a unit or calendar gone, a policy naming
an unknown topic) is ignored with an error in the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from services.routing.admin import log as admin_log
from services.routing.admin import store as admin_store
from services.routing.admin.inputs import HolidayIn, MembersIn, parse, parse_date, parse_policy
from services.routing.classification.taxonomy import Taxonomy
from services.routing.org.config import Member, OrgConfig, Unit
from services.routing.org.in_force import (
    InForce,
    in_force,
    policies_in_force,
    put_in_force,
    unit_in_force,
)
from services.routing.sla.calendar import BusinessCalendar
from services.routing.sla.policies import SlaPolicy
from shared.clock import BANGKOK
from shared.errors import DomainError, Invalid, NotFound
from shared.store import Store

log = logging.getLogger(__name__)
# How far ahead a holiday may be added; a later day is more likely a typing slip.
HOLIDAY_HORIZON = timedelta(days=730)


class AdminState:
    """Validate, store, audit and put in force what admins change in routing."""

    def __init__(self, store: Store, *, org: OrgConfig, taxonomy: Taxonomy) -> None:
        self._store = store
        self._org = org
        self._taxonomy = taxonomy
        self._holidays: dict[str, dict[date, dict[str, Any]]] = {}
        self._ignored: set[tuple[str, datetime]] = set()
        # One refresh at a time: a background one that read before a change
        # must not put its older view in force after the change's own refresh.
        self._refreshing = asyncio.Lock()

    async def refresh(self) -> None:
        """Read every saved override and put them in force here, replacing the previous ones."""
        async with self._refreshing:
            await self._refresh()

    async def _refresh(self) -> None:
        holidays: dict[str, dict[date, dict[str, Any]]] = {}
        units: dict[str, Unit] = {}
        policies: dict[str, SlaPolicy] = {}
        async for doc in admin_store.overrides(self._store):
            try:
                if doc["kind"] == "calendar":
                    day = date.fromisoformat(doc["date"])
                    self._closable(doc["target"])
                    holidays.setdefault(doc["target"], {})[day] = _holiday_view(doc)
                elif doc["kind"] == "units":
                    saved = {"members": doc["members"], "capacity": doc.get("capacity")}
                    units[doc["target"]] = self._overridden(doc["target"], parse(MembersIn, saved))
                elif doc["kind"] == "sla_policy":
                    policy = parse_policy(doc["target"], doc["policy"])
                    policies[doc["target"]] = self._fitting(policy)
            except (DomainError, KeyError, ValueError, ValidationError) as exc:
                self._ignore(doc, exc)
        for calendar in self._org.business_calendars.values():
            wanted = holidays.get(calendar.id, {}).keys()
            for day in calendar.adhoc_holidays - wanted:
                calendar.remove_holiday(day)
            for day in wanted - calendar.adhoc_holidays:
                calendar.add_holiday(day)
        self._holidays = holidays
        put_in_force(self._org, InForce(units=units, policies=policies))

    def calendars(self) -> list[dict[str, Any]]:
        """Return every calendar with its file holidays and ad-hoc ones."""
        return [self._calendar_view(c.id) for c in self._org.calendars]

    async def add_holiday(
        self, calendar_id: str, day_text: str, body: object, *, by: str, at: datetime
    ) -> dict[str, Any]:
        """Close ``calendar_id`` on a day from today on (Asia/Bangkok); renaming one is allowed."""
        calendar = self._closable(calendar_id)
        day = parse_date(day_text)
        today = at.astimezone(BANGKOK).date()
        if day < today:
            raise Invalid(f"{day} is before today ({today})", field="date")
        if day > today + HOLIDAY_HORIZON:
            raise Invalid(f"{day} is more than {HOLIDAY_HORIZON.days} days ahead", field="date")
        if calendar.is_holiday(day) and day not in calendar.adhoc_holidays:
            raise Invalid(f"{calendar_id} is already closed on {day}", field="date")
        name = parse(HolidayIn, body).name
        await admin_store.save_holiday(
            self._store, calendar_id=calendar_id, day=day, name=name, by=by, at=at
        )
        detail = {"date": str(day), "name": name}
        await self._log("calendar", calendar_id, "put", detail, by=by, at=at)
        return self._calendar_view(calendar_id)

    async def remove_holiday(
        self, calendar_id: str, day_text: str, *, by: str, at: datetime
    ) -> dict[str, Any]:
        """Open ``calendar_id`` again on an ad-hoc holiday; 404 if there is none that day."""
        self._calendar(calendar_id)
        day = parse_date(day_text)
        doc = await admin_store.take_holiday(self._store, calendar_id=calendar_id, day=day)
        if doc is None:
            raise NotFound(f"{calendar_id} has no ad-hoc holiday on {day}")
        detail = {"date": str(day), "name": doc.get("name")}
        await self._log("calendar", calendar_id, "delete", detail, by=by, at=at)
        return self._calendar_view(calendar_id)

    def units(self) -> list[dict[str, Any]]:
        """Return every unit with the members in force."""
        return [self._unit_view(u.id) for u in self._org.units]

    async def set_members(
        self, unit_id: str, body: object, *, by: str, at: datetime
    ) -> dict[str, Any]:
        """Put a unit's members (and optionally its capacity) in force instead of the file's."""
        before = self._unit_view(unit_id)
        members = parse(MembersIn, body)
        self._overridden(unit_id, members)
        saved = members.model_dump(mode="json")
        await admin_store.save_members(self._store, unit_id=unit_id, saved=saved, by=by, at=at)
        detail = {**saved, "before": _members_of(before)}
        await self._log("units", unit_id, "put", detail, by=by, at=at)
        return self._unit_view(unit_id)

    async def revert_members(self, unit_id: str, *, by: str, at: datetime) -> dict[str, Any]:
        """Drop a unit's override; the file's members and capacity are in force again."""
        before = self._unit_view(unit_id)
        if await admin_store.drop_members(self._store, unit_id=unit_id):
            detail = {"before": _members_of(before)}
            await self._log("units", unit_id, "revert", detail, by=by, at=at)
        return self._unit_view(unit_id)

    def policies(self) -> dict[str, Any]:
        """Return the SLA policies in force, the calendars, and which policies are overridden."""
        return {
            "policies": [p.model_dump(mode="json") for p in policies_in_force(self._org)],
            "calendars": [c.model_dump(mode="json") for c in self._org.calendars],
            "overridden": sorted(in_force(self._org).policies),
        }

    async def set_policy(
        self, policy_id: str, body: object, *, by: str, at: datetime
    ) -> dict[str, Any]:
        """Put a validated policy in force for clocks started from now on (a new id adds one)."""
        policy = self._fitting(parse_policy(policy_id, body))
        before = self._policy(policy_id)
        saved = policy.model_dump(mode="json")
        await admin_store.save_policy(self._store, policy_id=policy_id, saved=saved, by=by, at=at)
        detail = {"policy": saved, "before": before.model_dump(mode="json") if before else None}
        await self._log("sla_policy", policy_id, "put", detail, by=by, at=at)
        return self.policies()

    async def revert_policy(self, policy_id: str, *, by: str, at: datetime) -> dict[str, Any]:
        """Drop a policy's override: the file's is in force again (an added one is gone)."""
        before = self._policy(policy_id)
        if before is None:
            raise NotFound(f"no SLA policy {policy_id[:80]!r}")
        if await admin_store.drop_policy(self._store, policy_id=policy_id):
            in_file = any(p.id == policy_id for p in self._org.sla_policies)
            detail = {"before": before.model_dump(mode="json")}
            action: admin_log.Action = "revert" if in_file else "delete"
            await self._log("sla_policy", policy_id, action, detail, by=by, at=at)
        return self.policies()

    async def _log(
        self,
        kind: admin_log.Kind,
        target: str,
        action: admin_log.Action,
        detail: dict[str, Any],
        *,
        by: str,
        at: datetime,
    ) -> None:
        """Record a stored change, then put it in force here at once."""
        await admin_log.record(
            self._store, kind=kind, target=target, action=action, detail=detail, by=by, at=at
        )
        await self.refresh()

    def _calendar(self, calendar_id: str) -> BusinessCalendar:
        calendar = self._org.business_calendars.get(calendar_id)
        if calendar is None:
            raise NotFound(f"no calendar {calendar_id[:80]!r}")
        return calendar

    def _closable(self, calendar_id: str) -> BusinessCalendar:
        calendar = self._calendar(calendar_id)
        if calendar.spec.kind == "24x7":
            raise Invalid(f"calendar {calendar_id} is 24x7 and never closes", field="calendar_id")
        return calendar

    def _overridden(self, unit_id: str, members: MembersIn) -> Unit:
        unit = self._org.unit(unit_id)
        if unit is None:
            raise NotFound(f"no unit {unit_id[:80]!r}")
        return unit.model_copy(
            update={
                "members": tuple(Member(user=m.user, capacity=m.capacity) for m in members.members),
                "capacity": members.capacity or unit.capacity,
            }
        )

    def _fitting(self, policy: SlaPolicy) -> SlaPolicy:
        """Return ``policy`` if its calendar, topic, category, urgency and tier exist here."""
        alone = self._org.model_copy(update={"sla_policies": (policy,)})
        problems = [
            (path[2:], reason)
            for path, reason in alone.problems(self._taxonomy)
            if path[:1] == ("sla_policies",)
        ]
        if problems:
            field = ".".join(str(p) for p in problems[0][0]) or "body"
            reason = "; ".join(f"{'.'.join(map(str, p))}: {r}" for p, r in problems)
            raise Invalid(reason, field=field)
        return policy

    def _policy(self, policy_id: str) -> SlaPolicy | None:
        return next((p for p in policies_in_force(self._org) if p.id == policy_id), None)

    def _calendar_view(self, calendar_id: str) -> dict[str, Any]:
        spec = self._calendar(calendar_id).spec
        adhoc = self._holidays.get(calendar_id, {})
        return {**spec.model_dump(mode="json"), "adhoc": [adhoc[d] for d in sorted(adhoc)]}

    def _unit_view(self, unit_id: str) -> dict[str, Any]:
        unit = unit_in_force(self._org, unit_id)
        if unit is None:
            raise NotFound(f"no unit {unit_id[:80]!r}")
        return {
            **unit.model_dump(
                mode="json", include={"id", "name", "kind", "assignment", "capacity", "supervisor"}
            ),
            "members": [{"user": m.user, "capacity": m.capacity} for m in unit.members],
            "overridden": unit_id in in_force(self._org).units,
        }

    def _ignore(self, doc: Mapping[str, Any], exc: Exception) -> None:
        # Every replica re-reads every few seconds: say it once per saved version.
        key = (str(doc.get("_id")), doc.get("at") or datetime.min)
        if key not in self._ignored:
            self._ignored.add(key)
            log.error("saved routing override %s does not fit the organisation: %s", key[0], exc)


def _holiday_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"date": doc["date"], "name": doc["name"], "by": doc["by"], "at": doc["at"].isoformat()}


def _members_of(unit: Mapping[str, Any]) -> dict[str, Any]:
    return {"members": unit["members"], "capacity": unit["capacity"]}
