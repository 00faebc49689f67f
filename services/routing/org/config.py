"""The deployment's organisation: units, areas, rules, SLA policies and calendars from YAML.

``load_org`` refuses a file that is not valid with every problem's line and
reason (``ConfigError``); ``parse_rules`` does the same for a rule set sent to
the admin API (``Invalid``), so a bad edit never replaces the running rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from services.routing.assignment.rules import (
    URGENCIES,
    Area,
    Problem,
    Rule,
    check_rules,
    rules_from,
)
from services.routing.classification.hazards import RULES as HAZARD_RULES
from services.routing.classification.taxonomy import Taxonomy, load_taxonomy
from services.routing.org import yaml_lines
from services.routing.sla.calendar import BusinessCalendar, CalendarSpec
from services.routing.sla.policies import SlaPolicy
from shared.errors import ConfigError, Invalid
from shared.kinds import OrgId
from shared.messages.contacts import Channel
from shared.org_files import org_path

# A policy with this calendar counts on the calendar of the unit handling the case.
UNIT_CALENDAR = "@unit"
DEFAULT_TIER = "standard"

UnitKind = Literal["branch", "region", "department", "key_account", "triage", "contact_center"]
Strategy = Literal["pull", "round_robin", "least_loaded"]


class Member(BaseModel):
    """A person who works a unit's cases; ``capacity`` overrides the unit's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str = Field(min_length=1)
    capacity: int | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, raw: object) -> object:
        return {"user": raw} if isinstance(raw, str) else raw


class Areas(BaseModel):
    """The places a unit serves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provinces: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    branch_codes: tuple[str, ...] = ()


class Unit(BaseModel):
    """A unit that handles cases: a branch office, a region, a department, the triage desk."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    kind: UnitKind
    calendar: str
    assignment: Strategy = "least_loaded"
    capacity: int = Field(default=10, ge=1, description="open cases per member at most")
    supervisor: str | None = None
    escalation_unit: str | None = None
    members: tuple[Member, ...] = ()
    areas: Areas = Areas()

    def member(self, user: str) -> Member | None:
        """Return the member ``user``, if they belong to the unit."""
        return next((m for m in self.members if m.user == user), None)

    def capacity_of(self, member: Member) -> int:
        """Return how many open cases ``member`` may hold."""
        return member.capacity or self.capacity


def _default_windows() -> dict[Channel, timedelta]:
    return {"line": timedelta(hours=72), "phone": timedelta(hours=72), "app": timedelta(hours=72)}


class Threading(BaseModel):
    """When a contact joins an existing case instead of opening one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    join_window: dict[Channel, timedelta] = Field(default_factory=_default_windows)
    reopen_within: timedelta = timedelta(days=7)


class ClassifierSettings(BaseModel):
    """How sure the classifier must be before its answer routes a case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: float = Field(default=0.45, ge=0, le=1)


