"""The routing rules in force: the file's, or a set an admin saved, shared by every replica.

A saved set lives in the store so all replicas route alike and a restart
keeps it; replicas re-read it every few seconds. A saved set that no longer
fits the organisation (a unit removed from the file) is ignored with an
error in the log, and the file's rules stay in force.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from services.routing.admin import log as admin_log
from services.routing.assignment import store as assignment_store
from services.routing.assignment.rules import Rule, rules_from
from services.routing.assignment.store import RULES_ID
from services.routing.classification.taxonomy import Taxonomy
from services.routing.org.config import OrgConfig
from shared.store import Store

log = logging.getLogger(__name__)


class RuleBook:
    """Hold the rules in force and replace them only with a validated set."""

    def __init__(self, store: Store, *, org: OrgConfig, taxonomy: Taxonomy) -> None:
        self._store = store
        self._org = org
        self._taxonomy = taxonomy
        self.rules: tuple[Rule, ...] = org.rules
        self.version = 0
        self.source = "file"
        self.updated_by: str | None = None
        self.updated_at: datetime | None = None

    async def refresh(self) -> None:
        """Load the saved set if it changed since the last look."""
        doc = await assignment_store.saved_rules(self._store)
        if doc is None:
            self._use(self._org.rules, version=0, source="file", by=None, at=None)
            return
        if doc["version"] == self.version:
            return
        try:
            rules = rules_from(doc["rules"])
        except ValidationError as exc:
            log.error("saved routing rules are invalid; keeping %s rules: %s", self.source, exc)
            return
        problems = self._org.rule_problems(rules, self._taxonomy)
        if problems:
            log.error("saved routing rules do not fit the organisation: %s", problems)
            return
        self._use(rules, version=doc["version"], source="admin", by=doc.get("by"), at=doc.get("at"))

    async def save(self, rules: list[Rule], *, by: str, at: datetime) -> None:
        """Store an already validated set and put it in force here at once."""
        doc = await assignment_store.save_rules(
            self._store, rules=[r.model_dump(mode="json") for r in rules], by=by, at=at
        )
        self._use(tuple(rules), version=doc["version"], source="admin", by=by, at=at)
        detail = {"version": doc["version"], "rules": [r.id for r in rules]}
        await admin_log.record(
            self._store, kind="rules", target=RULES_ID, action="put", detail=detail, by=by, at=at
        )

    async def revert(self, *, by: str, at: datetime) -> None:
        """Drop the saved set; the file's rules are in force again."""
        dropped = await assignment_store.drop_rules(self._store)
        if dropped is not None:
            detail = {"version": dropped["version"]}
            await admin_log.record(
                self._store,
                kind="rules",
                target=RULES_ID,
                action="revert",
                detail=detail,
                by=by,
                at=at,
            )
        await self.refresh()

    def describe(self) -> dict[str, Any]:
        """Return the rules in force and where they come from."""
        return {
            "source": self.source,
            "version": self.version,
            "updated_by": self.updated_by,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "fallback_unit": self._org.fallback_unit,
            "rules": [r.model_dump(mode="json", exclude_defaults=True) for r in self.rules],
        }

    def _use(
        self,
        rules: tuple[Rule, ...] | list[Rule],
        *,
        version: int,
        source: str,
        by: str | None,
        at: datetime | None,
    ) -> None:
        self.rules, self.version, self.source = tuple(rules), version, source
        self.updated_by, self.updated_at = by, at
