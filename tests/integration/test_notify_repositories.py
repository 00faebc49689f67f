"""Notify's repositories: the in-memory fakes answer as MongoDB does, scenario by scenario.

Every scenario runs against both ``tests/support/notify_memory.py`` and the
MongoDB repositories on the embedded store, with the same expectations, so
the fakes the unit tests use cannot drift from the real thing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.domain import Intent
from services.notify.store import (
    INDEXES,
    DeliveryRepository,
    MongoDeliveries,
    MongoSurveys,
    MongoTemplates,
    SurveyRepository,
    TemplateRepository,
    notification_id,
)
from shared.ids import new_id
from shared.store import Store, connect
from tests.support.notify_memory import MemoryDeliveries, MemorySurveys, MemoryTemplates

pytestmark = pytest.mark.integration

# Microseconds on purpose: the store keeps milliseconds, and so must the fake.
T = datetime(2026, 12, 1, 3, 0, 0, 123_456, tzinfo=UTC)
LEASE = timedelta(minutes=1)


def ms(when: datetime) -> datetime:
    """Return ``when`` as the store hands it back."""
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


@dataclass
class Repos:
    """One backend's repositories."""

    deliveries: DeliveryRepository
    templates: TemplateRepository
    surveys: SurveyRepository


def intent(case_id: str = "case-1", *, event_id: str | None = None) -> Intent:
    """Return a notification an event of ``case_id`` calls for."""
    return Intent(
        event_id=event_id or new_id(),
        correlation_id=new_id(),
        occurred_at=T,
        kind="acknowledged",
        case_id=case_id,
        case_number="VOC-2026-000001",
        reply_handle="rh-1",
    )


async def claim(repos: Repos, now: datetime, *, limit: int = 10) -> list[dict[str, object]]:
    """Claim what is due at ``now``."""
    return await repos.deliveries.claim_due(now=now, lease=LEASE, limit=limit)


async def an_intent_is_recorded_once_per_event(repos: Repos) -> None:
    first = intent(event_id="ev-1")
    doc = await repos.deliveries.record_intent(first, at=T, owner="replica-a", lease=LEASE)
    assert doc is not None
    assert doc["_id"] == notification_id("ev-1")
    again = intent(event_id="ev-1")
    assert await repos.deliveries.record_intent(again, at=T, owner="replica-b", lease=LEASE) is None
    [kept] = await repos.deliveries.for_case("case-1")
    assert kept["lease_owner"] == "replica-a"
    assert kept["intent"] == first.model_dump(mode="json")
    assert (kept["status"], kept["attempts"]) == ("queued", [])
    assert (kept["created_at"], kept["next_attempt_at"]) == (ms(T), ms(T + LEASE))


async def a_due_delivery_is_leased_to_one_of_concurrent_claimers(repos: Repos) -> None:
    await repos.deliveries.record_intent(intent(), at=T, owner="replica-a", lease=LEASE)
    assert await claim(repos, T + LEASE - timedelta(milliseconds=1)) == []  # still leased
    now = T + LEASE
    claims = await asyncio.gather(*(claim(repos, now) for _ in range(4)))
    assert sorted(len(found) for found in claims) == [0, 0, 0, 1]
    [leased] = [doc for found in claims for doc in found]
    assert leased["lease_owner"] not in (None, "replica-a")
    assert (leased["lease_until"], leased["next_attempt_at"]) == (ms(now + LEASE),) * 2
    assert await claim(repos, now) == []


async def a_lease_that_runs_out_comes_due_again(repos: Repos) -> None:
    await repos.deliveries.record_intent(intent(), at=T, owner="replica-a", lease=LEASE)
    [first] = await claim(repos, T + LEASE)
    [second] = await claim(repos, T + 2 * LEASE)
    assert first["_id"] == second["_id"]
    assert first["lease_owner"] != second["lease_owner"]


async def due_deliveries_are_claimed_oldest_due_first_up_to_the_limit(repos: Repos) -> None:
    for minutes in (2, 0, 1):
        at = T + timedelta(minutes=minutes)
        await repos.deliveries.record_intent(
            intent(event_id=f"ev-{minutes}"), at=at, owner="replica-a", lease=LEASE
        )
    found = await claim(repos, T + timedelta(minutes=5), limit=2)
    assert sorted(doc["_id"] for doc in found) == [notification_id("ev-0"), notification_id("ev-1")]


