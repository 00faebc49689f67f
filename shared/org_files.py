"""Where the organisations' YAML is read from: one place for every service.

``VOCDESK_CONFIG_DIR`` names a folder of ``<org>.yaml`` files (a mounted
ConfigMap, say); without it the demo organisations shipped inside the package
(``shared/orgs/``) are used, so an installed wheel runs as a checkout does.
A new organisation is one more YAML file in that folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from shared.errors import ConfigError

PACKAGED = Path(__file__).parent / "orgs"
ENV = "VOCDESK_CONFIG_DIR"
_ORG_ID = re.compile(r"[a-z][a-z0-9_-]{0,39}")


def config_dir() -> Path:
    """Return the folder of organisation files in force."""
    configured = os.environ.get(ENV, "").strip()
    return Path(configured) if configured else PACKAGED


def org_path(org: str, folder: Path | None = None) -> Path:
    """Return ``<folder>/<org>.yaml``; refuse an id that is not a plain name."""
    if not _ORG_ID.fullmatch(org):
        raise ConfigError(f"organisation id {org!r} is not a lower-case name")
    return (folder or config_dir()) / f"{org}.yaml"


def org_files(folder: Path | None = None) -> list[Path]:
    """Return every organisation's file in the folder, sorted by name."""
    return sorted((folder or config_dir()).glob("*.yaml"))


def read_org(path: Path) -> dict[str, Any]:
    """Return an organisation file's top-level mapping; raise ``ConfigError`` if unreadable."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"organisation config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"organisation config {path}: not a mapping")
    return data
