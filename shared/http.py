"""HTTP plumbing every service shares: the one error-to-status mapping and health routes."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, PyMongoError

from shared import assertions
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
from shared.settings import Settings
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


def install_common(app: FastAPI, *, public_docs: bool = False) -> None:
    """Install the error mapping, security headers and correlation ids on ``app``.

    Only the console, the public API, keeps ``/docs`` and ``/redoc``; the
    internal services answer 404 there.
    """
    install_error_handlers(app)
    if not public_docs:
        hide_docs(app)
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
        secure_headers(response, path=request.url.path)
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

    @router.get(
        "/readyz",
        responses={
            503: {
                "description": "not ready: the report names the reasons",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def readyz() -> JSONResponse:
        report = await readiness()
        ready = bool(report.get("ready"))
        return JSONResponse(report, status_code=200 if ready else 503)

    return router


class ServiceCaller:
    """Who is calling a service-to-service API: the acting user, role and unit."""

    def __init__(self, user: str, role: str, unit: str | None = None) -> None:
        self.user = user
        self.role = role
        self.unit = unit


@dataclass(frozen=True)
class ServiceAuth:
    """What a service checks its callers against: the service token, the acting key, itself."""

    token: str
    acting_key: str
    audience: str

    @classmethod
    def of(cls, settings: Settings, audience: str) -> ServiceAuth:
        """Return the check for the service ``audience`` with this install's secrets."""
        return cls(
            token=settings.service_token.get_secret_value(),
            acting_key=settings.acting_key.get_secret_value(),
            audience=audience,
        )

    def verify(self, service_token: str | None, acting_assertion: str | None) -> ServiceCaller:
        """Return who calls, or raise ``Unauthorized``.

        The one check of service calls: the caller proves it is a vocdesk service
        with ``X-Service-Token`` and says who it acts for only through an
        ``X-Acting-Assertion`` signed for ``audience`` (``shared.assertions``).
        Self-declared ``X-Acting-*`` headers are not read.
        """
        if service_token is None or not secrets.compare_digest(
            service_token.encode(), self.token.encode()
        ):
            raise Unauthorized("missing or wrong service token")
        if not acting_assertion:
            raise Unauthorized(f"an acting assertion ({assertions.HEADER}) is required")
        acting = assertions.verify(acting_assertion, audience=self.audience, key=self.acting_key)
        return ServiceCaller(user=acting.user, role=acting.role, unit=acting.unit)


def install_service_auth(app: FastAPI, auth: ServiceAuth) -> None:
    """Make ``auth`` the check behind ``Caller`` on every route of ``app``."""
    app.state.service_auth = auth


def service_caller(
    request: Request,
    x_service_token: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_acting_assertion: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ServiceCaller:
    """Check a service call against the app's ``ServiceAuth`` (``install_service_auth``)."""
    auth: ServiceAuth = request.app.state.service_auth
    return auth.verify(x_service_token, x_acting_assertion)


# The dependency of module-level routes that other services call.
Caller = Annotated[ServiceCaller, Depends(service_caller)]


# Security headers. Pages set their own Content-Security-Policy; anything else
# (JSON, errors) gets the strictest one, which allows nothing to load or frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; frame-ancestors 'none'"
)
DOC_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")


def secure_headers(response: Response, *, path: str) -> None:
    """Set nosniff, the referrer policy, framing and a CSP unless the route chose one."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if path in DOC_PATHS:
        csp = DOCS_CSP
    elif headers.get("content-type", "").startswith("text/html"):
        csp = PAGE_CSP
    else:
        csp = API_CSP
    headers.setdefault("Content-Security-Policy", csp)


def hide_docs(app: FastAPI) -> None:
    """Remove the interactive API pages; ``/openapi.json`` stays, it is a contract."""
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "path", None) not in DOC_PATHS
    ]


def correlation_header() -> dict[str, str]:
    """Return the header that carries the current correlation id to another service."""
    cid = current_correlation_id()
    return {"X-Correlation-Id": cid} if cid else {}
