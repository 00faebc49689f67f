"""Routing administration at run time: holidays, unit members and SLA policies an admin changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.routing.sla.calendar import BusinessCalendar
from shared.clock import BANGKOK, FrozenClock
from shared.store import Store
from tests.support.routing import Service, case_of, deliver, running_service, screened

pytestmark = pytest.mark.integration

MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)  # a Tuesday
BILLING_TEXT = "ค่าไฟเดือนนี้แพงผิดปกติ"


@pytest.fixture
async def service(mongo_url: str, store: Store, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(
        mongo_url, store.db.name, clock=FrozenClock(MORNING), tmp_path=tmp_path
    ) as running:
        yield running


async def admin(service: Service, method: str, path: str, **kwargs: Any) -> Any:
    """Call the admin API as admin ``root``; return the answer."""
    return await service.call(method, "/admin" + path, role="admin", user="root", **kwargs)


async def new_case(service: Service, text: str = BILLING_TEXT) -> dict[str, Any]:
    """Deliver a screened contact now and return its case as an agent sees it."""
    clock = service.routing.runtime.clock
    assert isinstance(clock, FrozenClock)
    message = screened(clock, text=text)
    await deliver(service.routing, message)
    case = await case_of(service.routing, message.contact_id)
    return dict((await service.call("GET", f"/cases/{case.id}", role="agent")).json())


def due(case: dict[str, Any], target: str = "first_response") -> datetime:
    """Return the case's due time of ``target``."""
    return datetime.fromisoformat(case["sla"]["due"][target])


async def policy(service: Service, policy_id: str) -> dict[str, Any]:
    """Return the policy in force with ``policy_id``."""
    listed = (await admin(service, "GET", "/sla-policies")).json()["policies"]
    return next(p for p in listed if p["id"] == policy_id)


def unit_of(answer: dict[str, Any], unit_id: str) -> dict[str, Any]:
    """Return the unit ``unit_id`` of a GET /units answer."""
    return next(u for u in answer["units"] if u["id"] == unit_id)


async def test_an_adhoc_holiday_moves_a_new_cases_due_time_and_not_a_running_one(
    service: Service,
) -> None:
    before = await new_case(service)
    assert before["unit"] == "pea-billing"
    holiday = due(before).astimezone(BANGKOK).date()

    added = await admin(
        service, "PUT", f"/calendars/pea-office/holidays/{holiday}", json={"name": "วันหยุดพิเศษ"}
    )
    after = await new_case(service)

    assert added.status_code == 200, added.text
    assert [(h["date"], h["name"], h["by"]) for h in added.json()["adhoc"]] == [
        (str(holiday), "วันหยุดพิเศษ", "root")
    ]
    expected = BusinessCalendar(service.routing.org.business_calendars["pea-office"].spec)
    expected.add_holiday(holiday)
    target = timedelta(seconds=after["sla"]["targets"]["first_response"])
    assert due(after) == expected.add_business_time(MORNING, target)
    assert due(after).astimezone(BANGKOK).date() > holiday
    running = (await service.call("GET", f"/cases/{before['id']}", role="agent")).json()
    assert due(running) == due(before)


async def test_a_removed_holiday_no_longer_moves_due_times(service: Service) -> None:
    reference = await new_case(service)
    holiday = due(reference).astimezone(BANGKOK).date()
    path = f"/calendars/pea-office/holidays/{holiday}"
    await admin(service, "PUT", path, json={"name": "วันหยุดพิเศษ"})

    removed = await admin(service, "DELETE", path)
    again = await admin(service, "DELETE", path)
    case = await new_case(service)

    assert removed.status_code == 200, removed.text
    assert removed.json()["adhoc"] == []
    assert again.status_code == 404
    assert due(case) == due(reference)


