"""Routing rules: ordered conditions on what a case is and where it comes from, picking a unit.

Pure: no I/O. A rule names a unit, or ``@area`` for the office that serves the
case's area; a rule whose ``@area`` finds no office is skipped, so the next
rule (typically a central desk) catches the case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.kinds import Urgency
from shared.messages.contacts import Channel

UNIT_BY_AREA = "@area"
URGENCIES: tuple[str, ...] = get_args(Urgency)
CHANNELS: tuple[str, ...] = get_args(Channel)
LANGUAGES = ("th", "en")
Problem = tuple[tuple[str | int, ...], str]


@dataclass(frozen=True)
class Area:
    """Where the case is: any of province, district, the branch the customer walked into."""

    province: str | None = None
    district: str | None = None
    branch_code: str | None = None

    def names(self) -> set[str]:
        """Return the place names a rule's ``area`` condition can match."""
        return {name for name in (self.province, self.district) if name}

    def known(self) -> bool:
        """Say whether anything about the area is known."""
        return bool(self.province or self.district or self.branch_code)


@dataclass(frozen=True)
class Facts:
    """What routing rules look at."""

    topic: str | None
    category: str | None
    urgency: str
    channel: str
    tier: str
    language: str
    area: Area = Area()


@dataclass(frozen=True)
class Choice:
    """The unit a case goes to and why."""

    unit: str
    rule: str | None
    reason: str


def _as_tuple(value: object) -> object:
    # YAML authors write a single value as a scalar; a rule reads a list.
    return (value,) if isinstance(value, str) else value


class When(BaseModel):
    """A rule's conditions: each names the values it accepts; an empty one accepts any."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    urgency: tuple[Urgency, ...] = ()
    area: tuple[str, ...] = ()
    channel: tuple[Channel, ...] = ()
    tier: tuple[str, ...] = ()
    language: tuple[Literal["th", "en"], ...] = ()

    _scalars = field_validator("*", mode="before")(_as_tuple)

    def accepts(self, facts: Facts) -> bool:
        """Say whether every condition accepts ``facts``."""
        checks: list[tuple[tuple[str, ...], set[str]]] = [
            (self.topic, {facts.topic} if facts.topic else set()),
            (self.category, {facts.category} if facts.category else set()),
            (self.urgency, {facts.urgency}),
            (self.area, facts.area.names()),
            (self.channel, {facts.channel}),
            (self.tier, {facts.tier}),
            (self.language, {facts.language}),
        ]
        return all(not wanted or set(wanted) & have for wanted, have in checks)


class Rule(BaseModel):
    """Send cases that ``when`` accepts to ``unit`` (a unit id, or ``@area``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=80)
    when: When = When()
    unit: str = Field(min_length=1)
    note: str | None = None


def choose_unit(
    rules: Iterable[Rule],
    facts: Facts,
    *,
    area_unit: Callable[[Area], str | None],
    fallback: str,
) -> Choice:
    """Return the unit of the first rule that matches, else ``fallback``."""
    for rule in rules:
        if not rule.when.accepts(facts):
            continue
        if rule.unit != UNIT_BY_AREA:
            return Choice(rule.unit, rule.id, f"rule {rule.id}")
        unit = area_unit(facts.area)
        if unit is not None:
            return Choice(unit, rule.id, f"rule {rule.id}: office of the area")
    return Choice(fallback, None, "fallback unit")


def check_rules(
    rules: Sequence[Rule],
    *,
    units: set[str],
    topics: set[str],
    categories: set[str],
    tiers: set[str],
    places: set[str],
    prefix: tuple[str | int, ...] = ("rules",),
) -> list[Problem]:
    """Return every reference in ``rules`` to something the organisation does not have."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        at = (*prefix, index)
        if rule.id in seen:
            problems.append(((*at, "id"), f"rule id {rule.id!r} is used twice"))
        seen.add(rule.id)
        if rule.unit != UNIT_BY_AREA and rule.unit not in units:
            problems.append(((*at, "unit"), f"unknown unit {rule.unit!r}"))
        known: list[tuple[str, tuple[str, ...], set[str]]] = [
            ("topic", rule.when.topic, topics),
            ("category", rule.when.category, categories),
            ("tier", rule.when.tier, tiers),
            ("area", rule.when.area, places),
        ]
        for field, values, allowed in known:
            for value in values:
                if value not in allowed:
                    problems.append(((*at, "when", field), f"unknown {field} {value!r}"))
    return problems


def rules_from(data: Any) -> list[Rule]:
    """Validate a list of rule mappings (raises pydantic's ``ValidationError``)."""
    from pydantic import TypeAdapter

    adapter: TypeAdapter[list[Rule]] = TypeAdapter(list[Rule])
    return adapter.validate_python(data)
