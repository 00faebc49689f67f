"""The templates in force: the shipped ones with the organisation's overrides from the store."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from services.notify import store as notify_store
from services.notify.templates import TemplateSet, default_templates
from shared.clock import Clock
from shared.errors import Invalid
from shared.store import Store

log = logging.getLogger(__name__)


class TemplateLibrary:
    """Hold the current template set; reload it now and then so every replica follows edits."""

    def __init__(
        self, store: Store, *, clock: Clock, refresh_every: timedelta = timedelta(seconds=30)
    ) -> None:
        self._store = store
        self._clock = clock
        self._refresh_every = refresh_every
        self._current = default_templates()
        self._loaded_at: datetime | None = None

    def current(self) -> TemplateSet:
        """Return the template set to render with."""
        return self._current

    async def refresh(self) -> None:
        """Reload the overrides from the store."""
        overrides = await notify_store.template_overrides(self._store)
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
        await notify_store.replace_template_overrides(
            self._store, dict(candidate.overrides), at=self._clock.now(), by=by
        )
        self._current = candidate
        self._loaded_at = self._clock.now()
        return candidate