async def test_calendars_list_the_files_holidays_apart_from_adhoc_ones(service: Service) -> None:
    await admin(
        service, "PUT", "/calendars/pea-office-north/holidays/2026-12-03", json={"name": "x"}
    )

    listed = (await admin(service, "GET", "/calendars")).json()["calendars"]

    north = next(c for c in listed if c["id"] == "pea-office-north")
    file_spec = service.routing.org.business_calendars["pea-office-north"].spec
    assert north["holidays"] == [str(d) for d in file_spec.holidays]
    assert [h["date"] for h in north["adhoc"]] == ["2026-12-03"]
    dumped = file_spec.model_dump(mode="json")
    assert {k: north[k] for k in ("kind", "public_holidays", "periods")} == {
        k: dumped[k] for k in ("kind", "public_holidays", "periods")
    }
    assert north["periods"]["mon"]  # the periods as the file writes them, HH:MM pairs


async def test_a_members_override_changes_who_dispatch_assigns(service: Service) -> None:
    set_ = await admin(
        service,
        "PUT",
        "/units/pea-billing/members",
        json={"members": [{"user": "billing.relief", "capacity": 1}], "capacity": 5},
    )
    first = await new_case(service)
    second = await new_case(service)
    reverted = await admin(service, "DELETE", "/units/pea-billing/members")
    third = await new_case(service)

    assert set_.status_code == 200, set_.text
    assert set_.json()["members"] == [{"user": "billing.relief", "capacity": 1}]
    assert (set_.json()["capacity"], set_.json()["overridden"]) == (5, True)
    assert first["assignee"] == "billing.relief"
    assert second["assignee"] is None  # billing.relief holds their one case
    billing = service.routing.org.unit("pea-billing")
    assert billing is not None
    file_members = [m.user for m in billing.members]
    assert reverted.json()["overridden"] is False
    assert [m["user"] for m in reverted.json()["members"]] == file_members
    assert third["assignee"] in file_members


async def test_a_pull_unit_lets_only_the_overridden_members_pull(service: Service) -> None:
    waiting = await new_case(service, "มิเตอร์หมุนเร็วผิดปกติ")
    assert waiting["unit"] == "pea-metering"
    await admin(
        service, "PUT", "/units/pea-metering/members", json={"members": [{"user": "meter.new"}]}
    )

    def pull(user: str) -> Any:
        return service.call(
            "POST", "/units/pea-metering/pull", role="unit_member", user=user, unit="pea-metering"
        )

    left = await pull("meter.pairoj")
    pulled = await pull("meter.new")

    assert left.status_code == 409
    assert pulled.status_code == 200, pulled.text
    assert pulled.json()["case"]["id"] == waiting["id"]


async def test_a_policy_override_changes_a_new_cases_targets_only(service: Service) -> None:
    running = await new_case(service)
    file_policy = await policy(service, "billing")
    body = {
        "topic": "billing",
        "calendar": "pea-24x7",
        "targets": {"first_response": "PT1H", "unit_ack": "PT2H", "resolution": "PT10H"},
        "escalation": [[0.5, "remind_assignee", "resolution"]],
    }

    saved = await admin(service, "PUT", "/sla-policies/billing", json=body)
    new = await new_case(service)

    assert saved.status_code == 200, saved.text
    assert saved.json()["overridden"] == ["billing"]
    assert {c["id"] for c in saved.json()["calendars"]} >= {"pea-office", "pea-24x7"}
    assert new["sla"]["targets"] == {
        "first_response": 3600.0,
        "unit_ack": 7200.0,
        "resolution": 36000.0,
    }
    assert new["sla"]["calendar"] == "pea-24x7"
    assert due(new) == MORNING + timedelta(hours=1)
    still = (await service.call("GET", f"/cases/{running['id']}", role="agent")).json()
    assert still["sla"]["targets"] == file_policy["targets"]

    reverted = await admin(service, "DELETE", "/sla-policies/billing")
    assert reverted.json()["overridden"] == []
    assert await policy(service, "billing") == file_policy
    assert (await new_case(service))["sla"]["targets"] == file_policy["targets"]


