"""The agent workspace's questions: which cases a view holds, how many, and a supervisor's overview.

Every view is one lane key (``store.lane``) derived on write, so a list is one
index range in the sort's order and a count is one index range too.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from services.routing.assignment.dispatch import Dispatcher
from services.routing.cases import store as case_store
from services.routing.cases.access import Actor
from services.routing.cases.domain import Case
from services.routing.org.config import OrgConfig
from services.routing.org.in_force import unit_in_force
from shared.errors import Forbidden
from shared.store import Store

View = Literal["all", "mine", "unassigned", "unit", "at_risk", "breached"]
Sort = Literal[
    "-created_at", "created_at", "-updated_at", "updated_at", "due", "-urgency", "number"
]
VIEWS: tuple[View, ...] = get_args(View)
SORTS = case_store.LIST_SORTS
OVERVIEW_ROLES = frozenset({"supervisor", "admin"})
OVERVIEW_LIMIT = 100


def scope_of(actor: Actor, unit: str | None) -> str | None:
    """Return the unit the actor's lists are limited to: their own if unit-bound, else ``unit``."""
    return actor.unit if actor.unit_bound else unit


def view_lane(view: View, actor: Actor, unit: str | None) -> str | None:
    """Return the lane ``view`` reads for ``actor``; None if it holds nothing (no unit to show)."""
    scope = scope_of(actor, unit)
    if view == "unit":
        scope = scope or actor.unit
        return case_store.lane("unit", scope) if scope else None
    return case_store.lane(view, scope, actor.user if view == "mine" else None)


async def counts(store: Store, actor: Actor, unit: str | None) -> dict[str, int]:
    """Return how many cases each view holds for ``actor`` (``unit``: 0 without a unit)."""
    lanes = {view: view_lane(view, actor, unit) for view in VIEWS}
    wanted = [key for key in lanes.values() if key is not None]
    found = dict(zip(wanted, await case_store.count_lanes(store, wanted), strict=True))
    return {view: found[key] if key is not None else 0 for view, key in lanes.items()}


async def overview(
    store: Store, actor: Actor, *, org: OrgConfig, dispatcher: Dispatcher
) -> dict[str, Any]:
    """Return each unit's queue and people, and the cases needing attention, most urgent first."""
    if actor.role not in OVERVIEW_ROLES:
        raise Forbidden(f"role {actor.role} does not see the supervisor overview")
    # A supervisor acting for a unit oversees that unit only; an admin or a
    # supervisor without a unit oversees them all.
    scope = actor.unit if actor.role == "supervisor" and actor.unit else None
    in_force = [unit_in_force(org, u.id) or u for u in org.units]  # an admin's members
    units = [u for u in in_force if scope is None or u.id == scope]
    figures = ("unit", "unassigned", "at_risk", "breached")
    rows = []
    for unit in units:
        open_, unassigned, at_risk, breached = await case_store.count_lanes(
            store, [case_store.lane(view, unit.id) for view in figures]
        )
        users = [m.user for m in unit.members]
        loads = await case_store.member_loads(store, unit.id, users)
        offline = await dispatcher.offline(unit.id)
        members = [{"user": u, "online": u not in offline, "open": loads[u]} for u in users]
        rows.append(
            {
                "unit": unit.id,
                "name": unit.name,
                "open": open_,
                "unassigned": unassigned,
                "at_risk": at_risk,
                "breached": breached,
                "members": members,
            }
        )

    async def most_urgent(view: str) -> list[Case]:
        cases, _ = await case_store.list_cases(
            store,
            filters={"lanes": case_store.lane(view, scope)},
            sort="-urgency",
            skip=0,
            limit=OVERVIEW_LIMIT,
        )
        return cases

    return {
        "units": rows,
        "at_risk": await most_urgent("at_risk"),
        "breached": await most_urgent("breached"),
        "pending_closures": await most_urgent("pending_closure"),
    }


def last_escalation(case: Case) -> str | None:
    """Return the key of the last escalation step fired on the case's SLA, if any."""
    fired = case.sla.get("fired") or []
    return str(fired[-1]) if fired else None
