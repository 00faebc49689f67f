"""The templates in force: the shipped ones with the organisation's overrides from the store.

Every edit is checked against the overrides as the store holds them now (not
this replica's copy, which may be up to ``refresh_every`` old), saved only if
the whole set still renders, and recorded in the change log with its author
and the text before and after.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from services.notify import slots
from services.notify.store import TemplateRepository
from services.notify.templates import TemplateSet, default_templates
from shared.clock import Clock
from shared.errors import Invalid

log = logging.getLogger(__name__)


class TemplateLibrary:
    """Hold the current template set; reload it now and then so every replica follows edits."""

    def __init__(
        self,
        *,
        templates: TemplateRepository,
        clock: Clock,
        refresh_every: timedelta = timedelta(seconds=30),
    ) -> None:
        self._templates = templates
        self._clock = clock
        self._refresh_every = refresh_every
        self._current = default_templates()
        self._loaded_at: datetime | None = None

    def current(self) -> TemplateSet:
        """Return the template set to render with."""
        return self._current

    async def refresh(self) -> None:
        """Reload the overrides from the store."""
        overrides = await self._templates.overrides()
        self._loaded_at = self._clock.now()
        try:
            self._current = default_templates().with_overrides(overrides)
        except Invalid as exc:
            # Saved overrides were checked when saved; one that no longer fits
            # the shipped templates must not silence every notification.
            log.error("stored template overrides refused; shipped templates in use: %s", exc)
            self._current = default_templates()

    async def refresh_if_stale(self) -> None:
        """Reload the overrides if they were loaded too long ago."""
        if self._loaded_at is None or self._clock.now() - self._loaded_at >= self._refresh_every:
            await self.refresh()

    async def replace(self, overrides: Mapping[str, str], *, by: str) -> TemplateSet:
        """Check and save ``overrides`` as the whole set; raise Invalid if any fails."""
        candidate = default_templates().with_overrides(overrides)
        before = await self._templates.overrides()
        after = dict(candidate.overrides)
        now = self._clock.now()
        await self._templates.replace_overrides(after, at=now, by=by)
        changed = {
            slot: (before.get(slot), after.get(slot))
            for slot in before.keys() | after.keys()
            if before.get(slot) != after.get(slot)
        }
        await self._templates.record_changes(changed, at=now, by=by)
        return self._use(candidate)

    async def set_slot(self, slot: str, source: str, *, by: str) -> TemplateSet:
        """Check and save the override of one slot; raise Invalid if the set would fail."""
        before = await self._templates.overrides()
        candidate = default_templates().with_overrides({**before, slot: source})
        if before.get(slot) != source:
            now = self._clock.now()
            await self._templates.set_override(slot, source, at=now, by=by)
            changed = {slot: (before.get(slot), source)}
            await self._templates.record_changes(changed, at=now, by=by)
        return self._use(candidate)

    async def reset_slot(self, slot: str, *, by: str) -> TemplateSet:
        """Drop the override of one slot (the shipped text serves again), if the rest renders."""
        before = await self._templates.overrides()
        rest = {name: source for name, source in before.items() if name != slot}
        candidate = default_templates().with_overrides(rest)
        if slot in before:
            now = self._clock.now()
            await self._templates.remove_override(slot)
            changed = {slot: (before[slot], None)}
            await self._templates.record_changes(changed, at=now, by=by)
        return self._use(candidate)

    async def preview(self, slot: str, source: str) -> list[dict[str, Any]]:
        """Render what ``source`` in ``slot`` would send, with the sample case; save nothing."""
        saved = await self._templates.overrides()
        candidate = default_templates().with_overrides({**saved, slot: source})
        return slots.preview(candidate, slot)

    def _use(self, candidate: TemplateSet) -> TemplateSet:
        self._current = candidate
        self._loaded_at = self._clock.now()
        return candidate
