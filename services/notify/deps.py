"""What notify's routes need, as FastAPI dependencies: the parts ``app.py`` builds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from services.notify.breaker import Breakers
from services.notify.clients import RoutingClient
from services.notify.library import TemplateLibrary
from services.notify.reachability import Reachability
from services.notify.store import DeliveryRepository, SurveyRepository, TemplateRepository
from services.notify.survey import SurveySigner
from shared.clock import Clock


@dataclass(frozen=True)
class NotifyParts:
    """The parts of a running notify its routes use."""

    deliveries: DeliveryRepository
    templates: TemplateRepository
    surveys: SurveyRepository
    clock: Clock
    library: TemplateLibrary
    reachability: Reachability
    breakers: Breakers
    signer: SurveySigner
    routing: RoutingClient


def parts(request: Request) -> NotifyParts:
    """Return the parts the composition root set on the app."""
    return cast(NotifyParts, request.app.state.parts)


Parts = Annotated[NotifyParts, Depends(parts)]
