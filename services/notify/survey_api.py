"""The public survey page: ``GET /survey/{token}`` shows the form, ``POST`` records the rating.

The token is the only credential (see ``survey.py``). A rating goes to
routing's ``POST /internal/v1/cases/{id}/satisfaction``, which closes the case
or reopens it; each link takes one answer.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
import hashlib
import logging
import unicodedata
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.notify import store as notify_store
from services.notify.clients import RoutingClient
from services.notify.survey import LinkExpired, SurveySigner, SurveyTicket
from services.notify.templates import csat_labels
from shared.errors import Conflict, Forbidden, Invalid, NotFound, UpstreamUnavailable
from shared.runtime import Runtime

log = logging.getLogger(__name__)

COMMENT_LIMIT = 1000
_PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("pages")),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def router(runtime: Runtime, *, signer: SurveySigner, routing: RoutingClient) -> APIRouter:
    """Return the survey page routes."""
    api = APIRouter(tags=["survey"])

    @api.get("/survey/{token}", response_class=HTMLResponse)
    async def show(token: str) -> HTMLResponse:
        try:
            ticket = signer.verify(token)
        except Forbidden as exc:
            return _refused(exc)
        return _page("form", 200, ticket)

    @api.post("/survey/{token}", response_class=HTMLResponse)
    async def answer(
        token: str,
        score: Annotated[str, Form()] = "",
        comment: Annotated[str, Form(max_length=4 * COMMENT_LIMIT)] = "",
    ) -> HTMLResponse:
        try:
            ticket = signer.verify(token)
        except Forbidden as exc:
            return _refused(exc)
        text = unicodedata.normalize("NFC", comment).strip()[:COMMENT_LIMIT]
        if score not in {"1", "2", "3", "4", "5"}:
            error = "กรุณาเลือกคะแนน 1-5" if ticket.language == "th" else "Please choose 1 to 5."
            return _page("form", 422, ticket, error=error, comment=text)
        key = hashlib.sha256(token.encode()).hexdigest()
        now = runtime.clock.now()
        if not await notify_store.claim_survey_answer(
            runtime.store, key, case_id=ticket.case_id, at=now
        ):
            return _page("already", 409, ticket)
        try:
            await routing.record_satisfaction(
                ticket.case_id, score=int(score), comment=text or None, channel=ticket.channel
            )
        except Conflict:
            # Routing has a rating already (from another link or LINE) or the
            # case moved on; the answer stays claimed so it is not sent again.
            return _page("already", 409, ticket)
        except (NotFound, Invalid) as exc:
            await notify_store.release_survey_answer(runtime.store, key)
            log.warning("survey answer refused by routing: %s", exc, extra=_ids(ticket))
            return _page("invalid", 404 if isinstance(exc, NotFound) else 422, ticket)
        except UpstreamUnavailable as exc:
            await notify_store.release_survey_answer(runtime.store, key)
            log.warning("survey answer not recorded: %s", exc, extra=_ids(ticket))
            return _page("unavailable", 503, ticket, headers={"Retry-After": "60"})
        await notify_store.confirm_survey_answer(runtime.store, key, score=int(score), at=now)
        log.info("survey answer recorded", extra={**_ids(ticket), "score": int(score)})
        return _page("thanks", 200, ticket)

    return api


def _refused(exc: Forbidden) -> HTMLResponse:
    if isinstance(exc, LinkExpired):
        return _page("expired", 410, None, language=exc.language)
    return _page("invalid", 403, None)


def _page(
    state: str,
    status: int,
    ticket: SurveyTicket | None,
    *,
    error: str | None = None,
    comment: str = "",
    headers: dict[str, str] | None = None,
    language: str = "th",
) -> HTMLResponse:
    language = ticket.language if ticket else language
    values: dict[str, Any] = {
        "state": state,
        "language": language,
        "case_number": ticket.case_number if ticket else "",
        "labels": csat_labels(language),
        "chosen": None,
        "error": error,
        "comment": comment,
        "comment_limit": COMMENT_LIMIT,
    }
    html = _PAGES.get_template("survey.html.j2").render(values)
    # The link is the credential: keep it out of other sites' Referer logs and caches.
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", **(headers or {})},
    )


def _ids(ticket: SurveyTicket) -> dict[str, str]:
    return {"case_id": ticket.case_id, "channel": ticket.channel}
