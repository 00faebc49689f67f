"""Routing's composition root: the organisation, the case consumers, the outbox relay,
the SLA watcher, the rule book, the admins' overrides and the internal APIs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

from fastapi import FastAPI

from services.routing import accounts, admin_api, admin_state, api, callbacks, dispatch, rulebook
from services.routing import store as case_store
from services.routing.admin_state import AdminState
from services.routing.classify import CaseClassifier, TextModel
from services.routing.consent import ConsentKeeper
from services.routing.contacts import ContactRouter
from services.routing.dispatch import Dispatcher
from services.routing.handlers import CaseCommands
from services.routing.labels import LabelLog
from services.routing.models import load_model
from services.routing.org import OrgConfig, load_org
from services.routing.outbox import OutboxRelay
from services.routing.rulebook import RuleBook
from services.routing.store import INDEXES as CASE_INDEXES
from services.routing.taxonomy import load_taxonomy
from services.routing.watcher import SlaWatcher
from shared.http import health_router, install_common
from shared.runtime import Runtime, ServiceParts, running

log = logging.getLogger(__name__)

INDEXES = {
    **CASE_INDEXES,
    **callbacks.INDEXES,
    **dispatch.INDEXES,
    **accounts.INDEXES,
    **rulebook.INDEXES,
    **admin_state.INDEXES,
}


@dataclass
class Routing:
    """Everything the routing service is made of, wired to one runtime."""

    runtime: Runtime
    org: OrgConfig
    relay: OutboxRelay
    rulebook: RuleBook
    admin: AdminState
    classifier: CaseClassifier
    dispatcher: Dispatcher
    contacts: ContactRouter
    consent: ConsentKeeper
    commands: CaseCommands
    watcher: SlaWatcher

    def parts(self) -> ServiceParts:
        """Return what the runtime starts: indexes, the consumer and the background loops."""
        return ServiceParts(
            indexes=INDEXES,
            subscriptions=[*self.contacts.subscriptions(), *self.consent.subscriptions()],
            background=[
                self.relay.run,
                self.watcher.run,
                self.keep_fresh,
            ],
        )

    async def start(self) -> None:
        """Load what must be current before the first contact: saved rules, overrides, the model.

        Cases stored before the workspace's fields existed get them first, so
        every case is in its queue views.
        """
        backfilled = await case_store.backfill_lanes(self.runtime.store)
        if backfilled:
            log.info("workspace fields written on older cases", extra={"cases": backfilled})
        await self._refresh_saved()
        await self.classifier.start()

    async def keep_fresh(self, interval_s: float = 5.0) -> None:
        """Re-read the saved rules and overrides forever (a background loop of every replica)."""
        while True:
            await asyncio.sleep(interval_s)
            await self._refresh_saved()

    async def _refresh_saved(self) -> None:
        # What an admin saved is read apart: one failing keeps only its own current state.
        for what, refresh in (("rules", self.rulebook.refresh), ("overrides", self.admin.refresh)):
            try:
                await refresh()
            except Exception:
                log.exception("could not read the saved routing %s; keeping the current ones", what)


def build(
    runtime: Runtime, *, org: OrgConfig | None = None, model: TextModel | None = None
) -> Routing:
    """Wire the routing service; ``model`` replaces the trained classifier (tests)."""
    taxonomy = load_taxonomy()
    org = org or load_org(runtime.settings.org, taxonomy=taxonomy)
    relay = OutboxRelay(runtime)
    rules = RuleBook(runtime.store, org=org, taxonomy=taxonomy)
    classifier = CaseClassifier(
        org,
        taxonomy,
        model=model,
        load=None if model else partial(load_model, org.org, runtime.settings.data_dir),
    )
    dispatcher = Dispatcher(runtime.store, org=org)
    contacts = ContactRouter(
        runtime, org=org, rulebook=rules, classifier=classifier, dispatcher=dispatcher, relay=relay
    )
    commands = CaseCommands(
        runtime,
        org=org,
        taxonomy=taxonomy,
        dispatcher=dispatcher,
        labels=LabelLog(runtime.settings.data_dir),
        relay=relay,
    )
    watcher = SlaWatcher(runtime, org=org, relay=relay)
    return Routing(
        runtime=runtime,
        org=org,
        relay=relay,
        rulebook=rules,
        admin=AdminState(runtime.store, org=org, taxonomy=taxonomy),
        classifier=classifier,
        dispatcher=dispatcher,
        contacts=contacts,
        consent=ConsentKeeper(runtime, relay=relay),
        commands=commands,
        watcher=watcher,
    )


def create_app(
    runtime: Runtime, *, org: OrgConfig | None = None, model: TextModel | None = None
) -> FastAPI:
    """Build routing's HTTP app on ``runtime``."""
    routing = build(runtime, org=org, model=model)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, routing.parts()):
            await routing.start()
            yield

    async def readiness() -> dict[str, object]:
        # A replica that would wait for its model before routing is not ready yet.
        report = await runtime.readiness()
        classifier = routing.classifier.status()
        report["classifier"] = classifier
        report["ready"] = bool(report["ready"]) and classifier["state"] != "loading"
        return report

    app = FastAPI(title="vocdesk routing", version="1", lifespan=lifespan)
    app.state.routing = routing
    install_common(app)
    app.include_router(health_router(readiness))
    app.include_router(
        api.router(
            runtime, org=routing.org, commands=routing.commands, dispatcher=routing.dispatcher
        )
    )
    app.include_router(
        admin_api.router(
            runtime,
            org=routing.org,
            rulebook=routing.rulebook,
            state=routing.admin,
            taxonomy=load_taxonomy(),
        )
    )
    return app