async def a_settle_by_a_claimer_whose_lease_was_taken_over_is_ignored(repos: Repos) -> None:
    recorded = await repos.deliveries.record_intent(intent(), at=T, owner="replica-a", lease=LEASE)
    assert recorded is not None
    [taken] = await claim(repos, T + LEASE)
    attempt = {"at": T + LEASE, "channel": "line", "status": "sent", "provider_answer": "ok"}
    stale = {"status": "sent", "updated_at": T + LEASE}
    await repos.deliveries.settle(recorded, fields=stale, attempt=attempt)
    [doc] = await repos.deliveries.for_case("case-1")
    assert (doc["status"], doc["attempts"], doc["lease_owner"]) == (
        "queued",
        [],
        taken["lease_owner"],
    )
    retry = {"status": "queued", "next_attempt_at": T + 3 * LEASE, "lease_until": T + LEASE}
    await repos.deliveries.settle(taken, fields=retry, attempt=attempt)
    [doc] = await repos.deliveries.for_case("case-1")
    assert (doc["status"], doc["lease_owner"]) == ("queued", None)
    assert doc["attempts"] == [{**attempt, "at": ms(T + LEASE)}]
    assert await claim(repos, T + 3 * LEASE - timedelta(seconds=1)) == []  # backing off
    assert len(await claim(repos, T + 3 * LEASE)) == 1


async def released_deliveries_are_due_at_once(repos: Repos) -> None:
    recorded = await repos.deliveries.record_intent(intent(), at=T, owner="replica-a", lease=LEASE)
    assert recorded is not None
    await repos.deliveries.release([recorded], now=T)
    [doc] = await claim(repos, T)
    assert doc["_id"] == recorded["_id"]


async def an_announcement_stays_pending_until_published(repos: Repos) -> None:
    recorded = await repos.deliveries.record_intent(intent(), at=T, owner="replica-a", lease=LEASE)
    assert recorded is not None
    announce = {"id": "n-1:failed", "type": "notification.failed"}
    fields = {"status": "failed", "updated_at": T}
    await repos.deliveries.settle(recorded, fields=fields, announce=announce)
    assert await repos.deliveries.unannounced(settled_before=T) == []  # settled just now
    later = T + timedelta(seconds=1)
    pending = await repos.deliveries.unannounced(settled_before=later)
    assert pending == [{"_id": recorded["_id"], "announce": announce}]
    await repos.deliveries.announced(recorded["_id"])
    assert await repos.deliveries.unannounced(settled_before=later) == []


async def a_case_log_is_oldest_first(repos: Repos) -> None:
    for minutes in (3, 1, 2):
        at = T + timedelta(minutes=minutes)
        await repos.deliveries.record_intent(
            intent("case-log", event_id=f"ev-{minutes}"), at=at, owner="a", lease=LEASE
        )
    await repos.deliveries.record_intent(intent("case-other"), at=T, owner="a", lease=LEASE)
    docs = await repos.deliveries.for_case("case-log")
    assert [doc["event_id"] for doc in docs] == ["ev-1", "ev-2", "ev-3"]
    assert await repos.deliveries.for_case("case-none") == []


async def rate_slots_fill_per_window(repos: Repos) -> None:
    window = timedelta(hours=1)
    now = datetime(2026, 12, 1, 3, 10, tzinfo=UTC)
    ends = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    take = repos.deliveries.take_rate_slot
    assert await take("sub-1", now=now, limit=2, window=window) is None
    assert await take("sub-1", now=now, limit=2, window=window) is None
    assert await take("sub-1", now=now, limit=2, window=window) == ends
    assert await take("sub-2", now=now, limit=2, window=window) is None
    assert await take("sub-1", now=ends, limit=2, window=window) is None  # the next window


async def a_reply_token_is_claimed_once(repos: Repos) -> None:
    assert await repos.deliveries.claim_reply_token("rh-1", at=T) is True
    assert await repos.deliveries.claim_reply_token("rh-1", at=T) is False
    assert await repos.deliveries.claim_reply_token("rh-2", at=T) is True


async def reachability_changes_are_read_since_a_time(repos: Repos) -> None:
    deliveries = repos.deliveries
    await deliveries.set_reachable(
        "sub-1", channel="line", reachable=False, reason="unfollow", at=T
    )
    [doc] = await deliveries.reachability_changes(since=None)
    assert doc == {
        "_id": "sub-1",
        "blocked": {"line": {"reason": "unfollow", "at": ms(T)}},
        "updated_at": ms(T),
    }
    later = T + timedelta(minutes=1)
    await deliveries.set_reachable("sub-1", channel="line", reachable=True, reason="", at=later)
    await deliveries.set_reachable("sub-2", channel="*", reachable=True, reason="", at=later)
    changed = await deliveries.reachability_changes(since=later)
    assert sorted(changed, key=lambda d: d["_id"]) == [
        {"_id": "sub-1", "blocked": {}, "updated_at": ms(later)},
        {"_id": "sub-2", "updated_at": ms(later)},
    ]
    assert await deliveries.reachability_changes(since=later + timedelta(seconds=1)) == []