async def test_a_policy_with_a_new_id_is_added_after_the_files_and_removed_on_delete(
    service: Service,
) -> None:
    body = {
        "id": "billing-key-account",
        "topic": "billing",
        "tier": "key_account",
        "calendar": "@unit",
        "targets": {"resolution": "PT5H"},
    }

    added = await admin(service, "PUT", "/sla-policies/billing-key-account", json=body)
    removed = await admin(service, "DELETE", "/sla-policies/billing-key-account")

    assert added.status_code == 200, added.text
    ids = [p["id"] for p in added.json()["policies"]]
    assert ids[-1] == "billing-key-account"
    assert ids[:-1] == [p.id for p in service.routing.org.sla_policies]
    assert "billing-key-account" not in [p["id"] for p in removed.json()["policies"]]
    changes = (await admin(service, "GET", "/changes")).json()["items"]
    assert [(c["target"], c["action"]) for c in changes[:2]] == [
        ("billing-key-account", "delete"),
        ("billing-key-account", "put"),
    ]


async def test_changes_survive_a_restart_of_routing(
    service: Service, mongo_url: str, store: Store, tmp_path: Path
) -> None:
    await admin(service, "PUT", "/calendars/pea-office/holidays/2026-12-02", json={"name": "หยุด"})
    await admin(
        service, "PUT", "/units/pea-billing/members", json={"members": [{"user": "billing.relief"}]}
    )
    targets = {"first_response": "PT1H", "resolution": "PT9H"}
    await admin(
        service,
        "PUT",
        "/sla-policies/billing",
        json={"topic": "billing", "calendar": "pea-24x7", "targets": targets},
    )

    clock = FrozenClock(MORNING)
    async with running_service(mongo_url, store.db.name, clock=clock, tmp_path=tmp_path) as again:
        assert again.routing.org is not service.routing.org  # a fresh organisation, as on restart
        calendars = (await admin(again, "GET", "/calendars")).json()["calendars"]
        units = (await admin(again, "GET", "/units")).json()
        policies = (await admin(again, "GET", "/sla-policies")).json()
        case = await new_case(again)

    office = next(c for c in calendars if c["id"] == "pea-office")
    assert [h["date"] for h in office["adhoc"]] == ["2026-12-02"]
    assert again.routing.org.business_calendars["pea-office"].is_holiday(date(2026, 12, 2))
    assert unit_of(units, "pea-billing")["members"] == [
        {"user": "billing.relief", "capacity": None}
    ]
    assert policies["overridden"] == ["billing"]
    assert case["assignee"] == "billing.relief"
    assert case["sla"]["targets"] == {"first_response": 3600.0, "resolution": 32400.0}


async def test_another_replica_takes_changes_on_its_next_refresh(
    service: Service, mongo_url: str, store: Store, tmp_path: Path
) -> None:
    clock = FrozenClock(MORNING)
    async with running_service(mongo_url, store.db.name, clock=clock, tmp_path=tmp_path) as other:
        await admin(
            service,
            "PUT",
            "/units/pea-billing/members",
            json={"members": [{"user": "billing.relief"}]},
        )
        await admin(
            service, "PUT", "/calendars/pea-office/holidays/2026-12-03", json={"name": "หยุด"}
        )

        await other.routing.admin.refresh()
        closed = other.routing.org.business_calendars["pea-office"].is_holiday(date(2026, 12, 3))
        case = await new_case(other)

        await admin(service, "DELETE", "/calendars/pea-office/holidays/2026-12-03")
        await other.routing.admin.refresh()
        reopened = not other.routing.org.business_calendars["pea-office"].is_holiday(
            date(2026, 12, 3)
        )

    assert closed
    assert case["assignee"] == "billing.relief"
    assert reopened