class OrgConfig(BaseModel):
    """An organisation's units, routing rules, SLA policies and calendars."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    org: OrgId
    name: str
    hotline: str
    # The language its reports and papers are written in unless a reader asks for another.
    language: Literal["th", "en"] = "th"
    # Its own topics, when the seed taxonomy does not have them (read by ``load_taxonomy``).
    taxonomy: dict[str, Any] | None = None
    # The topic a hazard rule's match stands for when the model cannot say ("*": any hazard).
    hazard_topics: dict[str, str] = Field(default_factory=dict)
    fallback_unit: str
    triage_unit: str
    executive: str | None = None
    escalation_unit: str | None = None
    tiers: tuple[str, ...] = (DEFAULT_TIER,)
    classification: ClassifierSettings = ClassifierSettings()
    threading: Threading = Threading()
    calendars: tuple[CalendarSpec, ...]
    units: tuple[Unit, ...]
    rules: tuple[Rule, ...] = ()
    sla_policies: tuple[SlaPolicy, ...] = ()
    _calendars: dict[str, BusinessCalendar] = PrivateAttr(default_factory=dict)

    def model_post_init(self, _: Any) -> None:
        """Build each calendar once: ad-hoc holidays added at run time live on it."""
        self._calendars = {spec.id: BusinessCalendar(spec) for spec in self.calendars}

    @property
    def business_calendars(self) -> dict[str, BusinessCalendar]:
        """Return the calendars by id."""
        return self._calendars

    def unit(self, unit_id: str | None) -> Unit | None:
        """Return the unit with ``unit_id``, if any."""
        return next((u for u in self.units if u.id == unit_id), None)

    def places(self) -> set[str]:
        """Return every province and district some unit serves."""
        return {p for u in self.units for p in (*u.areas.provinces, *u.areas.districts)}

    def unit_for_area(self, area: Area) -> str | None:
        """Return the unit serving ``area`` most closely: branch code, then district, province."""
        best: tuple[int, int] | None = None
        found: str | None = None
        for unit in self.units:
            served = unit.areas
            if area.branch_code and area.branch_code in served.branch_codes:
                score = 3
            elif area.district and area.district in served.districts:
                score = 2
            elif area.province and area.province in served.provinces:
                score = 1
            else:
                continue
            # Among equals the unit serving fewer provinces is the more local one.
            rank = (score, -len(served.provinces))
            if best is None or rank > best:
                best, found = rank, unit.id
        return found

    def problems(self, taxonomy: Taxonomy) -> list[Problem]:
        """Return every reference to a unit, calendar, topic or tier that does not exist."""
        problems: list[Problem] = []
        units = {u.id for u in self.units}
        calendars = {c.id for c in self.calendars}
        for field, ids in (("units", [u.id for u in self.units]), ("calendars", list(calendars))):
            for dup in {i for i in ids if ids.count(i) > 1}:
                problems.append(((field,), f"id {dup!r} is used twice"))
        for field in ("fallback_unit", "triage_unit", "escalation_unit"):
            value = getattr(self, field)
            if value is not None and value not in units:
                problems.append(((field,), f"unknown unit {value!r}"))
        if DEFAULT_TIER not in self.tiers:
            problems.append((("tiers",), f"the tiers must include {DEFAULT_TIER!r}"))
        for index, unit in enumerate(self.units):
            if unit.calendar not in calendars:
                problems.append(
                    (("units", index, "calendar"), f"unknown calendar {unit.calendar!r}")
                )
            if unit.escalation_unit is not None and unit.escalation_unit not in units:
                reason = f"unknown unit {unit.escalation_unit!r}"
                problems.append((("units", index, "escalation_unit"), reason))
        problems += self.rule_problems(self.rules, taxonomy)
        topics = set(taxonomy.organisation(self.org).topic_keys)
        hazards = {rule.name for rule in HAZARD_RULES}
        for hazard, topic in self.hazard_topics.items():
            if hazard != "*" and hazard not in hazards:
                problems.append((("hazard_topics", hazard), f"unknown hazard {hazard!r}"))
            if topic not in topics:
                problems.append((("hazard_topics", hazard), f"unknown topic {topic!r}"))
        for index, policy in enumerate(self.sla_policies):
            at: tuple[str | int, ...] = ("sla_policies", index)
            if policy.calendar != UNIT_CALENDAR and policy.calendar not in calendars:
                problems.append(((*at, "calendar"), f"unknown calendar {policy.calendar!r}"))
            wanted = (
                ("topic", policy.topic, topics),
                ("category", policy.category, set(taxonomy.category_keys)),
                ("urgency", policy.urgency, set(URGENCIES)),
                ("tier", policy.tier, set(self.tiers)),
            )
            for field, value, allowed in wanted:
                if value is not None and value not in allowed:
                    problems.append(((*at, field), f"unknown {field} {value!r}"))
        return problems

    def rule_problems(
        self, rules: Sequence[Rule], taxonomy: Taxonomy, prefix: tuple[str | int, ...] = ("rules",)
    ) -> list[Problem]:
        """Return what is wrong with ``rules`` for this organisation."""
        return check_rules(
            rules,
            units={u.id for u in self.units},
            topics=set(taxonomy.organisation(self.org).topic_keys),
            categories=set(taxonomy.category_keys),
            tiers=set(self.tiers),
            places=self.places(),
            prefix=prefix,
        )


def load_org(
    org: str, config_dir: Path | None = None, taxonomy: Taxonomy | None = None
) -> OrgConfig:
    """Load and validate ``<config_dir>/<org>.yaml``; raise ``ConfigError`` naming lines.

    The folder is ``VOCDESK_CONFIG_DIR``'s, else the packaged demo organisations.
    """
    path = org_path(org, config_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"organisation config {path}: {exc}") from exc
    return parse_org(text, source=str(path), taxonomy=taxonomy or load_taxonomy())


def parse_org(text: str, *, source: str, taxonomy: Taxonomy) -> OrgConfig:
    """Validate an organisation's YAML text; raise ``ConfigError`` with every line and reason."""
    try:
        located = yaml_lines.parse(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    try:
        config = OrgConfig.model_validate(located.data)
    except ValidationError as exc:
        problems = yaml_lines.validation_problems(exc)
        raise ConfigError(yaml_lines.describe(problems, source=source, located=located)) from exc
    problems = config.problems(taxonomy)
    if problems:
        raise ConfigError(yaml_lines.describe(problems, source=source, located=located))
    return config


def parse_rules(config: OrgConfig, body: bytes, *, taxonomy: Taxonomy) -> list[Rule]:
    """Validate a rule set sent as YAML or JSON (``{"rules": [...]}``); raise ``Invalid``."""
    source = "rules"
    located: yaml_lines.Located | None = None
    try:
        # JSON is YAML, so one parser serves both and still knows the lines.
        located = yaml_lines.parse(body.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise Invalid(f"{source}: not valid YAML or JSON: {exc}", field="rules") from exc
    data = located.data
    raw = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise Invalid('the body must be a mapping with a "rules" list', field="rules")
    try:
        rules = rules_from(raw)
    except ValidationError as exc:
        problems = yaml_lines.validation_problems(exc, prefix=("rules",))
        reason = yaml_lines.describe(problems, source=source, located=located)
        raise Invalid(reason, field="rules") from exc
    problems = config.rule_problems(rules, taxonomy)
    if problems:
        raise Invalid(yaml_lines.describe(problems, source=source, located=located), field="rules")
    return rules