async def template_overrides_are_replaced_set_and_removed(repos: Repos) -> None:
    templates = repos.templates
    await templates.replace_overrides({"th/a.short": "A", "th/b.short": "B"}, at=T, by="admin")
    assert await templates.overrides() == {"th/a.short": "A", "th/b.short": "B"}
    later = T + timedelta(minutes=1)
    await templates.set_override("th/c.short", "C", at=later, by="editor")
    await templates.replace_overrides({"th/b.short": "B2", "th/c.short": "C"}, at=later, by="x")
    assert await templates.overrides() == {"th/b.short": "B2", "th/c.short": "C"}
    docs = await templates.override_docs()
    assert docs["th/b.short"] == {
        "_id": "th/b.short",
        "source": "B2",
        "updated_at": ms(later),
        "updated_by": "x",
    }
    await templates.remove_override("th/b.short")
    await templates.remove_override("th/none.short")
    assert await templates.overrides() == {"th/c.short": "C"}


async def template_changes_are_read_newest_first(repos: Repos) -> None:
    templates = repos.templates
    await templates.record_changes({}, at=T, by="admin")
    await templates.record_changes(
        {"th/b.short": (None, "B"), "th/a.short": ("A0", "A")}, at=T, by="admin"
    )
    later = T + timedelta(minutes=1)
    await templates.record_changes({"th/a.short": ("A", None)}, at=later, by="editor")
    changes = await templates.changes(limit=10)
    assert [(c["slot"], c["action"], c["at"]) for c in changes] == [
        ("th/a.short", "reset", ms(later)),
        ("th/b.short", "set", ms(T)),  # recorded in slot order, so read back the other way
        ("th/a.short", "set", ms(T)),
    ]
    assert set(changes[0]) == {"_id", "at", "by", "slot", "action", "before", "after"}
    only_a = await templates.changes(limit=10, slot="th/a.short")
    assert [(c["before"], c["after"]) for c in only_a] == [("A", None), ("A0", "A")]
    assert len(await templates.changes(limit=1)) == 1


async def a_survey_link_takes_one_answer(repos: Repos) -> None:
    surveys = repos.surveys
    assert await surveys.claim_answer("k-1", case_id="case-1", at=T) is True
    assert await surveys.claim_answer("k-1", case_id="case-1", at=T) is False
    await surveys.release_answer("k-1")  # routing did not take it: may be sent again
    assert await surveys.claim_answer("k-1", case_id="case-1", at=T) is True
    await surveys.confirm_answer("k-1", score=5, at=T)
    await surveys.release_answer("k-1")  # recorded answers are never released
    assert await surveys.claim_answer("k-1", case_id="case-1", at=T) is False


SCENARIOS: list[Callable[[Repos], Awaitable[None]]] = [
    an_intent_is_recorded_once_per_event,
    a_due_delivery_is_leased_to_one_of_concurrent_claimers,
    a_lease_that_runs_out_comes_due_again,
    due_deliveries_are_claimed_oldest_due_first_up_to_the_limit,
    a_settle_by_a_claimer_whose_lease_was_taken_over_is_ignored,
    released_deliveries_are_due_at_once,
    an_announcement_stays_pending_until_published,
    a_case_log_is_oldest_first,
    rate_slots_fill_per_window,
    a_reply_token_is_claimed_once,
    reachability_changes_are_read_since_a_time,
    template_overrides_are_replaced_set_and_removed,
    template_changes_are_read_newest_first,
    a_survey_link_takes_one_answer,
]


@pytest.fixture
async def mongo_repos(mongo_url: str) -> AsyncIterator[Repos]:
    """The MongoDB repositories on a database of their own, with notify's indexes."""
    store: Store = connect(mongo_url, f"test_{new_id().lower()}")
    await store.ensure_indexes(INDEXES)
    yield Repos(MongoDeliveries(store), MongoTemplates(store), MongoSurveys(store))
    await store.client.drop_database(store.db.name)
    await store.client.close()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
async def test_the_fakes_and_mongodb_answer_each_scenario_alike(
    scenario: Callable[[Repos], Awaitable[None]], mongo_repos: Repos
) -> None:
    memory = Repos(MemoryDeliveries(), MemoryTemplates(), MemorySurveys())
    for backend, repos in (("memory", memory), ("mongodb", mongo_repos)):
        try:
            await scenario(repos)
        except AssertionError as exc:
            raise AssertionError(f"{backend}: {exc}") from exc
