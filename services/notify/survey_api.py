"""The public survey page: ``GET /survey/{token}`` shows the form, ``POST`` records the rating.

The token is the only credential (see ``survey.py``). A rating goes to
routing's ``POST /internal/v1/cases/{id}/satisfaction``, which closes the case
or reopens it; each link takes one answer (``ratings.py``).
"""

import unicodedata
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.notify.deps import Parts
from services.notify.ratings import record_rating
from services.notify.survey import LinkExpired, SurveyTicket
from services.notify.templates import csat_labels
from shared.errors import Forbidden

COMMENT_LIMIT = 1000
_PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("pages")),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


router = APIRouter(tags=["survey"])


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {}}}


# Every answer is the survey page, in the state that says what happened.
_REFUSED: dict[int | str, dict[str, Any]] = {
    403: _html("the link is not genuine"),
    410: _html("the link has expired"),
}
_ANSWERED: dict[int | str, dict[str, Any]] = {
    **_REFUSED,
    404: _html("routing does not know the case"),
    409: _html("this link or the case has a rating already"),
    422: {
        "description": "no score from 1 to 5 or routing refused the rating (the page);"
        " a comment far over the limit (the error as JSON)",
        "content": {"text/html": {}, "application/json": {"schema": {"type": "object"}}},
    },
    503: _html("routing did not answer; the customer may send again (Retry-After)"),
}


@router.get("/survey/{token}", response_class=HTMLResponse, responses=_REFUSED)
async def show(token: str, parts: Parts) -> HTMLResponse:
    """Show the rating form for a genuine, unexpired link."""
    try:
        ticket = parts.signer.verify(token)
    except Forbidden as exc:
        return _refused(exc)
    return _page("form", 200, ticket)


@router.post("/survey/{token}", response_class=HTMLResponse, responses=_ANSWERED)
async def answer(
    token: str,
    parts: Parts,
    score: Annotated[str, Form()] = "",
    comment: Annotated[str, Form(max_length=4 * COMMENT_LIMIT)] = "",
) -> HTMLResponse:
    """Record the customer's rating once per link and hand it to routing."""
    try:
        ticket = parts.signer.verify(token)
    except Forbidden as exc:
        return _refused(exc)
    text = unicodedata.normalize("NFC", comment).strip()[:COMMENT_LIMIT]
    if score not in {"1", "2", "3", "4", "5"}:
        error = "กรุณาเลือกคะแนน 1-5" if ticket.language == "th" else "Please choose 1 to 5."
        return _page("form", 422, ticket, error=error, comment=text)
    rated = await record_rating(
        ticket,
        token,
        score=int(score),
        comment=text or None,
        surveys=parts.surveys,
        routing=parts.routing,
        clock=parts.clock,
    )
    # Routing down: the answer was given back, and the customer may send it again.
    headers = {"Retry-After": "60"} if rated.state == "unavailable" else None
    return _page(rated.state, rated.status, ticket, headers=headers)


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
