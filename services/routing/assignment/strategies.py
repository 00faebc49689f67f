"""Who in a unit gets a case: pull, round robin or least loaded, within capacity. No I/O."""

from __future__ import annotations

from collections.abc import Mapping, Set

from services.routing.org.config import Member, Unit


def available(unit: Unit, *, loads: Mapping[str, int], offline: Set[str]) -> list[Member]:
    """Return the members who are online and below their capacity, in the unit's order."""
    return [
        member
        for member in unit.members
        if member.user not in offline and loads.get(member.user, 0) < unit.capacity_of(member)
    ]


def pick_member(
    unit: Unit, *, loads: Mapping[str, int], offline: Set[str], ticket: int = 0
) -> str | None:
    """Return who should get the next case, or None to leave it in the unit's queue.

    ``pull`` units never push: members take the oldest case themselves.
    ``least_loaded`` picks the member holding the fewest open cases (the unit's
    order breaks ties). ``round_robin`` starts at the ``ticket``-th member and
    skips anyone offline or full.
    """
    if unit.assignment == "pull":
        return None
    free = available(unit, loads=loads, offline=offline)
    if not free:
        return None
    if unit.assignment == "least_loaded":
        order = {m.user: i for i, m in enumerate(unit.members)}
        return min(free, key=lambda m: (loads.get(m.user, 0), order[m.user])).user
    members = list(unit.members)
    start = ticket % len(members)
    free_users = {m.user for m in free}
    for member in members[start:] + members[:start]:
        if member.user in free_users:
            return member.user
    return None  # unreachable: free is not empty


def has_room(unit: Unit, user: str, *, loads: Mapping[str, int]) -> bool:
    """Say whether ``user`` may take one more case."""
    member = unit.member(user)
    return member is not None and loads.get(user, 0) < unit.capacity_of(member)
