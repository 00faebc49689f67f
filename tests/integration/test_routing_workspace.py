"""Routing's workspace API on the real store: views, sorts, counts, notes, assigning, merging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.notify.domain import intent_for
from services.routing.cases import moves as casemoves
from services.routing.cases import store as case_store
from services.routing.cases.workspace import SORTS, VIEWS
from shared.clock import BANGKOK, FrozenClock
from shared.ids import new_id
from shared.store import Store
from tests.support.routing import Service, case_of, deliver, running_service, screened

pytestmark = pytest.mark.integration

# A Tuesday morning: every calendar is in business hours.
MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)
BILLING = "ค่าไฟเดือนนี้แพงผิดปกติ"  # to pea-billing, which hands cases out
METER = "มิเตอร์หมุนเร็วผิดปกติ"  # to pea-metering, where members pull cases
HAZARD = "เสาไฟฟ้าล้ม สายไฟขาดพาดถนน อ.สันทราย"  # urgent, a 15-minute acknowledgement
AGENT = {"role": "agent", "user": "cc.nattaya"}
ADMIN = {"role": "admin", "user": "admin"}
URGENCY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


@pytest.fixture
async def service(mongo_url: str, store: Store, tmp_path: Path) -> AsyncIterator[Service]:
    clock = FrozenClock(MORNING)
    async with running_service(mongo_url, store.db.name, clock=clock, tmp_path=tmp_path) as running:
        yield running


def clock_of(service: Service) -> FrozenClock:
    """Return the service's test clock."""
    clock = service.routing.runtime.clock
    assert isinstance(clock, FrozenClock)
    return clock


async def new_case(service: Service, text: str, **overrides: Any) -> dict[str, Any]:
    """Deliver a contact a minute after the last one and return its case as an admin sees it."""
    clock = clock_of(service)
    clock.advance(timedelta(minutes=1))
    message = screened(clock, text=text, **overrides)
    await deliver(service.routing, message)
    case = await case_of(service.routing, message.contact_id)
    return await read(service, case.id)


