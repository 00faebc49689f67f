"""Inside a unit: pull, round robin and least loaded, within each member's capacity."""

from __future__ import annotations

from typing import Any

from services.routing.assignment.strategies import has_room, pick_member
from services.routing.org.config import Unit


def unit(strategy: str, *, capacity: int = 3, **extra: Any) -> Unit:
    """Return a unit of three members using ``strategy``."""
    fields: dict[str, Any] = {
        "id": "u",
        "name": "หน่วยทดสอบ",
        "kind": "branch",
        "calendar": "c",
        "assignment": strategy,
        "capacity": capacity,
        "members": ["anan", "boon", "chai"],
    }
    return Unit.model_validate(fields | extra)


def test_least_loaded_gives_the_case_to_whoever_holds_the_fewest() -> None:
    picked = pick_member(
        unit("least_loaded"), loads={"anan": 2, "boon": 1, "chai": 1}, offline=set()
    )

    assert picked == "boon"  # boon and chai tie; the unit's order breaks it


def test_least_loaded_skips_members_who_are_offline() -> None:
    picked = pick_member(unit("least_loaded"), loads={"anan": 2}, offline={"boon", "chai"})

    assert picked == "anan"


def test_round_robin_takes_turns_and_skips_anyone_full_or_offline() -> None:
    team = unit("round_robin", capacity=2)
    loads = {"boon": 2}

    turns = [pick_member(team, loads=loads, offline={"chai"}, ticket=t) for t in range(4)]

    assert turns == ["anan", "anan", "anan", "anan"]
    assert [pick_member(team, loads={}, offline=set(), ticket=t) for t in range(4)] == [
        "anan",
        "boon",
        "chai",
        "anan",
    ]


def test_nobody_gets_a_case_when_everyone_is_at_capacity() -> None:
    full = {"anan": 3, "boon": 3, "chai": 3}

    assert pick_member(unit("least_loaded"), loads=full, offline=set()) is None
    assert pick_member(unit("round_robin"), loads=full, offline=set(), ticket=1) is None


def test_a_pull_unit_never_pushes_cases() -> None:
    assert pick_member(unit("pull"), loads={}, offline=set()) is None


def test_a_members_own_capacity_overrides_the_units() -> None:
    team = unit("least_loaded", capacity=5, members=[{"user": "anan", "capacity": 1}, "boon"])

    assert not has_room(team, "anan", loads={"anan": 1})
    assert has_room(team, "boon", loads={"boon": 4})
    assert not has_room(team, "stranger", loads={})
    assert pick_member(team, loads={"anan": 1, "boon": 4}, offline=set()) == "boon"
