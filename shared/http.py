"""HTTP plumbing every service shares: the one error-to-status mapping and health routes."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, PyMongoError

from shared.errors import (
    BusUnavailable,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    StoreUnavailable,
    Unauthorized,
    Unroutable,
    UpstreamUnavailable,
    VocdeskError,
)
from shared.ids import new_id
from shared.logging import correlation_scope, current_correlation_id
from shared.metrics import install_metrics
from shared.tracing import HEADER as TRACEPARENT
from shared.tracing import TraceContext, trace_id_for, trace_scope
from shared.tracing import parse as parse_traceparent

_STATUS: list[tuple[type[VocdeskError], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (Invalid, 422),
    (Unauthorized, 401),
    (Forbidden, 403),
    (PayloadTooLarge, 413),
    (RateLimited, 429),
    (BusUnavailable, 503),
    (Unroutable, 503),
    (StoreUnavailable, 503),
    (UpstreamUnavailable, 503),
    (DomainError, 400),
]

# How long a client should wait before retrying after the broker or store failed.
RETRY_AFTER_S = 5


def status_for(error: VocdeskError) -> int:
    """Return the HTTP status code for an error of the tree."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def install_common(app: FastAPI) -> None:
    """Install the error mapping and the correlation-id middleware on ``app``."""
    install_error_handlers(app)
    install_metrics(app, service=app.title.removeprefix("vocdesk ") or "vocdesk")

    @app.middleware("http")
    async def _correlate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        trace = parse_traceparent(request.headers.get(TRACEPARENT))
        # A traced request without a correlation id takes the trace id as one,
        # so hops that run outside any request or message keep the trace.
        cid = request.headers.get("x-correlation-id") or (trace.trace_id if trace else new_id())
        trace = trace or TraceContext(trace_id=trace_id_for(cid))
        with correlation_scope(cid), trace_scope(trace):
            response = await call_next(request)
        response.headers["X-Correlation-Id"] = cid
        return response


def install_error_handlers(app: FastAPI) -> None:
    """Map the error tree and validation errors to JSON answers with a reason."""

    @app.exception_handler(VocdeskError)
    async def _domain(_: Request, exc: VocdeskError) -> JSONResponse:
        status = status_for(exc)
        body: dict[str, object] = {"error": type(exc).__name__, "reason": str(exc)}
        if isinstance(exc, DomainError) and exc.field:
            body["field"] = exc.field
        headers: dict[str, str] = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        elif status == 503:
            headers["Retry-After"] = str(RETRY_AFTER_S)
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(PyMongoError)
    async def _store(_: Request, exc: PyMongoError) -> JSONResponse:
        # A store that is down or paused is a temporary refusal the client retries.
        if not (isinstance(exc, ConnectionFailure) or exc.timeout):
            raise exc
        body = {"error": "StoreUnavailable", "reason": "the store did not answer; retry later"}
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body"),
                "reason": err["msg"],
            }
            for err in exc.errors()
        ]
        return JSONResponse({"error": "Invalid", "errors": errors}, status_code=422)


ReadinessCheck = Callable[[], Awaitable[dict[str, object]]]


def health_router(readiness: ReadinessCheck) -> APIRouter:
    """Return ``/healthz`` (process alive) and ``/readyz`` (bus consumers and store answer)."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        report = await readiness()
        ready = bool(report.get("ready"))
        return JSONResponse(report, status_code=200 if ready else 503)

    return router


class ServiceCaller:
    """Who is calling a service-to-service API: the acting user and role."""

    def __init__(self, user: str, role: str) -> None:
        self.user = user
        self.role = role


def service_auth(token: str) -> Callable[..., ServiceCaller]:
    """Return a dependency that checks the service token and reads the acting user."""

    def check(
        x_service_token: Annotated[str | None, Header()] = None,
        x_acting_user: Annotated[str | None, Header()] = None,
        x_acting_role: Annotated[str | None, Header()] = None,
    ) -> ServiceCaller:
        if x_service_token is None or not secrets.compare_digest(x_service_token, token):
            raise Unauthorized("missing or wrong service token")
        return ServiceCaller(user=x_acting_user or "system", role=x_acting_role or "system")

    return check


def correlation_header() -> dict[str, str]:
    """Return the header that carries the current correlation id to another service."""
    cid = current_correlation_id()
    return {"X-Correlation-Id": cid} if cid else {}