async def read(service: Service, case_id: str) -> dict[str, Any]:
    """Return the case with its timeline."""
    answer = await service.call("GET", f"/cases/{case_id}", **ADMIN)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def listed(service: Service, who: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    """Return the items of one list call."""
    answer = await service.call("GET", "/cases", params=params, **who)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def ids(service: Service, who: dict[str, Any], **params: Any) -> set[str]:
    """Return the ids a list call returns."""
    return {item["id"] for item in await listed(service, who, **params)}


async def counts(service: Service, who: dict[str, Any], **params: Any) -> dict[str, int]:
    """Return the view counts."""
    answer = await service.call("GET", "/cases/counts", params=params, **who)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def act(
    service: Service, case_id: str, action: str, body: dict[str, Any], /, **who: Any
) -> Any:
    """POST a case action."""
    return await service.call("POST", f"/cases/{case_id}/{action}", json=body, **who)


def is_open(case: dict[str, Any]) -> bool:
    """Say whether the case is still being worked."""
    return case["status"] not in ("resolved", "closed")


async def mixed_cases(service: Service) -> list[dict[str, Any]]:
    """Open cases handed out, waiting in a pull queue and urgent, plus one resolved."""
    handed = await new_case(service, BILLING)
    waiting = await new_case(service, METER)
    urgent = await new_case(service, HAZARD)
    done = await new_case(service, BILLING)
    resolved = await act(service, done["id"], "resolve", {"summary": "คืนเงินแล้ว"}, **AGENT)
    assert resolved.status_code == 200, resolved.text
    return [await read(service, c["id"]) for c in (handed, waiting, urgent, done)]


async def test_each_view_holds_the_cases_its_name_says(service: Service) -> None:
    cases = await mixed_cases(service)
    handed, waiting = cases[0], cases[1]
    assert handed["assignee"]
    assert waiting["assignee"] is None
    holder = {"role": "agent", "user": handed["assignee"]}
    everyone = {c["id"] for c in cases}

    assert await ids(service, holder) == everyone
    assert await ids(service, holder, view="mine") == {
        c["id"] for c in cases if c["assignee"] == handed["assignee"] and is_open(c)
    }
    assert await ids(service, holder, view="unassigned") == {
        c["id"] for c in cases if c["assignee"] is None and is_open(c)
    }
    assert waiting["id"] in await ids(service, holder, view="unassigned")
    assert await ids(service, holder, view="unit", unit=handed["unit"]) == {
        c["id"] for c in cases if c["unit"] == handed["unit"] and is_open(c)
    }
    assert await ids(service, holder, view="unit") == set()  # an agent has no unit of their own
    assert await ids(service, holder, view="at_risk") == set()
    assert await ids(service, holder, view="breached") == set()


async def test_a_unit_member_sees_only_their_units_cases_in_every_view(service: Service) -> None:
    cases = await mixed_cases(service)
    member = {"role": "unit_member", "user": "billing.orawan", "unit": "pea-billing"}
    billing = {c["id"] for c in cases if c["unit"] == "pea-billing"}
    assert billing
    assert billing != {c["id"] for c in cases}

    assert await ids(service, member) == billing
    assert await ids(service, member, unit="pea-metering") == billing
    assert await ids(service, member, view="unit") == {
        c["id"] for c in cases if c["unit"] == "pea-billing" and is_open(c)
    }
    assert await ids(service, member, view="unassigned", unit="pea-metering") == set()
    member_counts = await counts(service, member, unit="pea-metering")
    assert member_counts["all"] == len(billing)
    assert member_counts["unassigned"] == 0


def expected_order(items: list[dict[str, Any]], sort: str) -> list[str]:
    """Return the ids in the order ``sort`` promises, computed from the items themselves."""

    def at(value: str) -> float:
        return datetime.fromisoformat(value).timestamp()

    keys = {
        "-created_at": lambda c: -at(c["created_at"]),
        "created_at": lambda c: at(c["created_at"]),
        "-updated_at": lambda c: -at(c["updated_at"]),
        "updated_at": lambda c: at(c["updated_at"]),
        "due": lambda c: (
            c["sla"]["next_due"] is None,
            at(c["sla"]["next_due"]) if c["sla"]["next_due"] else 0,
        ),
        "-urgency": lambda c: (-URGENCY_RANK[c["urgency"]], -at(c["created_at"])),
        "number": lambda c: c["number"],
    }
    return [c["id"] for c in sorted(items, key=keys[sort])]


@pytest.mark.parametrize("sort", list(SORTS))
async def test_each_sort_orders_the_list_as_it_says(service: Service, sort: str) -> None:
    cases = await mixed_cases(service)
    clock = clock_of(service)
    now = clock.now()
    # A case stamped earlier than its number says (a replica's clock behind), so number
    # order and creation order differ.
    clock.set(MORNING - timedelta(hours=1))
    cases.append(await new_case(service, METER))
    clock.set(now + timedelta(minutes=5))
    # The oldest case changes last, so updated order differs from created order.
    noted = await act(service, cases[0]["id"], "notes", {"text": "โทรกลับลูกค้าแล้ว"}, **AGENT)
    assert noted.status_code == 200, noted.text

    items = await listed(service, ADMIN, sort=sort)

    assert len(items) == len(cases)
    assert [c["id"] for c in items] == expected_order(items, sort)


async def test_sorting_pages_through_every_case_once(service: Service) -> None:
    cases = [await new_case(service, text) for text in (BILLING, METER, HAZARD, METER, BILLING)]

    pages = [await listed(service, ADMIN, sort="-urgency", per_page=2, page=n) for n in (1, 2, 3)]

    seen = [c["id"] for page in pages for c in page]
    assert sorted(seen) == sorted(c["id"] for c in cases)
    assert seen[0] == cases[2]["id"]  # the urgent one first


@pytest.mark.parametrize("sort", ["-urgency", "due", "number", "-updated_at"])
async def test_following_next_pages_through_every_case_once_in_order(
    service: Service, sort: str
) -> None:
    cases = [await new_case(service, text) for text in (BILLING, METER, HAZARD, METER, BILLING)]
    whole = [c["id"] for c in await listed(service, ADMIN, sort=sort, per_page=50)]

    seen, after, pages = [], None, 0
    while True:
        params = {"sort": sort, "per_page": 2, **({"after": after} if after else {})}
        answer = await service.call("GET", "/cases", params=params, **ADMIN)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["total"], body["total_exact"]) == (len(cases), True)
        seen += [c["id"] for c in body["items"]]
        pages += 1
        after = body["next"]
        if after is None:
            break
    assert seen == whole
    assert pages == 3


