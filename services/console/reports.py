"""Management reports in the public API and their page: a month or a quarter, as JSON or files.

``GET /api/v1/reports/{kind}/{year}/{number}`` answers JSON, or a CSV, XLSX or
committee PDF download (``?format=``; ``?lang=th|en`` for the PDF, Thai by
default for the Thai organisations). Routing computes the figures and renders
the file; the console checks the role and passes the answer on. ``/reports``
is the managers' page of tables and charts over the same API.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
import html
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import FileResponse, HTMLResponse, Response

from services.console.auth import User
from services.console.clients import ServiceClient
from shared.assets import FONTS
from shared.errors import Invalid, NotFound

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


def router(
    *,
    current_user: Callable[..., Any],
    routing: ServiceClient,
    org: str,
    page_csp: Callable[[str], str],
) -> APIRouter:
    """Return ``/api/v1/reports/{monthly|quarterly}/{year}/{number}`` and ``/reports``.

    ``org`` is the organisation this install's routing reports on: the only
    one a request may name.
    """
    api = APIRouter(tags=["reports"])
    CurrentUser = Annotated[User, Depends(current_user)]

    @api.get("/api/v1/reports/{kind}/{year}/{number}")
    async def period_report(
        user: CurrentUser,
        kind: Literal["monthly", "quarterly"],
        year: Annotated[int, Path(ge=2000, le=2200)],
        number: Annotated[int, Path(ge=1, le=12)],
        format: Annotated[Literal["json", "csv", "xlsx", "pdf"], Query()] = "json",
        lang: Annotated[Literal["th", "en"] | None, Query()] = None,
        org_: Annotated[str | None, Query(alias="org")] = None,
    ) -> Any:
        user.require(*REPORT_ROLES)
        if org_ is not None and org_ != org:
            raise Invalid(f"this install reports on {org} only", field="org")
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
            headers={
                "Content-Disposition": answer.headers.get("content-disposition", "attachment")
            },
        )

    @api.get("/reports", include_in_schema=False)
    async def page() -> Response:
        # The organisation goes into the page as data; the scripts' hashes stay the same.
        text = PAGE.read_text().replace("{{ORG}}", html.escape(org, quote=True))
        return HTMLResponse(text, headers={"Content-Security-Policy": page_csp(text)})

    @api.get("/reports/fonts/{name}", include_in_schema=False)
    async def font(name: str) -> Response:
        if name not in PAGE_FONTS:
            raise NotFound(f"no font {name}")
        return FileResponse(
            FONTS / name, media_type="font/ttf", headers={"Cache-Control": "max-age=86400"}
        )

    return api
