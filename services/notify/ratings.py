"""A customer's rating through a survey link: claimed once, handed to routing, or given back.

Routing's ``POST /internal/v1/cases/{id}/satisfaction`` closes the case or
reopens it. The answer is claimed before routing is asked, so two answers
through one link never both reach it; an answer routing did not take
(unknown case, refused, routing down) is given back so the customer can
send it again, while one routing turned down as already rated stays taken.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Literal, Protocol

from services.notify.store import SurveyRepository
from services.notify.survey import SurveyTicket
from shared.clock import Clock
from shared.errors import Conflict, Invalid, NotFound, UpstreamUnavailable

log = logging.getLogger(__name__)


class Satisfaction(Protocol):
    """Routing's door for a customer's rating."""

    async def record_satisfaction(
        self, case_id: str, *, score: int, comment: str | None, channel: str
    ) -> None:
        """Record the rating; raise NotFound, Conflict, Invalid or UpstreamUnavailable."""
        ...


@dataclass(frozen=True)
class Rated:
    """How an answer through a survey link ended: the page's state and status."""

    state: Literal["thanks", "already", "invalid", "unavailable"]
    status: int


def answer_key(token: str) -> str:
    """Return the key that answers through the survey link ``token`` are claimed under."""
    return hashlib.sha256(token.encode()).hexdigest()


async def record_rating(
    ticket: SurveyTicket,
    token: str,
    *,
    score: int,
    comment: str | None,
    surveys: SurveyRepository,
    routing: Satisfaction,
    clock: Clock,
) -> Rated:
    """Record the rating through ``token`` once, with routing; say how it ended."""
    key = answer_key(token)
    now = clock.now()
    if not await surveys.claim_answer(key, case_id=ticket.case_id, at=now):
        return Rated("already", 409)
    try:
        await routing.record_satisfaction(
            ticket.case_id, score=score, comment=comment, channel=ticket.channel
        )
    except Conflict:
        # Routing has a rating already (from another link or LINE) or the
        # case moved on; the answer stays claimed so it is not sent again.
        return Rated("already", 409)
    except (NotFound, Invalid) as exc:
        await surveys.release_answer(key)
        log.warning("survey answer refused by routing: %s", exc, extra=_ids(ticket))
        return Rated("invalid", 404 if isinstance(exc, NotFound) else 422)
    except UpstreamUnavailable as exc:
        await surveys.release_answer(key)
        log.warning("survey answer not recorded: %s", exc, extra=_ids(ticket))
        return Rated("unavailable", 503)
    await surveys.confirm_answer(key, score=score, at=now)
    log.info("survey answer recorded", extra={**_ids(ticket), "score": score})
    return Rated("thanks", 200)


def _ids(ticket: SurveyTicket) -> dict[str, str]:
    return {"case_id": ticket.case_id, "channel": ticket.channel}