@pytest.mark.parametrize("after", ["not-a-cursor", "WyJ4Il0", "W251bGwsbnVsbF0"])
async def test_a_cursor_the_list_did_not_give_is_refused(service: Service, after: str) -> None:
    answer = await service.call("GET", "/cases", params={"after": after}, **ADMIN)
    assert answer.status_code == 422, answer.text
    assert "after" in answer.text


async def test_category_and_subject_ref_filter_the_list(service: Service) -> None:
    first = await new_case(service, BILLING)
    other = await new_case(service, "สอบถามวิธีสะสมแต้ม")
    assert other["category"] != first["category"]

    assert await ids(service, ADMIN, subject_ref=first["subject_ref"]) == {first["id"]}
    assert await ids(service, ADMIN, category=first["category"]) == {first["id"]}
    assert await ids(service, ADMIN, category=other["category"]) == {other["id"]}


async def test_counts_match_the_lists_of_each_view(service: Service) -> None:
    cases = await mixed_cases(service)
    holder = {"role": "agent", "user": cases[0]["assignee"]}
    member = {"role": "unit_member", "user": "meter.pairoj", "unit": "pea-metering"}

    for who, params in ((holder, {}), (holder, {"unit": "pea-billing"}), (member, {})):
        found = await counts(service, who, **params)
        assert set(found) == set(VIEWS)
        for view in VIEWS:
            answer = await service.call("GET", "/cases", params={"view": view, **params}, **who)
            assert found[view] == answer.json()["total"], (who, params, view)
    assert (await counts(service, holder))["unit"] == 0


async def sweep_after(service: Service, delta: timedelta) -> None:
    """Move the clock on and let the SLA watcher record what fell due."""
    clock_of(service).advance(delta)
    await service.routing.watcher.sweep()


async def answer_now(service: Service, case: dict[str, Any]) -> None:
    """Acknowledge the case and reply to the customer (both SLA targets met)."""
    for action, body in (("acknowledge", {}), ("replies", {"text": "ทีมกำลังเดินทางไป"})):
        answer = await act(service, case["id"], action, body, **AGENT)
        assert answer.status_code in (200, 202), answer.text


