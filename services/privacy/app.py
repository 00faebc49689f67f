"""Privacy's composition root: the screening consumer, the internal API, background loops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from services.privacy import api
from services.privacy.consent_book import ConsentBook
from services.privacy.deps import PrivacyParts
from services.privacy.handlers import Privacy
from services.privacy.retention import Retention, RoutingCases
from services.privacy.reveal import Revealer
from services.privacy.rights import Rights
from services.privacy.screening import Screener, blind_indexer, key_ring
from services.privacy.settings import PrivacySettings
from services.privacy.staff_texts import StaffTexts
from services.privacy.store import INDEXES, MongoConsents
from services.privacy.vaulting import SubjectVault
from shared.http import ServiceAuth, health_router, install_common, install_service_auth
from shared.runtime import Runtime, ServiceParts, running


def create_app(runtime: Runtime, *, settings: PrivacySettings | None = None) -> FastAPI:
    """Build privacy's HTTP app on ``runtime``."""
    own = settings or PrivacySettings()
    store, clock = runtime.store, runtime.clock
    token = runtime.settings.service_token.get_secret_value()
    indexer = blind_indexer(runtime.settings)
    vault = SubjectVault(store, key_ring(runtime.settings))
    consents = ConsentBook(MongoConsents(store), bus=runtime.bus, clock=clock)
    retention = Retention(
        store,
        vault=vault,
        cases=RoutingCases(
            runtime.settings.service_url("routing"),
            token=token,
            acting_key=runtime.settings.acting_key.get_secret_value(),
        ),
        settings=own,
        clock=clock,
    )
    privacy = Privacy(
        runtime,
        screener=Screener(store, vault=vault, indexer=indexer),
        batch_wait_s=own.privacy_batch_wait_s,
    )
    service_parts = ServiceParts(
        indexes=INDEXES,
        subscriptions=privacy.subscriptions(),
        background=[partial(consents.run_relay, own.consent_relay_interval_s), retention.run],
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, service_parts):
            yield

    app = FastAPI(title="vocdesk privacy", version="1", lifespan=lifespan)
    install_common(app)
    install_service_auth(app, ServiceAuth.of(runtime.settings, "privacy"))
    app.state.parts = PrivacyParts(
        store=store,
        revealer=Revealer(
            store,
            vault=vault,
            consents=consents,
            clock=clock,
            lookup_linger_s=own.privacy_lookup_linger_s,
        ),
        consents=consents,
        rights=Rights(store, vault=vault, indexer=indexer, consents=consents, clock=clock),
        staff_texts=StaffTexts(store, vault=vault, consents=consents, clock=clock),
    )
    app.include_router(health_router(runtime.readiness))
    app.include_router(api.router)
    return app
