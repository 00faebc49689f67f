"""Routing's composition root: the organisation, the case consumers, the outbox relay,
the SLA watcher, the report rollups, the rule book, the admins' overrides and the internal APIs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

from fastapi import FastAPI

from services.routing import handlers
from services.routing.admin import store as admin_store
from services.routing.admin.state import AdminState
from services.routing.api import admin as admin_api
from services.routing.api import cases as case_api
from services.routing.api import workspace as workspace_api
from services.routing.api.deps import RoutingParts
from services.routing.assignment import store as assignment_store
from services.routing.assignment.dispatch import Dispatcher
from services.routing.assignment.rules_in_force import RuleBook
from services.routing.cases import accounts_store, callbacks_store
from services.routing.cases import store as case_store
from services.routing.cases.commands import CaseCommands
from services.routing.cases.consent import ConsentKeeper
from services.routing.cases.contacts import ContactRouter
from services.routing.cases.outbox import OutboxRelay
from services.routing.cases.repository import MongoCases
from services.routing.cases.store import INDEXES as CASE_INDEXES
from services.routing.cases.workspace_commands import WorkspaceCommands
from services.routing.classification.artifacts import load_model
from services.routing.classification.labels import LabelLog
from services.routing.classification.pipeline import CaseClassifier, TextModel
from services.routing.classification.taxonomy import load_taxonomy
from services.routing.org.config import OrgConfig, load_org
from services.routing.reports import store as report_store
from services.routing.reports.rollups import RollupBuilder
from services.routing.sla.watcher import SlaWatcher
from shared.http import ServiceAuth, health_router, install_common, install_service_auth
from shared.runtime import Runtime, ServiceParts, running

log = logging.getLogger(__name__)

# The internal API's routers, in order: the workspace's first, so that
# /cases/counts is matched before /cases/{case_id}.
ROUTERS = (workspace_api.router, case_api.router, admin_api.router)

INDEXES = {
    **CASE_INDEXES,
    **callbacks_store.INDEXES,
    **assignment_store.INDEXES,
    **accounts_store.INDEXES,
    **assignment_store.RULE_INDEXES,
    **admin_store.INDEXES,
    **report_store.INDEXES,
}


@dataclass
class Routing:
    """Everything the routing service is made of, wired to one runtime."""

    runtime: Runtime
    org: OrgConfig
    cases: MongoCases
    relay: OutboxRelay
    rulebook: RuleBook
    admin: AdminState
    classifier: CaseClassifier
    dispatcher: Dispatcher
    contacts: ContactRouter
    consent: ConsentKeeper
    commands: CaseCommands
    watcher: SlaWatcher
    rollups: RollupBuilder

    def parts(self) -> ServiceParts:
        """Return what the runtime starts: indexes, the consumer and the background loops."""
        return ServiceParts(
            indexes=INDEXES,
            subscriptions=handlers.subscriptions(
                self.runtime, contacts=self.contacts, consent=self.consent
            ),
            background=[
                self.relay.run,
                self.watcher.run,
                self.rollups.run,
                self.keep_fresh,
                self.recount_lanes,
            ],
        )

    async def start(self) -> None:
        """Load what must be current before the first contact: saved rules, overrides, the model.

        Cases stored before the workspace's fields existed get them first, so
        every case is in its queue views; indexes no query uses are dropped.
        """
        dropped = await case_store.drop_retired_indexes(self.runtime.store)
        if dropped:
            log.info("unused case indexes dropped", extra={"indexes": dropped})
        backfilled = await case_store.backfill_lanes(self.runtime.store)
        if backfilled:
            log.info("workspace fields written on older cases", extra={"cases": backfilled})
        await self._refresh_saved()
        await self.classifier.start()

    async def recount_lanes(self) -> None:
        """Recount every lane's book once at start (a background task).

        Repairs what a crash between a case write and its book write left
        off, and makes the books of cases stored before there were books.
        """
        try:
            corrected = await case_store.rebuild_books(self.runtime.store)
        except Exception:
            log.exception("could not recount the case lanes; their counts may be off")
            return
        if corrected:
            log.info("case lane counts recounted", extra={"lanes": corrected})

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
    # The relay's write of published events also clears their cases' report marks.
    cases = MongoCases(runtime.store, mark_days=partial(report_store.make_dirty, runtime.store))
    relay = OutboxRelay(runtime, outbox=cases)
    rules = RuleBook(runtime.store, org=org, taxonomy=taxonomy)
    classifier = CaseClassifier(
        org,
        taxonomy,
        model=model,
        load=None if model else partial(load_model, org.org, runtime.settings.data_dir),
    )
    dispatcher = Dispatcher(runtime.store, org=org, cases=cases, queues=cases)
    contacts = ContactRouter(
        runtime,
        cases=cases,
        org=org,
        rulebook=rules,
        classifier=classifier,
        dispatcher=dispatcher,
        relay=relay,
    )
    commands = CaseCommands(
        runtime,
        cases=cases,
        org=org,
        taxonomy=taxonomy,
        dispatcher=dispatcher,
        labels=LabelLog(runtime.settings.data_dir),
        relay=relay,
    )
    watcher = SlaWatcher(runtime, cases=cases, leases=cases, org=org, relay=relay)
    return Routing(
        runtime=runtime,
        org=org,
        cases=cases,
        relay=relay,
        rulebook=rules,
        admin=AdminState(runtime.store, org=org, taxonomy=taxonomy),
        classifier=classifier,
        dispatcher=dispatcher,
        contacts=contacts,
        consent=ConsentKeeper(runtime, cases=cases, relay=relay),
        commands=commands,
        watcher=watcher,
        rollups=RollupBuilder(runtime.store, clock=runtime.clock, replica=watcher.replica),
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
    install_service_auth(app, ServiceAuth.of(runtime.settings, "routing"))
    app.state.parts = RoutingParts(
        store=runtime.store,
        clock=runtime.clock,
        org=routing.org,
        taxonomy=load_taxonomy(),
        commands=routing.commands,
        actions=WorkspaceCommands(
            runtime, org=routing.org, commands=routing.commands, dispatcher=routing.dispatcher
        ),
        dispatcher=routing.dispatcher,
        rulebook=routing.rulebook,
        admin=routing.admin,
    )
    app.include_router(health_router(readiness))
    for router in ROUTERS:
        app.include_router(router)
    return app