async def sla_cases(service: Service) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a case with an escalation step fired for an unmet target, and one breached."""
    warned = await new_case(service, HAZARD)
    late = await new_case(service, HAZARD)
    await answer_now(service, warned)
    # Hazard policy: acknowledgement and first response due in 15 minutes,
    # resolution in 4 hours with a reminder at half of it.
    await sweep_after(service, timedelta(hours=2, minutes=10))
    return await read(service, warned["id"]), await read(service, late["id"])


async def test_at_risk_and_breached_views_follow_the_sla(service: Service) -> None:
    calm = await new_case(service, BILLING)
    recovered = await new_case(service, HAZARD)
    late = await new_case(service, HAZARD)
    await sweep_after(service, timedelta(minutes=10))  # past half of the acknowledgement time
    assert await ids(service, ADMIN, view="at_risk") == {recovered["id"], late["id"]}

    await answer_now(service, recovered)  # the warned-of target is met: no longer at risk
    assert await ids(service, ADMIN, view="at_risk") == {late["id"]}
    await sweep_after(service, timedelta(minutes=10))  # the other's acknowledgement is late

    assert await ids(service, ADMIN, view="at_risk") == set()
    assert await ids(service, ADMIN, view="breached") == {late["id"]}
    await sweep_after(service, timedelta(hours=2))  # half of the resolution time is used
    assert await ids(service, ADMIN, view="at_risk") == {recovered["id"]}
    assert await ids(service, ADMIN, view="breached") == {late["id"]}
    found = await counts(service, ADMIN)
    assert (found["at_risk"], found["breached"]) == (1, 1)
    assert calm["id"] not in await ids(service, ADMIN, view="at_risk")

    resolved = await act(service, late["id"], "resolve", {"summary": "ซ่อมแล้ว"}, **AGENT)
    assert resolved.status_code == 200, resolved.text
    assert await ids(service, ADMIN, view="breached") == set()  # breached means open too


async def test_due_sort_puts_cases_without_a_due_time_last(service: Service) -> None:
    cases = await mixed_cases(service)
    done = cases[3]
    assert done["sla"]["next_due"] is None

    items = await listed(service, ADMIN, sort="due")

    assert items[-1]["id"] == done["id"]
    assert all(item["sla"]["next_due"] for item in items[:-1])


async def test_a_note_is_on_the_timeline_and_the_bus_but_never_for_the_customer(
    service: Service,
) -> None:
    case = await new_case(service, BILLING)
    body = {"text": "ลูกค้าขอให้โทรหลัง 17:00", "text_ref": "vault-1", "mentions": ["cc.prasert"]}

    answer = await act(service, case["id"], "notes", body, **AGENT)

    assert answer.status_code == 200, answer.text
    last = (await read(service, case["id"]))["timeline"][-1]
    assert last["type"] == "case.note_added"
    assert {k: last["detail"][k] for k in ("text", "text_ref", "mentions", "by")} == {
        **body,
        "by": AGENT["user"],
    }
    await service.routing.relay.relay_once()
    notes = [e for e in service.bus.published if e.type == "case.note_added"]
    assert [e.data["case"]["id"] for e in notes] == [case["id"]]
    assert intent_for(notes[0]) is None


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "x" * 5001},
        {"text": "ok", "mentions": [f"user{n}" for n in range(21)]},
        {"text": "ok", "unknown": 1},
    ],
)
async def test_a_note_out_of_bounds_is_refused(service: Service, body: dict[str, Any]) -> None:
    case = await new_case(service, BILLING)
    answer = await act(service, case["id"], "notes", body, **AGENT)
    assert answer.status_code == 422, answer.text


async def test_a_note_honours_if_match(service: Service) -> None:
    case = await new_case(service, BILLING)
    stale = {"If-Match": str(case["version"] - 1)}

    refused = await service.call(
        "POST", f"/cases/{case['id']}/notes", json={"text": "x"}, headers=stale, **AGENT
    )
    current = {"If-Match": str(case["version"])}
    accepted = await service.call(
        "POST", f"/cases/{case['id']}/notes", json={"text": "x"}, headers=current, **AGENT
    )

    assert refused.status_code == 409, refused.text
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["version"] == case["version"] + 1


async def test_an_agent_takes_a_waiting_case_and_gives_it_back(service: Service) -> None:
    case = await new_case(service, METER)
    assert case["assignee"] is None

    taken = await act(service, case["id"], "assign", {"user": AGENT["user"]}, **AGENT)
    assert taken.status_code == 200, taken.text
    assert (taken.json()["assignee"], taken.json()["status"]) == (AGENT["user"], case["status"])
    assert case["id"] in await ids(service, AGENT, view="mine")

    given_back = await act(service, case["id"], "assign", {"user": None, "reason": "ลา"}, **AGENT)
    assert given_back.status_code == 200, given_back.text
    assert given_back.json()["assignee"] is None  # a pull unit's queue waits for a member
    events = [
        e for e in (await read(service, case["id"]))["timeline"] if e["type"] == "case.assigned"
    ]
    assert [{k: e["detail"][k] for k in ("from", "to", "by", "reason")} for e in events] == [
        {"from": None, "to": AGENT["user"], "by": AGENT["user"], "reason": None},
        {"from": AGENT["user"], "to": None, "by": AGENT["user"], "reason": "ลา"},
    ]


async def test_only_supervisors_assign_others_and_only_to_the_units_members(
    service: Service,
) -> None:
    case = await new_case(service, METER)
    supervisor = {"role": "supervisor", "user": "meter.sup.boonlert"}

    by_agent = await act(service, case["id"], "assign", {"user": "meter.pairoj"}, **AGENT)
    outsider = await act(service, case["id"], "assign", {"user": "billing.orawan"}, **supervisor)
    member = await act(
        service, case["id"], "assign", {"user": "meter.pairoj", "reason": "ถนัด"}, **supervisor
    )

    assert by_agent.status_code == 403, by_agent.text
    assert outsider.status_code == 422, outsider.text
    assert outsider.json()["field"] == "user"
    assert member.status_code == 200, member.text
    assert member.json()["assignee"] == "meter.pairoj"
    await service.routing.relay.relay_once()
    assert "case.assigned" in service.bus.types(case["id"])


async def test_a_unit_member_cannot_act_on_another_units_case(service: Service) -> None:
    billing = await new_case(service, BILLING)
    other = await new_case(service, BILLING)
    outsider = {"role": "unit_member", "user": "meter.pairoj", "unit": "pea-metering"}

    for action, body in (
        ("notes", {"text": "x"}),
        ("assign", {"user": "meter.pairoj"}),
        ("merge", {"into": other["id"], "reason": "ซ้ำ"}),
        ("split", {"contact_id": billing["contacts"][0]["id"], "reason": "คนละเรื่อง"}),
    ):
        answer = await act(service, billing["id"], action, body, **outsider)
        assert answer.status_code == 404, (action, answer.text)
    assert (await read(service, billing["id"]))["version"] == billing["version"]


async def test_merging_closes_the_source_into_the_target(service: Service) -> None:
    source = await new_case(service, BILLING)
    target = await new_case(service, BILLING)

    answer = await act(
        service, source["id"], "merge", {"into": target["id"], "reason": "ซ้ำ"}, **AGENT
    )

    assert answer.status_code == 200, answer.text
    merged = answer.json()
    assert merged["id"] == target["id"]
    assert merged["merged_cases"] == [source["id"]]
    assert source["id"] in merged["related_cases"]
    closed = await read(service, source["id"])
    assert (closed["status"], closed["merged_into"]) == ("closed", target["id"])
    assert target["id"] in closed["related_cases"]
    assert closed["contacts"] == source["contacts"]  # contacts stay with their case
    detail = {"source": source["id"], "target": target["id"], "by": AGENT["user"], "reason": "ซ้ำ"}
    for case in (closed, await read(service, target["id"])):
        last = case["timeline"][-1]
        assert last["type"] == "case.merged"
        assert {k: last["detail"][k] for k in detail} == detail
    assert source["id"] not in await ids(service, AGENT, view="unit", unit=source["unit"])


async def test_merging_needs_two_distinct_open_cases(service: Service) -> None:
    first = await new_case(service, BILLING)
    second = await new_case(service, BILLING)
    done = await new_case(service, BILLING)
    await act(service, done["id"], "resolve", {"summary": "เสร็จ"}, **AGENT)

    for source, target in ((first, first), (first, done), (done, second)):
        body = {"into": target["id"], "reason": "ซ้ำ"}
        answer = await act(service, source["id"], "merge", body, **AGENT)
        assert answer.status_code == 409, answer.text
    assert (await read(service, first["id"]))["status"] == first["status"]


async def test_a_merge_stopped_after_the_source_is_completed_by_asking_again(
    service: Service,
) -> None:
    source = await new_case(service, BILLING)
    target = await new_case(service, BILLING)
    store = service.routing.runtime.store
    # The first write happened, the second did not.
    half = await case_store.get_case(store, source["id"])
    at = clock_of(service).now()
    casemoves.merge_away(half, into=target["id"], reason="ซ้ำ", at=at, actor=AGENT["user"])
    await case_store.save_case(store, half)

    answer = await act(
        service, source["id"], "merge", {"into": target["id"], "reason": "ซ้ำ"}, **AGENT
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["merged_cases"] == [source["id"]]
    merges = [
        e for e in (await read(service, source["id"]))["timeline"] if e["type"] == "case.merged"
    ]
    assert len(merges) == 1


async def two_contact_case(service: Service) -> tuple[dict[str, Any], str]:
    """Return a LINE case its customer wrote to twice, and the second contact's id."""
    first = await new_case(service, "ไฟดับทั้งซอย", channel="line")
    clock_of(service).advance(timedelta(hours=1))
    follow_up = screened(
        clock_of(service), channel="line", subject_ref=first["subject_ref"], text="มิเตอร์เสียด้วย"
    )
    await deliver(service.routing, follow_up)
    case = await read(service, first["id"])
    assert [c["id"] for c in case["contacts"]][-1] == follow_up.contact_id
    return case, follow_up.contact_id


