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
from typing import Any, Literal

import yaml

from shared.errors import ConfigError, Invalid
from shared.kinds import ORG_ID_PATTERN

PACKAGED = Path(__file__).parent / "orgs"
ENV = "VOCDESK_CONFIG_DIR"
_ORG_ID = re.compile(ORG_ID_PATTERN)


def config_dir() -> Path:
    """Return the folder of organisation files in force."""
    configured = os.environ.get(ENV, "").strip()
    return Path(configured) if configured else PACKAGED


def org_path(org: str, folder: Path | None = None) -> Path:
    """Return ``<folder>/<org>.yaml``; refuse an id that is not a plain name."""
    if not _ORG_ID.fullmatch(org):
        raise ConfigError(
            f"organisation id {org!r} is not a lower-case name"
            " (a letter, then up to 39 letters, digits, '_' or '-')"
        )
    return (folder or config_dir()) / f"{org}.yaml"


def org_files(folder: Path | None = None) -> list[Path]:
    """Return every organisation's file in the folder, sorted by name."""
    return sorted((folder or config_dir()).glob("*.yaml"))


def known_orgs(folder: Path | None = None) -> tuple[str, ...]:
    """Return the ids of the organisations this install has a file for, sorted."""
    return tuple(p.stem for p in org_files(folder) if _ORG_ID.fullmatch(p.stem))


def served_org(org: str) -> str:
    """Return ``org`` if this install has its file; raise ``Invalid`` naming the ones it has."""
    known = known_orgs()
    if org not in known:
        raise Invalid(f"org: this install serves {', '.join(known)}, not {org!r}", field="org")
    return org


def org_language(org: str) -> Literal["th", "en"]:
    """Return the language of the organisation's reports by default: its ``language``, or Thai."""
    return "en" if read_org(org_path(org)).get("language") == "en" else "th"


def read_org(path: Path) -> dict[str, Any]:
    """Return an organisation file's top-level mapping; raise ``ConfigError`` if unreadable."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"organisation config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"organisation config {path}: not a mapping")
    return data
