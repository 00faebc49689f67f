"""Prometheus metrics every service exposes at ``/metrics``.

HTTP requests are counted and timed by route template (``/v1/cases/{id}``,
never the raw path, which may hold ids); the bus counts what each queue
consumed, published and dead-lettered and times its handlers; notify counts
delivery attempts per provider and shows each provider's circuit breaker.
Labels never carry personal data. All services of one process share the
default registry, told apart by the ``service`` label on HTTP metrics.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.routing import Match

HTTP_REQUESTS = Counter(
    "vocdesk_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "vocdesk_http_request_seconds",
    "Time to answer an HTTP request, by route template.",
    ["service", "method", "route"],
)
MESSAGES_CONSUMED = Counter(
    "vocdesk_bus_consumed_total",
    "Messages a queue's consumer finished, by outcome (ack, requeue, dead_letter).",
    ["queue", "outcome"],
)
MESSAGES_PUBLISHED = Counter(
    "vocdesk_bus_published_total", "Messages published and confirmed, by type.", ["type"]
)
MESSAGES_DEAD_LETTERED = Counter(
    "vocdesk_bus_dead_lettered_total", "Messages parked in a queue's .dead queue.", ["queue"]
)
HANDLER_LATENCY = Histogram(
    "vocdesk_bus_handler_seconds", "Time a queue's handler took per message.", ["queue"]
)
DELIVERY_ATTEMPTS = Counter(
    "vocdesk_notify_delivery_attempts_total",
    "Sends to a provider, by result (sent, retry, failed).",
    ["provider", "result"],
)
BREAKER_STATE = Gauge(
    "vocdesk_notify_breaker_state",
    "A provider's circuit breaker: 0 closed, 1 half open, 2 open.",
    ["provider"],
)
BREAKER_LEVEL = {"closed": 0, "half_open": 1, "open": 2}

_UNMATCHED = "unmatched"


def install_metrics(app: FastAPI, service: str) -> None:
    """Count and time ``app``'s requests and serve ``/metrics``."""

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = route_template(app, request)
        if route != "/metrics":
            method = request.method
            HTTP_LATENCY.labels(service, method, route).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(service, method, route, str(response.status_code)).inc()
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def route_template(app: FastAPI, request: Request) -> str:
    """Return the path template of the route ``request`` matched, or ``unmatched``."""
    matched = request.scope.get("route")  # set by the router as it dispatched
    if matched is not None and getattr(matched, "path", None):
        return str(matched.path)
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match is Match.FULL:
            return str(getattr(route, "path", _UNMATCHED))
    return _UNMATCHED