async def test_splitting_moves_one_contact_into_a_new_linked_case(service: Service) -> None:
    source, contact_id = await two_contact_case(service)

    answer = await act(
        service, source["id"], "split", {"contact_id": contact_id, "reason": "คนละเรื่อง"}, **AGENT
    )

    assert answer.status_code == 200, answer.text
    new = answer.json()
    assert new["id"] != source["id"]
    assert [c["id"] for c in new["contacts"]] == [contact_id]
    assert (new["split_from"], new["unit"], new["subject_ref"]) == (
        source["id"],
        source["unit"],
        source["subject_ref"],
    )
    assert new["channel"] == "line"
    assert source["id"] in new["related_cases"]
    after = await read(service, source["id"])
    assert contact_id not in [c["id"] for c in after["contacts"]]
    assert len(after["contacts"]) == len(source["contacts"]) - 1
    assert new["id"] in after["related_cases"]
    for case in (after, await read(service, new["id"])):
        split = [e for e in case["timeline"] if e["type"] == "case.split"]
        assert [e["detail"]["contact_id"] for e in split] == [contact_id]
        assert split[0]["detail"]["target"] == new["id"]
    found = await case_store.find_by_contact(service.routing.runtime.store, contact_id)
    assert found is not None
    assert found.id == new["id"]
    await service.routing.relay.relay_once()
    assert "case.split" in service.bus.types(new["id"])
    assert "case.opened" not in service.bus.types(new["id"])  # the customer is not told


