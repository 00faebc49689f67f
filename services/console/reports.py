"""Management reports in the public API and their page: a month or a quarter, as JSON or files.

``GET /api/v1/reports/{kind}/{year}/{number}`` answers JSON, or a CSV, XLSX or
committee PDF download (``?format=``; ``?lang=th|en`` for the PDF, by default
the organisation's ``language``, Thai unless its file says otherwise). Routing
computes the figures and renders the file; the console checks the role and
passes the answer on. ``/reports`` is the managers' page of tables and charts
over the same API.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
import html
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse, HTMLResponse, Response

from services.console.deps import CurrentUser, Parts, Routing
from services.console.pages import page_csp
from shared.api_models.reports import PeriodReportRead
from shared.assets import FONTS
from shared.errors import Invalid, NotFound
from shared.org_files import org_language

REPORT_ROLES = ("manager", "supervisor", "admin")
PAGE = FilePath(__file__).parent / "static" / "reports.html"
# The page shows Thai in the fonts the PDF embeds, whatever the reader's machine has.
PAGE_FONTS = (
    "NotoSansThai-Regular.ttf",
    "NotoSansThai-Bold.ttf",
    "NotoSans-Regular.ttf",
    "NotoSans-Bold.ttf",
)
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


router = APIRouter(tags=["reports"])
FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the report as JSON, or (``format``) as a CSV, XLSX or PDF download",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA.values()
        },
    }
}


@router.get(
    "/api/v1/reports/{kind}/{year}/{number}",
    response_model=PeriodReportRead,
    response_model_exclude_unset=True,
    responses=FILES,
)
async def period_report(
    user: CurrentUser,
    parts: Parts,
    routing: Routing,
    kind: Literal["monthly", "quarterly"],
    year: Annotated[int, Path(ge=2000, le=2200)],
    number: Annotated[int, Path(ge=1, le=12)],
    format: Annotated[Literal["json", "csv", "xlsx", "pdf"], Query()] = "json",
    lang: Annotated[Literal["th", "en"] | None, Query()] = None,
    org_: Annotated[str | None, Query(alias="org")] = None,
) -> Any:
    """Return a month's or a quarter's report, as JSON or a file.

    ``org`` may only name the organisation this install's routing reports on.
    """
    user.require(*REPORT_ROLES)
    if org_ is not None and org_ != parts.org:
        raise Invalid(f"this install reports on {parts.org} only", field="org")
    if kind == "quarterly" and number > 4:
        raise Invalid("quarter must be 1-4", field="number")
    path = f"/internal/v1/reports/{kind}/{year}/{number}"
    if format == "json":
        return await routing.call("GET", path, user=user)
    # Routing renders the file; the console passes it on as it came.
    params = {"format": format, **({"lang": lang} if lang else {})}
    answer = await routing.fetch("GET", path, user=user, params=params)
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", MEDIA[format]),
        headers={"Content-Disposition": answer.headers.get("content-disposition", "attachment")},
    )


@router.get("/reports", include_in_schema=False)
async def page(parts: Parts) -> Response:
    """Serve the managers' report page."""
    # The organisation goes into the page as data; the scripts' hashes stay the same.
    text = (
        PAGE.read_text()
        .replace("{{ORG}}", html.escape(parts.org, quote=True))
        .replace("{{ORG_LANG}}", org_language(parts.org))
    )
    return HTMLResponse(text, headers={"Content-Security-Policy": page_csp(text)})


@router.get("/reports/fonts/{name}", include_in_schema=False)
async def font(name: str) -> Response:
    """Serve a font the report page shows Thai in."""
    if name not in PAGE_FONTS:
        raise NotFound(f"no font {name}")
    return FileResponse(
        FONTS / name, media_type="font/ttf", headers={"Cache-Control": "max-age=86400"}
    )
