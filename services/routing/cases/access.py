"""Who may do what to a case. The console checked the user's role; routing checks it again.

A unit member acts only on their own unit's cases (the acting assertion's unit); other
units' cases are invisible to them (404, not 403, so ids do not leak
existence). Calls with the service token and no acting role are ``system``.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.routing.cases.domain import Case
from shared.case_access import ROLES, Can
from shared.errors import Forbidden, NotFound

__all__ = ["ROLES", "Actor", "Can"]


@dataclass(frozen=True)
class Actor:
    """Who is acting: the user, their role and (for unit members) their unit."""

    user: str
    role: str
    unit: str | None = None

    @property
    def unit_bound(self) -> bool:
        """Say whether the actor sees only their own unit's cases."""
        return self.role == "unit_member"

    def require(self, permission: Can) -> None:
        """Raise ``Forbidden`` unless the actor's role grants ``permission``."""
        if self.role not in ROLES[permission]:
            raise Forbidden(f"role {self.role} may not {permission.value}")
        if self.unit_bound and not self.unit:
            raise Forbidden("a unit member must act for a unit (the acting assertion's unit)")

    def check(self, case: Case, permission: Can) -> None:
        """Raise unless the actor may ``permission`` on ``case``."""
        if self.unit_bound and self.unit and case.unit != self.unit:
            raise NotFound(f"no case {case.number}")
        self.require(permission)

    def may_act_on(self, case: Case) -> bool:
        """Say whether the actor may work ``case`` (a unit member: only their unit's)."""
        if self.role not in ROLES[Can.WORK]:
            return False
        return not self.unit_bound or (self.unit is not None and case.unit == self.unit)