async def test_a_case_with_one_contact_or_an_unknown_contact_is_not_split(
    service: Service,
) -> None:
    case = await new_case(service, BILLING)
    only = case["contacts"][0]["id"]

    lonely = await act(service, case["id"], "split", {"contact_id": only, "reason": "x"}, **AGENT)
    unknown = await act(
        service, case["id"], "split", {"contact_id": new_id(), "reason": "x"}, **AGENT
    )

    assert lonely.status_code == 409, lonely.text
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["field"] == "contact_id"


@pytest.mark.parametrize("source_let_go", [False, True])
async def test_a_split_stopped_half_way_is_completed_by_asking_again(
    service: Service, source_let_go: bool
) -> None:
    source, contact_id = await two_contact_case(service)
    store = service.routing.runtime.store
    held = await case_store.get_case(store, source["id"])
    contact = next(c for c in held.contacts if c.contact_id == contact_id)
    # The new case was written with the contact held aside; the source still holds it.
    half = casemoves.split_off(
        held,
        contact,
        case_id=new_id(),
        number=f"VOC-2026-9{new_id()[-5:]}",
        assignee=None,
        reason="คนละเรื่อง",
        at=clock_of(service).now(),
        actor=AGENT["user"],
        role=AGENT["role"],
        sla=service.routing.commands.sla,
    )
    await case_store.insert_case(store, half)
    if source_let_go:
        casemoves.let_go(held, half, reason="คนละเรื่อง", at=half.created_at, actor=AGENT["user"])
        await case_store.save_case(store, held)

    body = {"contact_id": contact_id, "reason": "คนละเรื่อง"}
    answer = await act(service, source["id"], "split", body, **AGENT)

    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == half.id
    assert [c["id"] for c in answer.json()["contacts"]] == [contact_id]
    assert await case_store.moving_to(store, contact_id) is None
    after = await read(service, source["id"])
    assert contact_id not in [c["id"] for c in after["contacts"]]
    assert len([e for e in after["timeline"] if e["type"] == "case.split"]) == 1


