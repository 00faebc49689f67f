"""The deployment's organisation: units and routing configuration loaded from YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from shared.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "deploy" / "config"


class Unit(BaseModel):
    """A unit that handles cases: a branch office, a department, the triage desk."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    kind: str = "department"


class OrgConfig(BaseModel):
    """An organisation's units and routing configuration."""

    model_config = ConfigDict(extra="allow")

    org: Literal["pea", "or"]
    name: str
    hotline: str
    fallback_unit: str
    units: list[Unit]

    @model_validator(mode="after")
    def _fallback_exists(self) -> OrgConfig:
        if self.fallback_unit not in {u.id for u in self.units}:
            raise ValueError(f"fallback_unit {self.fallback_unit!r} is not a unit")
        return self

    def unit(self, unit_id: str) -> Unit | None:
        """Return the unit with ``unit_id``, if any."""
        return next((u for u in self.units if u.id == unit_id), None)


def load_org(org: str, config_dir: Path = CONFIG_DIR) -> OrgConfig:
    """Load and validate ``deploy/config/<org>.yaml``; raise ``ConfigError`` with the reason."""
    path = config_dir / f"{org}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return OrgConfig.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"organisation config {path}: {exc}") from exc
