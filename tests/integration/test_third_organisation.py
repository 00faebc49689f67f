"""A third organisation is one more YAML file: settings, routing and intake serve it unchanged."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.console import reports
from services.intake.channels.phone.channel import hotline_orgs
from services.routing.reports.labels import check_lang, org_name
from shared.bus.inproc import InProcessBus
from shared.clock import BANGKOK, FrozenClock
from shared.org_files import known_orgs
from shared.settings import Settings
from shared.store import Store
from tests.conftest import FIXTURES
from tests.support.console_parts import console_parts
from tests.support.intake import running_intake
from tests.support.routing import case_of, deliver, running_service, screened

pytestmark = pytest.mark.integration

ORG = "pwa"
APP_KEY = "app-key-third-org"
MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A config folder holding only the third organisation's file."""
    orgs = tmp_path / "orgs"
    orgs.mkdir()
    shutil.copy(FIXTURES / "orgs" / f"{ORG}.yaml", orgs / f"{ORG}.yaml")
    monkeypatch.setenv("VOCDESK_CONFIG_DIR", str(orgs))
    hotline_orgs.cache_clear()
    yield orgs
    hotline_orgs.cache_clear()


def test_settings_serve_an_organisation_that_is_one_more_file(folder: Path) -> None:
    assert known_orgs() == (ORG,)
    assert Settings(env="test", org=ORG).org == ORG
    assert hotline_orgs() == {"1662": ORG}


def test_its_reports_read_its_own_language_and_name(folder: Path) -> None:
    assert check_lang(None, ORG) == "en"  # the file says language: en
    assert check_lang("th", ORG) == "th"
    assert org_name(ORG, "en") == "Test Waterworks"

    app = FastAPI()
    app.state.parts = console_parts(org=ORG)  # the page itself asks routing nothing
    app.include_router(reports.router)
    page = TestClient(app).get("/reports").text
    assert '<meta name="vocdesk-org-lang" content="en">' in page


async def test_routing_sends_its_contacts_to_its_own_units(
    folder: Path, mongo_url: str, store: Store, tmp_path: Path
) -> None:
    clock = FrozenClock(MORNING)
    async with running_service(
        mongo_url, store.db.name, clock=clock, tmp_path=tmp_path, org=ORG
    ) as service:
        meter = screened(clock, org=ORG, text="มิเตอร์น้ำหน้าบ้านรั่ว น้ำไหลตลอด")
        unsure = screened(clock, org=ORG, text="ไม่แน่ใจว่าต้องติดต่อที่ไหน")
        await deliver(service.routing, meter)
        await deliver(service.routing, unsure)

        routed = await case_of(service.routing, meter.contact_id)
        assert (routed.org, routed.topic, routed.unit) == (ORG, "meter", "pwa-meters")
        assert routed.assignee == "meter.dam"
        assert (await case_of(service.routing, unsure.contact_id)).unit == "pwa-triage"
        seen = await service.call("GET", f"/cases/{routed.id}", role="agent")
        assert seen.status_code == 200
        assert seen.json()["org"] == ORG


def test_intake_accepts_an_app_contact_for_it_and_refuses_an_org_it_does_not_serve(
    folder: Path, mongo_url: str, tmp_path: Path
) -> None:
    body = {"app_user_id": "u-3001", "text": "มิเตอร์น้ำรั่ว", "org": ORG}
    headers = {"Authorization": f"Bearer {APP_KEY}"}
    with running_intake(
        mongo_url, InProcessBus(), org=ORG, app_api_keys=[APP_KEY], data_dir=tmp_path / "var"
    ) as intake:
        accepted = intake.client.post(
            "/v1/app/contacts", json=body, headers={**headers, "Idempotency-Key": "k-1"}
        )
        refused = intake.client.post(
            "/v1/app/contacts",
            json={**body, "org": "egat"},
            headers={**headers, "Idempotency-Key": "k-2"},
        )

        assert accepted.status_code == 202
        assert [c.org for c in intake.published()] == [ORG]
        assert refused.status_code == 422
        assert "this install serves pwa, not 'egat'" in refused.text
