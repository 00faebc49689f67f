"""Management reports in the public API: a month or a quarter, as JSON or CSV."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from services.console.auth import User
from services.console.clients import ServiceClient
from services.routing.report_export import to_csv, to_xlsx

REPORT_ROLES = ("manager", "supervisor", "admin")


def router(*, current_user: Callable[..., Any], routing: ServiceClient) -> APIRouter:
    """Return ``/api/v1/reports/{monthly|quarterly}/{year}/{number}`` for managers."""
    api = APIRouter(prefix="/api/v1/reports", tags=["reports"])
    CurrentUser = Annotated[User, Depends(current_user)]

    @api.get("/{kind}/{year}/{number}")
    async def period_report(
        user: CurrentUser,
        kind: Literal["monthly", "quarterly"],
        year: Annotated[int, Path(ge=2000, le=2200)],
        number: Annotated[int, Path(ge=1, le=12)],
        format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
    ) -> Any:
        user.require(*REPORT_ROLES)
        report = await routing.call(
            "GET", f"/internal/v1/reports/{kind}/{year}/{number}", user=user
        )
        if format == "xlsx":
            name = f"vocdesk-{report['org']}-{report['period']}.xlsx"
            return Response(
                to_xlsx(report),
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        if format == "csv":
            name = f"vocdesk-{report['org']}-{report['period']}.csv"
            return Response(
                to_csv(report),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return report

    return api
