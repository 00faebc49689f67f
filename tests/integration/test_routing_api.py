"""Routing's internal API on the real store: roles, closing, corrections, units, admin rules."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.clock import BANGKOK, FrozenClock
from shared.store import Store
from tests.support.routing import Service, case_of, deliver, running_service, screened

pytestmark = pytest.mark.integration

MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)


@pytest.fixture
async def service(mongo_url: str, store: Store, tmp_path: Path) -> AsyncIterator[Service]:
    clock = FrozenClock(MORNING)
    async with running_service(mongo_url, store.db.name, clock=clock, tmp_path=tmp_path) as running:
        yield running


async def new_case(service: Service, text: str, **overrides: Any) -> dict[str, Any]:
    """Deliver a screened contact and return its case as an agent sees it."""
    clock = service.routing.runtime.clock
    assert isinstance(clock, FrozenClock)
    message = screened(clock, text=text, **overrides)
    await deliver(service.routing, message)
    case = await case_of(service.routing, message.contact_id)
    return dict((await service.call("GET", f"/cases/{case.id}", role="agent")).json())


async def act(
    service: Service,
    case: dict[str, Any],
    action: str,
    body: dict[str, Any] | None = None,
    /,
    **who: Any,
) -> Any:
    """POST a case action."""
    return await service.call("POST", f"/cases/{case['id']}/{action}", json=body or {}, **who)


async def test_a_unit_member_sees_and_works_only_their_own_units_cases(service: Service) -> None:
    billing = await new_case(service, "ค่าไฟเดือนนี้แพงผิดปกติ")
    member = {"role": "unit_member", "user": "billing.orawan", "unit": "pea-billing"}
    outsider = {"role": "unit_member", "user": "cmi.somchai", "unit": "pea-chiangmai"}

    assert (await service.call("GET", f"/cases/{billing['id']}", **outsider)).status_code == 404
    assert (await act(service, billing, "acknowledge", **outsider)).status_code == 404
    listed = await service.call("GET", "/cases", params={"unit": "pea-billing"}, **outsider)
    assert listed.json()["items"] == []

    acknowledged = await act(service, billing, "acknowledge", **member)
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["status"] == "acknowledged"
    assert acknowledged.json()["sla"]["met"]["unit_ack"]


@pytest.mark.parametrize(
    ("method", "path", "body", "who"),
    [
        ("POST", "/cases/{id}/acknowledge", {}, {"role": "manager"}),
        ("POST", "/cases/{id}/certify-closure", {}, {"role": "agent"}),
        ("POST", "/cases/{id}/resolve", {"summary": "x"}, {"role": "dpo"}),
        ("POST", "/cases/{id}/acknowledge", {}, {"role": "unit_member"}),
        ("PUT", "/admin/rules", {"rules": []}, {"role": "supervisor"}),
        ("GET", "/callbacks", None, {"role": "unit_member", "unit": "pea-billing"}),
    ],
)
async def test_roles_that_may_not_do_something_are_refused(
    service: Service, method: str, path: str, body: Any, who: dict[str, str]
) -> None:
    case = await new_case(service, "ค่าไฟแพง")

    answer = await service.call(method, path.format(id=case["id"]), json=body, **who)

    assert answer.status_code == 403, answer.text


async def test_the_customers_rating_closes_the_case_with_a_closure_record(service: Service) -> None:
    case = await new_case(service, "ค่าไฟแพง")
    await act(service, case, "resolve", {"summary": "คืนเงินส่วนต่างแล้ว"}, role="agent")

    rated = await act(
        service,
        case,
        "satisfaction",
        {"score": 4, "comment": "ดี", "channel": "sms"},
        role="notify",
        user="notify",
    )

    assert rated.status_code == 200, rated.text
    closed = rated.json()
    assert closed["status"] == "closed"
    closure = closed["closure"]
    assert (closure["score"], closure["comment"], closure["channel"]) == (4, "ดี", "sms")
    assert closure["on_behalf"] is False
    assert closure["certified_by"] is None
    assert closure["acknowledged_at"].startswith("2026-12-01T02:00")


async def test_a_low_rating_reopens_the_case_to_the_units_supervisor(service: Service) -> None:
    case = await new_case(service, "ค่าไฟแพง")
    await act(service, case, "resolve", {"summary": "ตรวจแล้วถูกต้อง"}, role="agent")

    rated = await act(service, case, "satisfaction", {"score": 1, "channel": "line"}, role="notify")

    reopened = rated.json()
    assert reopened["status"] == "in_progress"
    assert reopened["assignee"] == "billing.sup.pimchanok"
    last = reopened["timeline"][-1]
    assert last["type"] == "case.reopened"
    assert last["detail"]["to"] == {"role": "supervisor", "user": "billing.sup.pimchanok"}
    assert reopened["closure"]["score"] == 1


async def test_an_acknowledgement_on_the_customers_behalf_closes_only_when_certified(
    service: Service,
) -> None:
    case = await new_case(service, "ค่าไฟแพง")
    await act(service, case, "resolve", {"summary": "done"}, role="agent")

    recorded = await act(
        service,
        case,
        "acknowledge-on-behalf",
        {"channel": "phone", "note": "ลูกค้ารับทราบผลทางโทรศัพท์"},
        role="agent",
        user="cc.prasert",
    )
    assert recorded.json()["status"] == "resolved"
    assert recorded.json()["pending_closure"]["on_behalf"] is True
    refused = await act(service, case, "certify-closure", role="agent", user="cc.somsak")
    assert refused.status_code == 403

    certified = await act(service, case, "certify-closure", role="supervisor", user="cc.sup.wanida")

    assert certified.status_code == 200, certified.text
    closure = certified.json()["closure"]
    assert certified.json()["status"] == "closed"
    assert (closure["on_behalf"], closure["certified_by"]) == (True, "cc.sup.wanida")
    assert closure["channel"] == "phone"


async def test_correcting_the_topic_records_a_labelled_example(
    service: Service, tmp_path: Path
) -> None:
    case = await new_case(service, "มิเตอร์ไม่หมุนแต่บิลขึ้น")

    answer = await service.call(
        "PATCH",
        f"/cases/{case['id']}",
        json={"topic": "billing", "status": "in_progress"},
        role="agent",
        user="triage.malee",
    )

    assert answer.status_code == 200, answer.text
    assert (answer.json()["topic"], answer.json()["status"]) == ("billing", "in_progress")
    [line] = (tmp_path / "var" / "labels" / "pea.jsonl").read_text(encoding="utf-8").splitlines()
    example = json.loads(line)
    assert (example["topic"], example["org"]) == ("billing", "pea")
    assert example["text"] == "มิเตอร์ไม่หมุนแต่บิลขึ้น"
    bad = await service.call("PATCH", f"/cases/{case['id']}", json={"topic": "x"}, role="agent")
    assert bad.status_code == 422


async def test_asking_the_customer_pauses_the_sla_and_replies_leave_through_the_outbox(
    service: Service,
) -> None:
    case = await new_case(service, "ค่าไฟแพง")

    asked = await act(service, case, "request-info", {"question": "ขอเลขผู้ใช้ไฟฟ้า"}, role="agent")
    replied = await act(service, case, "replies", {"text": "ได้รับข้อมูลแล้วค่ะ"}, role="agent")
    await service.routing.relay.relay_once()

    assert asked.json()["status"] == "pending_customer"
    assert asked.json()["sla"]["paused"] is True
    assert asked.json()["sla"]["next_due"] is None
    assert replied.status_code == 202
    sent = [e for e in service.bus.published if e.type == "reply.requested"]
    assert [e.data["text"] for e in sent] == ["ได้รับข้อมูลแล้วค่ะ"]
    assert sent[0].data["request_id"] == replied.json()["request_id"]


async def test_a_member_going_offline_hands_back_cases_they_have_not_started(
    service: Service,
) -> None:
    cases = [await new_case(service, f"ไฟดับ อ.สันทราย หมู่ {n}") for n in range(4)]
    assert [c["assignee"] for c in cases] == [
        "cmi.somchai",
        "cmi.rungnapa",
        "cmi.tawan",
        "cmi.somchai",
    ]
    started = await service.call(
        "PATCH",
        f"/cases/{cases[0]['id']}",
        json={"status": "in_progress"},
        role="unit_member",
        user="cmi.somchai",
        unit="pea-chiangmai",
    )
    assert started.status_code == 200

    gone = await service.call(
        "POST", "/units/pea-chiangmai/members/cmi.somchai/offline", role="supervisor"
    )

    assert gone.json()["returned"] == [cases[3]["id"]]
    after = (await service.call("GET", f"/cases/{cases[3]['id']}", role="agent")).json()
    assert after["assignee"] in ("cmi.rungnapa", "cmi.tawan")
    kept = (await service.call("GET", f"/cases/{cases[0]['id']}", role="agent")).json()
    assert kept["assignee"] == "cmi.somchai"  # already started: stays with them


async def test_a_member_of_a_pull_unit_takes_the_oldest_waiting_case(service: Service) -> None:
    older = await new_case(service, "ขอย้ายมิเตอร์ไปหน้าบ้าน")
    await new_case(service, "ขอเพิ่มขนาดมิเตอร์")
    assert older["unit"] == "pea-metering"
    assert older["assignee"] is None

    pulled = await service.call(
        "POST",
        "/units/pea-metering/pull",
        role="unit_member",
        user="meter.pairoj",
        unit="pea-metering",
    )

    assert pulled.json()["case"]["id"] == older["id"]
    assert pulled.json()["case"]["assignee"] == "meter.pairoj"


async def test_an_invalid_rule_set_is_refused_and_the_running_rules_stay(service: Service) -> None:
    before = (await service.call("GET", "/admin/rules", role="admin")).json()
    bad = b"rules:\n  - id: billing\n    when: {topic: [billing]}\n    unit: pea-nowhere\n"

    refused = await service.call(
        "PUT",
        "/admin/rules",
        content=bad,
        headers={"Content-Type": "application/yaml"},
        role="admin",
    )

    assert refused.status_code == 422
    assert "line 4: rules[0].unit: unknown unit 'pea-nowhere'" in refused.json()["reason"]
    assert (await service.call("GET", "/admin/rules", role="admin")).json() == before


async def test_a_valid_rule_set_routes_the_next_case(service: Service) -> None:
    rules = {
        "rules": [{"id": "all-billing-to-cc", "when": {"topic": ["billing"]}, "unit": "pea-cc"}]
    }

    saved = await service.call("PUT", "/admin/rules", json=rules, role="admin", user="root")
    case = await new_case(service, "ค่าไฟแพงขึ้นสองเท่า")

    assert saved.status_code == 200, saved.text
    assert (saved.json()["source"], saved.json()["updated_by"]) == ("admin", "root")
    assert case["unit"] == "pea-cc"
    reverted = await service.call("DELETE", "/admin/rules", role="admin")
    assert reverted.json()["source"] == "file"


async def test_the_callback_list_shows_abandoned_calls_oldest_first(service: Service) -> None:
    clock = service.routing.runtime.clock
    assert isinstance(clock, FrozenClock)
    first = screened(
        clock, channel="phone", flags=("abandoned",), meta={"callback_number_ref": "a"}
    )
    clock.advance(timedelta(minutes=5))
    second = screened(
        clock, channel="phone", flags=("abandoned",), meta={"callback_number_ref": "b"}
    )
    await deliver(service.routing, second)
    await deliver(service.routing, first)

    listed = await service.call("GET", "/callbacks", role="agent")

    assert [c["id"] for c in listed.json()["items"]] == [first.contact_id, second.contact_id]


async def test_a_change_based_on_a_stale_version_is_a_conflict(service: Service) -> None:
    case = await new_case(service, "ค่าไฟแพง")
    await act(service, case, "acknowledge", role="agent")

    stale = await act(
        service,
        case,
        "resolve",
        {"summary": "x"},
        role="agent",
        headers={"If-Match": str(case["version"])},
    )

    assert stale.status_code == 409


async def test_every_json_route_documents_the_fields_it_answers(service: Service) -> None:
    document = (await service.http.get("/openapi.json")).json()

    def resolved(schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref", "")
        return document["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema

    def has_fields(schema: dict[str, Any]) -> bool:
        if "anyOf" in schema:
            return all(has_fields(choice) for choice in schema["anyOf"])
        if schema.get("type") == "array":
            return has_fields(schema.get("items", {}))
        return bool(resolved(schema).get("properties"))

    answers = {
        f"{method.upper()} {path}": (response.get("content") or {})["application/json"]
        for path, operations in document["paths"].items()
        if path.startswith("/internal/v1/")
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith("2") and "application/json" in (response.get("content") or {})
    }
    assert len(answers) == 39
    undocumented = [route for route, body in answers.items() if not has_fields(body["schema"])]
    assert undocumented == []