FUTURE = "2026-12-03"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("PUT", f"/calendars/pea-24x7/holidays/{FUTURE}", {"name": "x"}, 422, "calendar_id"),
        ("PUT", f"/calendars/pea-nowhere/holidays/{FUTURE}", {"name": "x"}, 404, None),
        ("PUT", "/calendars/pea-office/holidays/2026-11-30", {"name": "x"}, 422, "date"),
        ("PUT", "/calendars/pea-office/holidays/2026-02-30", {"name": "x"}, 422, "date"),
        ("PUT", "/calendars/pea-office/holidays/3.12.2026", {"name": "x"}, 422, "date"),
        ("PUT", "/calendars/pea-office/holidays/2031-01-02", {"name": "x"}, 422, "date"),
        # 5 December is a Thai public holiday already.
        ("PUT", "/calendars/pea-office/holidays/2026-12-05", {"name": "x"}, 422, "date"),
        ("PUT", f"/calendars/pea-office/holidays/{FUTURE}", {"name": " "}, 422, "name"),
        ("PUT", f"/calendars/pea-office/holidays/{FUTURE}", {"name": "x" * 121}, 422, "name"),
        ("PUT", f"/calendars/pea-office/holidays/{FUTURE}", {"name": "x", "by": "y"}, 422, "by"),
        ("PUT", f"/calendars/pea-office/holidays/{FUTURE}", ["x"], 422, "body"),
        ("DELETE", f"/calendars/pea-office/holidays/{FUTURE}", None, 404, None),
        ("PUT", "/units/pea-nowhere/members", {"members": []}, 404, None),
        ("DELETE", "/units/pea-nowhere/members", None, 404, None),
        (
            "PUT",
            "/units/pea-billing/members",
            {"members": [{"user": "Billing A"}]},
            422,
            "members.0.user",
        ),
        (
            "PUT",
            "/units/pea-billing/members",
            {"members": [{"user": "a.b"}, {"user": "a.b"}]},
            422,
            "members",
        ),
        (
            "PUT",
            "/units/pea-billing/members",
            {"members": [{"user": f"u{i}"} for i in range(201)]},
            422,
            "members",
        ),
        ("PUT", "/units/pea-billing/members", {"members": [], "capacity": 0}, 422, "capacity"),
        ("PUT", "/units/pea-billing/members", {"members": [], "capacity": "5"}, 422, "capacity"),
        (
            "PUT",
            "/units/pea-billing/members",
            {"members": [{"user": "a.b", "capacity": 1.5}]},
            422,
            "members.0.capacity",
        ),
        ("PUT", "/units/pea-billing/members", {}, 422, "members"),
        ("PUT", "/sla-policies/billing", {"id": "other", "calendar": "@unit"}, 422, "id"),
        (
            "PUT",
            "/sla-policies/bad.id",
            {"calendar": "@unit", "targets": {"resolution": 60}},
            422,
            "id",
        ),
        ("PUT", "/sla-policies/billing", {"calendar": "@unit", "targets": {}}, 422, "body"),
        (
            "PUT",
            "/sla-policies/billing",
            {"calendar": "pea-nowhere", "targets": {"resolution": "PT1H"}},
            422,
            "calendar",
        ),
        (
            "PUT",
            "/sla-policies/billing",
            {"topic": "weather", "calendar": "@unit", "targets": {"resolution": "PT1H"}},
            422,
            "topic",
        ),
        (
            "PUT",
            "/sla-policies/billing",
            {
                "calendar": "@unit",
                "targets": {"resolution": "PT1H"},
                "escalation": [[1, "supervisor", "unit_ack"]],
            },
            422,
            "body",
        ),
        ("PUT", "/sla-policies/billing", [], 422, "body"),
        ("DELETE", "/sla-policies/pea-nowhere", None, 404, None),
    ],
)
async def test_bad_input_is_refused_with_the_field_and_reason(
    service: Service, method: str, path: str, body: Any, status: int, field: str | None
) -> None:
    answer = await admin(service, method, path, json=body)

    assert answer.status_code == status, answer.text
    assert answer.json()["reason"]
    if field is not None:
        assert answer.json()["field"] == field
    assert (await admin(service, "GET", "/changes")).json()["items"] == []


