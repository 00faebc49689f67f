"""The units and SLA policies in force: the file's, less what an admin overrode. No I/O.

``OrgConfig`` is frozen and read by many parts that are handed only the
organisation, so what an admin changed at run time is kept beside it, one
``InForce`` per organisation object: ``admin/state.py`` puts it there, dispatch
and the SLA keeper read it. Ad-hoc holidays need no such place: they live on
the organisation's business calendars themselves.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.routing.org.config import OrgConfig, Unit
from services.routing.sla.policies import SlaPolicy


@dataclass(frozen=True)
class InForce:
    """What overrides the file: whole units (members, capacity) and SLA policies, by id."""

    units: Mapping[str, Unit] = field(default_factory=dict)
    policies: Mapping[str, SlaPolicy] = field(default_factory=dict)


NOTHING = InForce()
# Keyed by the organisation object's id; an entry goes when its organisation does.
_BY_ORG: dict[int, InForce] = {}


def in_force(org: OrgConfig) -> InForce:
    """Return the overrides in force for ``org`` (none until some are put)."""
    return _BY_ORG.get(id(org), NOTHING)


def put_in_force(org: OrgConfig, overrides: InForce) -> None:
    """Put ``overrides`` in force for ``org``, replacing the previous ones whole."""
    if id(org) not in _BY_ORG:
        weakref.finalize(org, _BY_ORG.pop, id(org), None)
    _BY_ORG[id(org)] = overrides


def unit_in_force(org: OrgConfig, unit_id: str | None) -> Unit | None:
    """Return unit ``unit_id`` as it stands: an admin's members and capacity, else the file's."""
    if unit_id is None:
        return None
    return in_force(org).units.get(unit_id) or org.unit(unit_id)


def policies_in_force(org: OrgConfig) -> tuple[SlaPolicy, ...]:
    """Return the SLA policies in force, in order: the file's (overridden in place), then new ones.

    The order matters: among equally specific policies the first listed wins.
    """
    overrides = in_force(org).policies
    if not overrides:
        return org.sla_policies
    from_file = {p.id for p in org.sla_policies}
    kept = tuple(overrides.get(p.id, p) for p in org.sla_policies)
    return kept + tuple(p for i, p in overrides.items() if i not in from_file)
