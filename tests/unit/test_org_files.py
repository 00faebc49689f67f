"""Organisations are read from one folder: VOCDESK_CONFIG_DIR, else the packaged demo ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.intake.phone_channel import hotline_orgs
from services.notify.directory import OrgDirectory
from services.routing.org import load_org
from shared.errors import ConfigError
from shared.org_files import PACKAGED, config_dir, org_path


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