async def test_a_refused_change_leaves_what_is_in_force(service: Service) -> None:
    before = (await admin(service, "GET", "/sla-policies")).json()
    units = (await admin(service, "GET", "/units")).json()

    await admin(
        service,
        "PUT",
        "/sla-policies/billing",
        json={"calendar": "x", "targets": {"resolution": 1}},
    )
    await admin(service, "PUT", "/units/pea-billing/members", json={"members": [{"user": "A"}]})

    assert (await admin(service, "GET", "/sla-policies")).json() == before
    assert (await admin(service, "GET", "/units")).json() == units


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/calendars", None),
        ("PUT", f"/calendars/pea-office/holidays/{FUTURE}", {"name": "x"}),
        ("DELETE", f"/calendars/pea-office/holidays/{FUTURE}", None),
        ("GET", "/units", None),
        ("PUT", "/units/pea-billing/members", {"members": []}),
        ("DELETE", "/units/pea-billing/members", None),
        ("GET", "/sla-policies", None),
        ("PUT", "/sla-policies/billing", {"calendar": "@unit", "targets": {"resolution": 60}}),
        ("DELETE", "/sla-policies/billing", None),
        ("GET", "/changes", None),
    ],
)
@pytest.mark.parametrize("role", ["supervisor", "agent"])
async def test_only_admins_administer_routing(
    service: Service, method: str, path: str, body: Any, role: str
) -> None:
    answer = await service.call(method, "/admin" + path, json=body, role=role)

    assert answer.status_code == 403, answer.text
    assert (await admin(service, "GET", "/changes")).json()["items"] == []


async def test_every_change_is_logged_newest_first_with_rule_changes(service: Service) -> None:
    rules = {
        "rules": [{"id": "all-billing-to-cc", "when": {"topic": ["billing"]}, "unit": "pea-cc"}]
    }
    await admin(service, "PUT", "/rules", json=rules)
    await admin(service, "PUT", f"/calendars/pea-office/holidays/{FUTURE}", json={"name": "หยุด"})
    await admin(service, "PUT", "/units/pea-cc/members", json={"members": [{"user": "cc.relief"}]})
    await admin(
        service,
        "PUT",
        "/sla-policies/billing",
        json={"calendar": "@unit", "targets": {"resolution": "PT3H"}},
    )
    await admin(service, "DELETE", "/sla-policies/billing")
    await admin(service, "DELETE", "/units/pea-cc/members")
    await admin(service, "DELETE", "/units/pea-cc/members")  # nothing left to revert: no entry
    await admin(service, "DELETE", f"/calendars/pea-office/holidays/{FUTURE}")
    await admin(service, "DELETE", "/rules")

    items = (await admin(service, "GET", "/changes")).json()["items"]
    two = (await admin(service, "GET", "/changes", params={"limit": 2})).json()["items"]
    too_many = await admin(service, "GET", "/changes", params={"limit": 501})

    assert [(i["kind"], i["target"], i["action"]) for i in items] == [
        ("rules", "rules", "revert"),
        ("calendar", "pea-office", "delete"),
        ("units", "pea-cc", "revert"),
        ("sla_policy", "billing", "revert"),
        ("sla_policy", "billing", "put"),
        ("units", "pea-cc", "put"),
        ("calendar", "pea-office", "put"),
        ("rules", "rules", "put"),
    ]
    assert {i["by"] for i in items} == {"root"}
    assert all(datetime.fromisoformat(i["at"]) == MORNING for i in items)
    assert items[-1]["detail"]["rules"] == ["all-billing-to-cc"]
    assert items[-2]["detail"] == {"date": FUTURE, "name": "หยุด"}
    cc = service.routing.org.unit("pea-cc")
    assert cc is not None
    assert items[-3]["detail"]["before"]["members"] == [
        {"user": m.user, "capacity": m.capacity} for m in cc.members
    ]
    assert items[-4]["detail"]["policy"]["targets"] == {"resolution": 10800.0}
    assert two == items[:2]
    assert too_many.status_code == 422
