"""An app contact travels intake → privacy → routing → console, as separate processes."""

from __future__ import annotations

import httpx
import pytest

from shared.ids import new_id
from tests.support.app_client import find_case, post_app_contact
from tests.support.cluster import Cluster

pytestmark = pytest.mark.e2e


def test_app_contact_becomes_a_case_listed_by_the_console(cluster: Cluster) -> None:
    marker = f"M{new_id()[-10:]}"
    body = {
        "app_user_id": f"u-{marker}",
        "text": f"ไฟดับทั้งซอย ตั้งแต่ 2 ทุ่ม รหัส {marker} ติดต่อ 081-245-7730",
        "locale": "th-TH",
        "consent_to_disclose": False,
        "customer": {"name": "สมหญิง ทดสอบ", "phone": "0812457730", "email": "somying@example.com"},
    }
    answer = post_app_contact(cluster, body, key=new_id())
    assert answer.status_code == 202, answer.text
    contact_id = answer.json()["id"]

    case = find_case(cluster, cluster.admin_token(), marker)
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
    first = post_app_contact(cluster, body, key)
    second = post_app_contact(cluster, body, key)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    changed = post_app_contact(cluster, {**body, "text": "อื่น"}, key)
    assert changed.status_code == 409
    find_case(cluster, cluster.admin_token(), marker)


def test_every_service_reports_its_consumers_ready(cluster: Cluster) -> None:
    for service in ("privacy", "routing", "notify", "console"):
        report = httpx.get(cluster.url(service) + "/readyz", timeout=5).json()
        assert report["ready"] is True
        assert report["bus"]["kind"] == "rabbitmq"
        assert all(count > 0 for count in report["bus"]["consumers"].values())
