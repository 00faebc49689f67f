"""What routing's routes are given: the service's parts, built once by ``app.py``, and who acts.

``create_app`` builds a ``RoutingParts`` and sets it as ``app.state.parts``;
a route asks for it with the ``Parts`` dependency instead of closing over it,
and for the acting user with ``Acting`` (the case routes) or ``Admin`` (the
administration), both read from the service call's acting assertion (``Caller``).
"""

# Annotations stay evaluated (no postponed annotations): FastAPI resolves the
# dependencies' signatures when it builds the routes.
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Request

from services.routing.admin.state import AdminState
from services.routing.assignment.dispatch import Dispatcher
from services.routing.assignment.rules_in_force import RuleBook
from services.routing.cases.access import Actor, Can
from services.routing.cases.commands import CaseCommands
from services.routing.cases.domain import Case
from services.routing.cases.views import case_view
from services.routing.cases.workspace_commands import WorkspaceCommands
from services.routing.classification.taxonomy import Taxonomy
from services.routing.org.config import OrgConfig
from shared.clock import Clock
from shared.http import Caller
from shared.store import Store


@dataclass(frozen=True)
class RoutingParts:
    """Routing's parts its routes use, built once by the composition root (``app.create_app``)."""

    store: Store
    clock: Clock
    org: OrgConfig
    taxonomy: Taxonomy
    commands: CaseCommands
    actions: WorkspaceCommands
    dispatcher: Dispatcher
    rulebook: RuleBook
    admin: AdminState

    def show(self, case: Case, *, history: bool = True) -> dict[str, Any]:
        """Return ``case`` as the API shows it now; ``history`` adds the timeline."""
        return case_view(case, sla=self.commands.sla, now=self.clock.now(), history=history)


def parts(request: Request) -> RoutingParts:
    """Return the parts ``create_app`` set on the app."""
    return cast(RoutingParts, request.app.state.parts)


def acting(who: Caller) -> Actor:
    """Return who acts on a case route: the user, role and unit the caller vouched for."""
    return Actor(user=who.user, role=who.role, unit=who.unit)


def admin(who: Caller) -> Actor:
    """Return the admin acting on an administration route; refuse any other role."""
    actor = Actor(user=who.user, role=who.role)
    actor.require(Can.ADMIN)
    return actor


Parts = Annotated[RoutingParts, Depends(parts)]
Acting = Annotated[Actor, Depends(acting)]
Admin = Annotated[Actor, Depends(admin)]
