"""Routing rules and the organisations' configuration: matching, areas, validation with lines."""

from __future__ import annotations

from functools import cache

import pytest

from services.routing.assignment.areas import Gazetteer
from services.routing.assignment.rules import Area, Facts, Rule, choose_unit
from services.routing.classification.taxonomy import load_taxonomy
from services.routing.org.config import OrgConfig, load_org, parse_org, parse_rules
from shared.errors import ConfigError, Invalid
from shared.org_files import PACKAGED
from tests.support.messages import screened_message

CONFIG = PACKAGED


@cache
def org(name: str) -> OrgConfig:
    """Return a demo organisation."""
    return load_org(name)


def facts(**overrides: object) -> Facts:
    """Return routing facts for a normal Thai complaint on LINE."""
    fields: dict[str, object] = {
        "topic": "other",
        "category": "complaint",
        "urgency": "normal",
        "channel": "line",
        "tier": "standard",
        "language": "th",
        "area": Area(),
    }
    return Facts(**(fields | overrides))  # type: ignore[arg-type]


def route(name: str, **overrides: object) -> str:
    """Return the unit a demo organisation's rules pick."""
    config = org(name)
    choice = choose_unit(
        config.rules,
        facts(**overrides),
        area_unit=config.unit_for_area,
        fallback=config.fallback_unit,
    )
    return choice.unit


def test_the_first_matching_rule_wins() -> None:
    rules = [
        Rule(id="a", when={"topic": ["billing"]}, unit="u1"),
        Rule(id="b", when={"topic": "billing"}, unit="u2"),
    ]

    choice = choose_unit(rules, facts(topic="billing"), area_unit=lambda _: None, fallback="f")

    assert (choice.unit, choice.rule) == ("u1", "a")


def test_an_area_rule_with_no_office_for_the_area_falls_through_to_the_next_rule() -> None:
    rules = [
        Rule(id="local", when={"topic": ["outage"]}, unit="@area"),
        Rule(id="central", when={"topic": ["outage"]}, unit="netops"),
    ]

    choice = choose_unit(rules, facts(topic="outage"), area_unit=lambda _: None, fallback="f")

    assert choice.unit == "netops"


def test_a_case_no_rule_matches_goes_to_the_fallback_unit() -> None:
    choice = choose_unit([], facts(), area_unit=lambda _: None, fallback="pea-triage")

    assert (choice.unit, choice.rule, choice.reason) == ("pea-triage", None, "fallback unit")


@pytest.mark.parametrize(
    ("case", "unit"),
    [
        ({"topic": "hazard", "area": Area("เชียงใหม่", "สันทราย")}, "pea-chiangmai"),
        ({"topic": "hazard"}, "pea-netops"),
        ({"topic": "outage", "area": Area(district="ปากช่อง")}, "pea-nakhonratchasima"),
        ({"topic": "outage", "area": Area(province="ลำพูน")}, "pea-region-north"),
        ({"topic": "outage", "area": Area(branch_code="B1104")}, "pea-chiangmai"),
        ({"topic": "outage"}, "pea-triage"),
        ({"topic": "outage", "urgency": "urgent"}, "pea-netops"),
        ({"topic": "billing", "area": Area(province="เชียงใหม่")}, "pea-billing"),
        ({"topic": "outage", "tier": "key_account"}, "pea-key-accounts"),
        ({"topic": "meter"}, "pea-metering"),
        ({"topic": "staff_conduct"}, "pea-customer-relations"),
        ({"topic": "other", "category": "inquiry"}, "pea-cc"),
        ({"topic": "other"}, "pea-triage"),
    ],
)
def test_the_electricity_distributor_routes_each_kind_of_case_to_its_unit(
    case: dict[str, object], unit: str
) -> None:
    assert route("pea", **case) == unit


@pytest.mark.parametrize(
    ("case", "unit"),
    [
        ({"topic": "lpg", "urgency": "urgent"}, "or-lpg"),
        ({"topic": "station_service", "area": Area(province="ชลบุรี")}, "or-stations-central"),
        ({"topic": "station_service"}, "or-triage"),
        ({"topic": "fuel_quality", "tier": "fleet"}, "or-key-accounts"),
        ({"topic": "app_payment"}, "or-app"),
        ({"topic": "loyalty"}, "or-loyalty"),
    ],
)
def test_the_oil_retailer_routes_each_kind_of_case_to_its_unit(
    case: dict[str, object], unit: str
) -> None:
    assert route("or", **case) == unit


