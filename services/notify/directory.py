"""What notify's texts say about the organisation: its name, hotline and unit names.

Read from the organisation's YAML where ``shared.org_files`` finds it (routing
owns its validation); notify needs only these display facts, and a missing
file or field leaves the templates' own wording in place.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from shared.errors import ConfigError
from shared.org_files import org_path, read_org

log = logging.getLogger(__name__)


class OrgDirectory:
    """Look up organisation and unit display facts by org and unit id."""

    def __init__(self, config_dir: Path | None = None) -> None:
        self._dir = config_dir

    @functools.cache  # noqa: B019 - one directory per process, a handful of orgs
    def _load(self, org: str) -> dict[str, Any]:
        try:
            return read_org(org_path(org, self._dir))
        except ConfigError as exc:
            log.warning("organisation config unreadable", extra={"org": org, "error": str(exc)})
            return {}

    def _unit(self, org: str | None, unit: str | None) -> dict[str, Any]:
        if not org or not unit:
            return {}
        units = self._load(org).get("units") or []
        return next((u for u in units if isinstance(u, dict) and u.get("id") == unit), {})

    def facts(self, org: str | None, unit: str | None = None) -> dict[str, Any]:
        """Return ``name``, ``hotline`` and ``unit_name`` for the templates (None if unknown)."""
        data = self._load(org) if org else {}
        hotline = data.get("hotline")
        return {
            "name": data.get("name"),
            "hotline": str(hotline) if hotline is not None else None,
            "unit_name": self._unit(org, unit).get("name"),
        }

    def unit_kind(self, org: str | None, unit: str | None) -> str | None:
        """Return the kind of ``unit`` (``triage``, ``branch``, …) if the config knows it."""
        kind = self._unit(org, unit).get("kind")
        return str(kind) if kind else None
