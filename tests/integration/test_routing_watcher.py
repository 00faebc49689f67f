"""The SLA watcher on the real store, with a clock the test moves."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.routing.app import INDEXES, Routing
from services.routing.cases.domain import Case
from services.routing.sla.watcher import SlaWatcher
from shared.clock import BANGKOK, FrozenClock
from shared.store import Store
from tests.support.routing import case_of, deliver, routing_for, screened

pytestmark = pytest.mark.integration

SLA_EVENTS = ("case.sla.warning", "case.escalated", "case.sla.breached")
HAZARD = "เสาไฟฟ้าล้ม สายไฟขาดพาดถนน อ.สันทราย"


def sla_events(case: Case) -> list[dict[str, Any]]:
    """Return the case's SLA events from its timeline."""
    return [e for e in case.timeline if e["type"] in SLA_EVENTS]


def watcher(routing: Routing, replica: str) -> SlaWatcher:
    """Return a watcher of its own, as another replica would run it."""
    return SlaWatcher(
        routing.runtime,
        cases=routing.cases,
        leases=routing.cases,
        org=routing.org,
        relay=routing.relay,
        replica=replica,
    )


async def started(store: Store, tmp_path: Path, at: datetime) -> tuple[Routing, FrozenClock]:
    """Return routing on ``store`` with a clock frozen at ``at``."""
    await store.ensure_indexes(INDEXES)
    clock = FrozenClock(at)
    routing, _ = routing_for(store, clock=clock, tmp_path=tmp_path)
    return routing, clock


async def test_two_watchers_fire_each_escalation_exactly_once(store: Store, tmp_path: Path) -> None:
    routing, clock = await started(store, tmp_path, datetime(2026, 12, 1, 22, 0, tzinfo=BANGKOK))
    messages = [screened(clock, text=HAZARD) for _ in range(3)]
    for message in messages:
        await deliver(routing, message)
    first, second = watcher(routing, "replica-a"), watcher(routing, "replica-b")

    fired = 0
    for _ in range(8 * 6):  # eight hours in ten-minute steps
        clock.advance(timedelta(minutes=10))
        fired += sum(await asyncio.gather(first.sweep(), second.sweep()))

    # Hazard policy: six escalation steps and three targets breached, per case.
    assert fired == 3 * 9
    for message in messages:
        case = await case_of(routing, message.contact_id)
        keys = Counter(
            str(e["detail"].get("step") or f"breach:{e['detail']['target']}")
            for e in sla_events(case)
        )
        assert len(keys) == 9
        assert set(keys.values()) == {1}
        assert case.sla_next_due is None
    leased = await store["cases"].count_documents({"lease_until": {"$exists": True}})
    assert leased == 0


async def test_the_watcher_catches_up_after_a_restart(store: Store, tmp_path: Path) -> None:
    opened = datetime(2026, 12, 2, 1, 0, tzinfo=BANGKOK)
    routing, clock = await started(store, tmp_path, opened)
    message = screened(clock, text=HAZARD)
    await deliver(routing, message)

    # Routing is down for five hours; a freshly started replica sweeps once.
    clock.advance(timedelta(hours=5))
    assert await watcher(routing, "after-restart").sweep() == 8

    case = await case_of(routing, message.contact_id)
    actions = [e["detail"].get("action", "breach") for e in sla_events(case)]
    assert actions == [
        "remind_assignee",
        "supervisor",
        "remind_assignee",
        "supervisor",
        "escalation_unit",
        "breach",
        "breach",
        "breach",
    ]
    escalated = [e for e in sla_events(case) if e["type"] == "case.escalated"]
    assert escalated[-1]["detail"]["to"] == {"unit": "pea-region-north"}
    clock.advance(timedelta(hours=2))
    assert await watcher(routing, "later").sweep() == 1  # the executive, at 1.5 × 4 h
    assert await watcher(routing, "later").sweep() == 0


async def test_office_hours_escalations_wait_over_a_long_weekend(
    store: Store, tmp_path: Path
) -> None:
    # Friday 4 December 2026, 15:00; Saturday is a public holiday with Monday in lieu.
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=BANGKOK)
    routing, clock = await started(store, tmp_path, friday)
    message = screened(clock, text="ค่าไฟเดือนนี้แพงผิดปกติ")
    await deliver(routing, message)
    sweeper = watcher(routing, "replica")
    calendar = routing.org.business_calendars["pea-office"]

    clock.set(datetime(2026, 12, 7, 16, 0, tzinfo=BANGKOK))  # the Monday in lieu
    assert await sweeper.sweep() == 0
    clock.set(datetime(2026, 12, 8, 15, 0, tzinfo=BANGKOK))  # 1.5 h Friday + 5.5 h Tuesday
    assert await sweeper.sweep() == 2
    clock.set(datetime(2026, 12, 9, 10, 30, tzinfo=BANGKOK))  # half of 21 h: Wednesday 10:30
    assert await sweeper.sweep() == 1

    case = await case_of(routing, message.contact_id)
    events = sla_events(case)
    assert [e["detail"]["target"] for e in events] == ["first_response", "unit_ack", "resolution"]
    for event in events:
        due = datetime.fromisoformat(str(event["detail"]["due_at"]))
        assert calendar.is_open(due - timedelta(minutes=1))