def test_hazards_and_urgent_cases_run_on_a_24x7_clock() -> None:
    policies = {p.id: p for p in org("pea").sla_policies}

    assert policies["hazard"].calendar == "pea-24x7"
    assert policies["hazard"].targets["unit_ack"].total_seconds() == 15 * 60
    assert policies["billing"].calendar == "@unit"


def test_the_area_comes_from_the_branch_or_from_places_named_in_the_text() -> None:
    places = Gazetteer(org("pea"))

    named = places.area_of(screened_message(text="ไฟดับทั้งหมู่บ้าน อ.สันทราย"))
    walk_in = places.area_of(screened_message(channel="walk_in", meta={"branch_code": "B0302"}))
    nowhere = places.area_of(screened_message(text="ไฟดับทั้งซอย"))

    assert (named.province, named.district) == ("เชียงใหม่", "สันทราย")
    assert walk_in.branch_code == "B0302"
    assert not nowhere.known()


def test_a_short_place_name_counts_only_after_its_prefix() -> None:
    places = Gazetteer(org("or"))

    assert places.area_of(screened_message(text="ปั๊มที่ จ.ตาก ห้องน้ำสกปรก")).province == "ตาก"
    assert places.area_of(screened_message(text="ตากผ้าไว้แล้วน้ำมันกระเด็น")).province is None


def test_both_demo_organisations_load() -> None:
    for name in ("pea", "or"):
        config = org(name)
        assert config.unit(config.fallback_unit) is not None
        assert {u.kind for u in config.units} >= {"triage", "department", "key_account"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("unit: pea-billing", "unit: pea-bill"), "rules[6].unit: unknown unit 'pea-bill'"),
        (("when: {topic: [billing]}", "when: {topic: [bill]}"), "unknown topic 'bill'"),
        (
            (
                "calendar: pea-office-north\n    assignment: round_robin",
                "calendar: nowhere\n    assignment: round_robin",
            ),
            "calendar: unknown calendar 'nowhere'",
        ),
        (("assignment: pull", "assignment: random"), "Input should be 'pull'"),
        (('{"*": hazard}', '{"*": danger}'), "hazard_topics.*: unknown topic 'danger'"),
        (('{"*": hazard}', "{meteor: hazard}"), "hazard_topics.meteor: unknown hazard 'meteor'"),
    ],
)
def test_an_invalid_organisation_file_is_refused_with_the_line_and_reason(
    change: tuple[str, str], message: str
) -> None:
    text = (CONFIG / "pea.yaml").read_text(encoding="utf-8")
    broken = text.replace(*change, 1)
    line = text[: text.index(change[0])].count("\n") + 1

    with pytest.raises(ConfigError) as refused:
        parse_org(broken, source="pea.yaml", taxonomy=load_taxonomy())

    assert message in str(refused.value)
    assert f"pea.yaml line {line}:" in str(refused.value)


def test_a_rule_set_in_yaml_is_refused_naming_each_bad_line() -> None:
    body = (
        b"rules:\n"
        b"  - id: ok\n"
        b"    unit: pea-billing\n"
        b"  - id: bad\n"
        b"    when: {topic: [nope]}\n"
        b"    unit: pea-x\n"
    )

    with pytest.raises(Invalid) as refused:
        parse_rules(org("pea"), body, taxonomy=load_taxonomy())

    assert "rules line 6: rules[1].unit: unknown unit 'pea-x'" in refused.value.reason
    assert "rules line 5: rules[1].when.topic: unknown topic 'nope'" in refused.value.reason


def test_a_valid_rule_set_in_json_is_accepted() -> None:
    body = b'{"rules": [{"id": "all-billing", "when": {"topic": ["billing"]}, "unit": "pea-cc"}]}'

    rules = parse_rules(org("pea"), body, taxonomy=load_taxonomy())

    assert [r.unit for r in rules] == ["pea-cc"]
