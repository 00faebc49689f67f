"""An app contact travels intake → privacy → routing → console, as separate processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.ids import new_id
from tests.support.cluster import APP_KEY, Cluster, running_cluster

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(mongo_url, Path(tmp_path_factory.mktemp("cluster"))) as running:
        yield running


def _post_contact(cluster: Cluster, body: dict[str, object], key: str) -> httpx.Response:
    return httpx.post(
        cluster.url("intake") + "/v1/app/contacts",
        json=body,
        headers={"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": key},
        timeout=10,
    )


def _find_case(cluster: Cluster, token: str, marker: str, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(
            cluster.url("console") + "/api/v1/cases",
            params={"q": marker},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        response.raise_for_status()
        items = response.json()["items"]
        if items:
            return dict(items[0])
        time.sleep(0.3)
    raise AssertionError(f"no case for {marker}\n{cluster.logs()[-4000:]}")


def test_app_contact_becomes_a_case_listed_by_the_console(cluster: Cluster) -> None:
    marker = f"M{new_id()[-10:]}"
    body = {
        "app_user_id": f"u-{marker}",
        "text": f"ไฟดับทั้งซอย ตั้งแต่ 2 ทุ่ม รหัส {marker} ติดต่อ 081-245-7730",
        "locale": "th-TH",
        "consent_to_disclose": False,
        "customer": {"name": "สมหญิง ทดสอบ", "phone": "0812457730", "email": "somying@example.com"},
    }
    answer = _post_contact(cluster, body, key=new_id())
    assert answer.status_code == 202, answer.text
    contact_id = answer.json()["id"]

    case = _find_case(cluster, cluster.admin_token(), marker)
    assert str(case["number"]).startswith("VOC-")
    assert case["status"] == "routed"
    assert case["unit"] == "pea-triage"
    assert case["channels"] == ["app"]
    assert case["consent"] == "withheld"
    contacts = case["contacts"]
    assert isinstance(contacts, list)
    assert contacts[0]["id"] == contact_id
    assert "081-245-7730" not in contacts[0]["text"]  # masked on the way through privacy
    for field in (
        "id",
        "number",
        "status",
        "category",
        "topic",
        "urgency",
        "unit",
        "sla",
        "created_at",
        "updated_at",
    ):
        assert field in case


def test_retried_app_contact_with_same_key_is_one_contact(cluster: Cluster) -> None:
    marker = f"R{new_id()[-10:]}"
    body = {
        "app_user_id": f"u-{marker}",
        "text": f"มิเตอร์หมุนเร็วผิดปกติ {marker}",
        "locale": "th-TH",
        "consent_to_disclose": True,
        "customer": {},
    }
    key = new_id()
    first = _post_contact(cluster, body, key)
    second = _post_contact(cluster, body, key)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    changed = _post_contact(cluster, {**body, "text": "อื่น"}, key)
    assert changed.status_code == 409
    _find_case(cluster, cluster.admin_token(), marker)


def test_every_service_reports_its_consumers_ready(cluster: Cluster) -> None:
    for service in ("privacy", "routing", "notify", "console"):
        report = httpx.get(cluster.url(service) + "/readyz", timeout=5).json()
        assert report["ready"] is True
        assert report["bus"]["kind"] == "rabbitmq"
        assert all(count > 0 for count in report["bus"]["consumers"].values())