async def test_the_overview_shows_each_unit_and_the_cases_needing_attention(
    service: Service,
) -> None:
    warned, late = await sla_cases(service)
    unit = warned["unit"]
    supervisor = {"role": "supervisor", "user": "sup", "unit": unit}
    member = service.routing.org.unit(unit)
    assert member is not None
    assert member.members
    offline = member.members[0].user
    gone = await service.call("POST", f"/units/{unit}/members/{offline}/offline", **ADMIN)
    assert gone.status_code == 200, gone.text

    answer = await service.call("GET", "/supervisor/overview", **supervisor)

    assert answer.status_code == 200, answer.text
    overview = answer.json()
    assert [row["unit"] for row in overview["units"]] == [unit]
    row = overview["units"][0]
    found = await counts(service, ADMIN, unit=unit)
    assert (row["open"], row["unassigned"], row["at_risk"], row["breached"]) == (
        found["unit"],
        found["unassigned"],
        found["at_risk"],
        found["breached"],
    )
    people = {m["user"]: m for m in row["members"]}
    assert set(people) == {m.user for m in member.members}
    assert people[offline]["online"] is False
    for user, seen in people.items():
        mine = await ids(service, {"role": "agent", "user": user}, view="mine", unit=unit)
        assert seen["open"] == len(mine)
    assert [c["id"] for c in overview["at_risk"]] == [warned["id"]]
    assert overview["at_risk"][0]["escalation"] == warned["sla"]["fired"][-1]
    assert [c["id"] for c in overview["breached"]] == [late["id"]]
    assert overview["pending_closures"] == []


async def test_the_overview_lists_closures_awaiting_certification(service: Service) -> None:
    case = await new_case(service, BILLING)
    await act(service, case["id"], "resolve", {"summary": "คืนเงินแล้ว"}, **AGENT)
    body = {"channel": "phone", "note": "ลูกค้ารับทราบทางโทรศัพท์"}
    recorded = await act(service, case["id"], "acknowledge-on-behalf", body, **AGENT)
    assert recorded.status_code == 200, recorded.text

    admin_view = (await service.call("GET", "/supervisor/overview", **ADMIN)).json()

    assert [c["id"] for c in admin_view["pending_closures"]] == [case["id"]]
    assert len(admin_view["units"]) == len(service.routing.org.units)
    other = next(u.id for u in service.routing.org.units if u.id != case["unit"])
    elsewhere = {"role": "supervisor", "user": "sup", "unit": other}
    theirs = (await service.call("GET", "/supervisor/overview", **elsewhere)).json()
    assert theirs["pending_closures"] == []


@pytest.mark.parametrize(
    "who",
    [
        AGENT,
        {"role": "unit_member", "user": "billing.orawan", "unit": "pea-billing"},
        {"role": "manager"},
    ],
)
async def test_the_overview_is_for_supervisors_and_admins(
    service: Service, who: dict[str, Any]
) -> None:
    answer = await service.call("GET", "/supervisor/overview", **who)
    assert answer.status_code == 403, answer.text


async def test_cases_stored_before_the_workspace_fields_are_backfilled(service: Service) -> None:
    case = await new_case(service, METER)
    store = service.routing.runtime.store
    older = dict.fromkeys(case_store.WORKSPACE_FIELDS, "")
    await store[case_store.CASES].update_one({"_id": case["id"]}, {"$unset": older})
    assert case["id"] not in await ids(service, ADMIN, view="unassigned")

    assert await case_store.backfill_lanes(store) == 1

    assert case["id"] in await ids(service, ADMIN, view="unassigned")
    assert await case_store.backfill_lanes(store) == 0


async def test_asking_for_a_finished_merge_again_changes_nothing(service: Service) -> None:
    source = await new_case(service, BILLING)
    target = await new_case(service, BILLING)
    body = {"into": target["id"], "reason": "ซ้ำ"}
    first = await act(service, source["id"], "merge", body, **AGENT)

    again = await act(service, source["id"], "merge", body, **AGENT)

    assert again.status_code == 200, again.text
    assert again.json()["version"] == first.json()["version"]
    assert again.json()["merged_cases"] == [source["id"]]


async def test_routing_backfills_older_cases_as_it_starts(
    service: Service, mongo_url: str, tmp_path: Path
) -> None:
    case = await new_case(service, METER)
    store = service.routing.runtime.store
    older = dict.fromkeys(case_store.WORKSPACE_FIELDS, "")
    await store[case_store.CASES].update_one({"_id": case["id"]}, {"$unset": older})
    clock = service.routing.runtime.clock
    async with running_service(
        mongo_url, store.db.name, clock=clock, tmp_path=tmp_path / "again"
    ) as restarted:
        assert case["id"] in await ids(restarted, ADMIN, view="unassigned")
