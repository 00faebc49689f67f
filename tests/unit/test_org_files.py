"""Organisations are read from one folder: VOCDESK_CONFIG_DIR, else the packaged demo ones."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.intake.channels.phone.channel import hotline_orgs
from services.notify.directory import OrgDirectory
from services.routing.classification.taxonomy import load_taxonomy
from services.routing.org.config import load_org
from shared.errors import ConfigError
from shared.messages import ContactScreened
from shared.org_files import PACKAGED, config_dir, known_orgs, org_path
from shared.settings import Settings
from tests.conftest import FIXTURES
from tests.support.messages import screened_message


@pytest.fixture
def own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    text = (PACKAGED / "pea.yaml").read_text(encoding="utf-8")
    text = text.replace('hotline: "1129"', 'hotline: "1912"').replace(
        "name: การไฟฟ้าส่วนภูมิภาค (สาธิต)", "name: การไฟฟ้าทดสอบ"
    )
    (tmp_path / "pea.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("VOCDESK_CONFIG_DIR", str(tmp_path))
    hotline_orgs.cache_clear()
    yield tmp_path
    hotline_orgs.cache_clear()


def test_without_a_folder_the_packaged_demo_organisations_are_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VOCDESK_CONFIG_DIR", raising=False)
    assert config_dir() == PACKAGED
    assert PACKAGED.parent.name == "shared"  # inside the package: installed wheels carry it
    assert load_org("pea").org == "pea"
    assert load_org("or").org == "or"


def test_every_service_reads_the_folder_vocdesk_config_dir_names(own_folder: Path) -> None:
    assert config_dir() == own_folder
    assert load_org("pea").hotline == "1912"
    assert OrgDirectory().facts("pea")["name"] == "การไฟฟ้าทดสอบ"
    assert hotline_orgs() == {"1912": "pea"}
    with pytest.raises(ConfigError, match=r"or\.yaml"):
        load_org("or")  # not in this folder


@pytest.mark.parametrize("org", ["../pea", "PEA", "", "pea/../../etc", "a" * 41])
def test_an_organisation_id_that_is_not_a_plain_name_never_becomes_a_path(org: str) -> None:
    with pytest.raises(ConfigError, match="lower-case name"):
        org_path(org)


def test_the_known_organisations_are_the_files_in_the_folder(own_folder: Path) -> None:
    (own_folder / "notes.txt").write_text("not an organisation", encoding="utf-8")
    (own_folder / "Draft Copy.yaml").write_text("org: draft", encoding="utf-8")
    assert known_orgs() == ("pea",)
    assert known_orgs(PACKAGED) == ("or", "pea")


@pytest.mark.parametrize("org", ["../pea", "PEA", "pea/x", "1pea"])
def test_settings_refuse_an_organisation_id_that_is_not_a_plain_name(org: str) -> None:
    with pytest.raises(ConfigError, match=rf"{re.escape(repr(org))} is not a lower-case name"):
        Settings(env="test", org=org)


def test_settings_refuse_an_organisation_without_a_file(own_folder: Path) -> None:
    with pytest.raises(ConfigError, match=r"VOCDESK_ORG='or' has no organisation file .*: pea$"):
        Settings(env="test", org="or")


@pytest.mark.parametrize("org", ["pea", "or", "egat"])
def test_a_message_of_any_plainly_named_organisation_is_well_formed(org: str) -> None:
    message = screened_message(org=org)
    assert ContactScreened.model_validate_json(message.model_dump_json()).org == org


@pytest.mark.parametrize("org", ["PEA", "../pea", "", "pea or"])
def test_a_message_whose_organisation_is_not_a_plain_name_is_refused(org: str) -> None:
    with pytest.raises(ValidationError, match="org"):
        screened_message(org=org)


def test_an_organisation_file_may_bring_its_own_topics(own_folder: Path) -> None:
    shutil.copy(FIXTURES / "orgs" / "pwa.yaml", own_folder / "pwa.yaml")
    taxonomy = load_taxonomy()
    assert taxonomy.organisation("pwa").topic_keys == ("meter", "other")
    assert "outage" in taxonomy.organisation("pea").topic_keys  # the seed's, untouched
    assert load_org("pwa").units[1].id == "pwa-meters"


def test_an_organisations_malformed_topics_are_refused_naming_its_file(own_folder: Path) -> None:
    (own_folder / "pwa.yaml").write_text("org: pwa\ntaxonomy: {topics: {}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"pwa\.yaml: taxonomy is malformed"):
        load_taxonomy()
