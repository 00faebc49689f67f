"""Notify's composition root: consumer, delivery worker, survey page, internal API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI

from services.notify import api, survey_api
from services.notify.breaker import Breakers
from services.notify.channels import build_channels
from services.notify.clients import PrivacyClient, RoutingClient
from services.notify.delivery import Attempter
from services.notify.deps import NotifyParts
from services.notify.directory import OrgDirectory
from services.notify.handlers import Notify
from services.notify.library import TemplateLibrary
from services.notify.reachability import Reachability
from services.notify.settings import NotifySettings
from services.notify.store import INDEXES, MongoDeliveries, MongoSurveys, MongoTemplates
from services.notify.survey import SurveySigner
from services.notify.worker import DeliveryWorker
from shared.http import ServiceAuth, health_router, install_common, install_service_auth
from shared.runtime import Runtime, ServiceParts, running


def create_app(
    runtime: Runtime,
    *,
    settings: NotifySettings | None = None,
    http: httpx.AsyncClient | None = None,
    directory: OrgDirectory | None = None,
) -> FastAPI:
    """Build notify's HTTP app on ``runtime``; ``http`` reaches privacy, routing and providers."""
    notify = settings or NotifySettings()
    shared = runtime.settings
    # An AsyncClient opens no connection until used; the lifespan closes it.
    # Every concurrent attempt may hold a connection to privacy and one to a
    # provider; keeping them all alive spares a new connection per message.
    pool = 2 * notify.notify_concurrency
    client = http or httpx.AsyncClient(
        timeout=notify.notify_http_timeout_s,
        limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
    )
    token = shared.service_token.get_secret_value()
    directory = directory or OrgDirectory()
    deliveries = MongoDeliveries(runtime.store, linger=notify.notify_write_linger_s)
    templates = MongoTemplates(runtime.store)
    library = TemplateLibrary(templates=templates, clock=runtime.clock)
    reachability = Reachability(deliveries=deliveries, clock=runtime.clock)
    signer = SurveySigner(
        shared.secret_key.get_secret_value(),
        ttl=timedelta(days=notify.survey_ttl_days),
        clock=runtime.clock,
    )
    breakers = Breakers(
        clock=runtime.clock,
        failures=notify.notify_breaker_failures,
        open_s=notify.notify_breaker_open_s,
        open_max_s=notify.notify_breaker_open_max_s,
    )
    attempter = Attempter(
        deliveries=deliveries,
        reachability=reachability,
        clock=runtime.clock,
        privacy=PrivacyClient(
            shared.service_url("privacy"),
            token=token,
            http=client,
            acting_key=shared.acting_key.get_secret_value(),
            audience="privacy",
        ),
        channels=build_channels(shared, notify, http=client, clock=runtime.clock),
        library=library,
        directory=directory,
        signer=signer,
        survey_base_url=str(notify.survey_base_url or shared.service_url("notify")),
        rate_limit=notify.notify_rate_limit,
        rate_window_s=notify.notify_rate_window_s,
        breakers=breakers,
        address_cache_size=notify.notify_address_cache_size,
    )
    worker = DeliveryWorker(
        deliveries=deliveries,
        attempter=attempter,
        reachability=reachability,
        library=library,
        settings=notify,
        clock=runtime.clock,
        publisher=runtime.bus,
    )
    consumer = Notify(directory=directory, reachability=reachability, enqueue=worker.enqueue)
    parts = ServiceParts(
        indexes=INDEXES, subscriptions=consumer.subscriptions(), background=[worker.run]
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            async with running(runtime, parts):
                yield
        finally:
            if http is None:
                await client.aclose()

    routing = RoutingClient(
        shared.service_url("routing"),
        token=token,
        http=client,
        acting_key=shared.acting_key.get_secret_value(),
        audience="routing",
    )
    app = FastAPI(title="vocdesk notify", version="1", lifespan=lifespan)
    install_common(app)
    install_service_auth(app, ServiceAuth.of(shared, "notify"))
    app.state.parts = NotifyParts(
        deliveries=deliveries,
        templates=templates,
        surveys=MongoSurveys(runtime.store),
        clock=runtime.clock,
        library=library,
        reachability=reachability,
        breakers=breakers,
        signer=signer,
        routing=routing,
    )
    app.include_router(health_router(runtime.readiness))
    app.include_router(api.router)
    app.include_router(survey_api.router)
    return app
