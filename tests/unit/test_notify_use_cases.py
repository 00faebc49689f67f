"""Notify's use cases on the in-memory repositories: recording, claiming, retrying, sending.

No store and no bus: the consumer, the delivery worker and the template
library run on ``tests/support/notify_memory.py``, privacy and LINE are
stand-ins in this file, and messages to agents are kept in a list.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notify.adapters import DeliveryResult, LineAddress, OutboundMessage
from services.notify.breaker import Breakers
from services.notify.channels import Channels
from services.notify.delivery import Attempter
from services.notify.directory import OrgDirectory
from services.notify.domain import Intent, ReplyTarget
from services.notify.handlers import Notify
from services.notify.library import TemplateLibrary
from services.notify.ratings import record_rating
from services.notify.reachability import Reachability
from services.notify.settings import NotifySettings
from services.notify.store import notification_id
from services.notify.survey import SurveySigner, SurveyTicket
from services.notify.worker import DeliveryWorker
from shared.clock import FrozenClock
from shared.errors import StoreUnavailable, UpstreamUnavailable
from shared.ids import new_id
from shared.messages import CaseEvent, CaseSnapshot, Envelope
from shared.store import Document
from tests.support.notify_memory import MemoryDeliveries, MemorySurveys, MemoryTemplates

START = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SLOT = "th/acknowledged.short"
SETTINGS: dict[str, Any] = {
    "notify_lease_s": 60,
    "notify_retry_min_s": 10,
    "notify_retry_base_s": 30,
    "notify_retry_max_s": 300,
    "notify_give_up_after_s": 3600,
    "notify_poll_interval_s": 5,
    "notify_rate_limit": 100,
}


class FakePrivacy:
    """Privacy's reply-handle look-up: every handle reaches the same LINE user."""

    def __init__(self, *, reply_token: str | None = None, expires_at: datetime | None = None):
        self.answer = {
            "channel": "line",
            "line_user_id": "U" + "1" * 32,
            "reply_token": reply_token,
            "reply_token_expires_at": expires_at.isoformat() if expires_at else None,
        }
        self.lookups = 0

    async def reply_target(self, handle: str, *, case_id: str) -> ReplyTarget:
        """Return the LINE user, as privacy's JSON answer reads."""
        self.lookups += 1
        return ReplyTarget.model_validate({"subject_ref": f"sub-{handle}", **self.answer})

    async def staff_texts(self, refs: list[str], *, case_id: str) -> dict[str, str]:
        """Return no staff texts: these notifications carry none."""
        return {}


@dataclass
class FakeLine:
    """A LINE provider that answers from a script (then accepts) and keeps what it got."""

    script: list[DeliveryResult] = field(default_factory=list)
    always: DeliveryResult | None = None
    received: list[OutboundMessage] = field(default_factory=list)

    async def send(self, notification: OutboundMessage) -> DeliveryResult:
        """Answer the next scripted result, or accept."""
        self.received.append(notification)
        if self.script:
            return self.script.pop(0)
        return self.always or DeliveryResult(status="sent", provider_status=200, via="push")


DOWN = DeliveryResult(status="failed", retryable=True, provider_status=503, via="push")


class Published(list[Envelope]):
    """The messages to agents, in the order published."""

    async def publish(self, envelope: Envelope) -> None:
        """Keep ``envelope``."""
        self.append(envelope)


@dataclass
class Desk:
    """Notify's use cases wired to in-memory repositories and stand-in providers."""

    clock: FrozenClock = field(default_factory=lambda: FrozenClock(START))
    deliveries: MemoryDeliveries = field(default_factory=MemoryDeliveries)
    templates: MemoryTemplates = field(default_factory=MemoryTemplates)
    privacy: FakePrivacy = field(default_factory=FakePrivacy)
    line: FakeLine = field(default_factory=FakeLine)
    published: Published = field(default_factory=Published)
    breakers: Breakers | None = None

    def __post_init__(self) -> None:
        self.breakers = self.breakers or Breakers(clock=self.clock, rng=random.Random(7))
        self.library = TemplateLibrary(templates=self.templates, clock=self.clock)

    def worker(self) -> DeliveryWorker:
        """Return one replica's delivery worker."""
        assert self.breakers is not None
        settings = NotifySettings(**SETTINGS)
        reachability = Reachability(deliveries=self.deliveries, clock=self.clock)
        attempter = Attempter(
            deliveries=self.deliveries,
            reachability=reachability,
            clock=self.clock,
            privacy=self.privacy,
            channels=Channels({"line": self.line}),
            library=self.library,
            directory=OrgDirectory(),
            signer=SurveySigner("survey-key", ttl=timedelta(days=14), clock=self.clock),
            survey_base_url="https://notify.test",
            rate_limit=settings.notify_rate_limit,
            rate_window_s=settings.notify_rate_window_s,
            breakers=self.breakers,
        )
        return DeliveryWorker(
            deliveries=self.deliveries,
            attempter=attempter,
            reachability=reachability,
            library=self.library,
            settings=settings,
            clock=self.clock,
            publisher=self.published,
            rng=random.Random(3),
        )

    def consumer(self, worker: DeliveryWorker) -> Notify:
        """Return the consumer that records deliveries for ``worker``."""
        reachability = Reachability(deliveries=self.deliveries, clock=self.clock)
        return Notify(directory=OrgDirectory(), reachability=reachability, enqueue=worker.enqueue)

    def delivery(self, envelope: Envelope) -> dict[str, Any]:
        """Return the delivery ``envelope`` caused, as the repository holds it."""
        return self.deliveries.deliveries[notification_id(envelope.id)]


def opened(*, handle: str | None = None) -> Envelope:
    """Return a ``case.opened`` event of a new LINE case."""
    case_id = new_id()
    case = CaseSnapshot(
        id=case_id,
        number="VOC-2026-000777",
        org="pea",
        status="new",
        unit="pea-netops",
        channel="line",
        subject_ref=f"sub-{case_id}",
        reply_handle=handle or f"rh-{case_id}",
        language="th",
    )
    event = CaseEvent(type="case.opened", seq=1, at=START, case=case, detail={})
    return Envelope.model_validate_json(Envelope.of(event).model_dump_json())


async def test_an_event_recorded_twice_makes_one_delivery() -> None:
    desk = Desk()
    first, second = desk.worker(), desk.worker()
    event = opened()

    await desk.consumer(first).on_event(event)
    await desk.consumer(first).on_event(event)
    await desk.consumer(second).on_event(event)  # redelivered to another replica
    await first.work_once()
    await second.work_once()

    assert list(desk.deliveries.deliveries) == [notification_id(event.id)]
    assert desk.delivery(event)["status"] == "sent"
    assert len(desk.line.received) == 1


async def test_a_due_delivery_is_claimed_once_under_concurrent_claims() -> None:
    desk = Desk()
    event = opened()
    await desk.consumer(desk.worker()).on_event(event)  # that replica dies before sending
    desk.clock.advance(timedelta(seconds=SETTINGS["notify_lease_s"] + 1))

    replicas = [desk.worker() for _ in range(4)]
    await asyncio.gather(*(replica.work_once() for replica in replicas))

    assert len(desk.line.received) == 1
    assert desk.delivery(event)["status"] == "sent"
    claims = await asyncio.gather(
        *(
            desk.deliveries.claim_due(now=desk.clock.now(), lease=timedelta(minutes=1), limit=5)
            for _ in range(4)
        )
    )
    assert claims == [[], [], [], []]  # sent: due for nobody


async def test_concurrent_claims_lease_a_due_delivery_to_one_claimer() -> None:
    desk = Desk()
    event = opened()
    await desk.consumer(desk.worker()).on_event(event)
    desk.clock.advance(timedelta(seconds=SETTINGS["notify_lease_s"] + 1))
    lease = timedelta(minutes=1)

    claims = await asyncio.gather(
        *(desk.deliveries.claim_due(now=desk.clock.now(), lease=lease, limit=5) for _ in range(5))
    )

    assert sorted(len(claim) for claim in claims) == [0, 0, 0, 0, 1]
    desk.clock.advance(lease)
    [again] = await desk.deliveries.claim_due(now=desk.clock.now(), lease=lease, limit=5)
    assert again["_id"] == notification_id(event.id)  # the lease ran out: due again


async def test_a_failed_send_is_retried_later_with_backoff_and_is_not_claimable_before() -> None:
    desk = Desk(line=FakeLine(script=[DOWN]))
    worker = desk.worker()
    event = opened()
    await desk.consumer(worker).on_event(event)

    await worker.work_once()

    failed_at = desk.clock.now()
    doc = desk.delivery(event)
    assert doc["status"] == "queued"
    assert [a["provider_status"] for a in doc["attempts"]] == [503]
    wait = (doc["next_attempt_at"] - failed_at).total_seconds()
    assert SETTINGS["notify_retry_min_s"] <= wait <= SETTINGS["notify_retry_base_s"]
    desk.clock.set(doc["next_attempt_at"] - timedelta(seconds=1))
    assert (
        await desk.deliveries.claim_due(now=desk.clock.now(), lease=timedelta(minutes=1), limit=5)
        == []
    )
    await desk.worker().work_once()  # another replica looks for due work
    assert len(desk.line.received) == 1  # not before its time

    desk.clock.set(doc["next_attempt_at"])
    await worker.work_once()

    assert len(desk.line.received) == 2
    doc = desk.delivery(event)
    assert doc["status"] == "sent"
    assert len(doc["attempts"]) == 2


async def test_a_provider_outage_opens_the_breaker_and_stops_sends() -> None:
    clock = FrozenClock(START)
    breakers = Breakers(clock=clock, failures=3, open_s=30, rng=random.Random(7))
    desk = Desk(clock=clock, breakers=breakers, line=FakeLine(always=DOWN))
    worker = desk.worker()
    events = [opened() for _ in range(6)]
    for event in events:
        await desk.consumer(worker).on_event(event)

    await worker.work_once()

    assert len(desk.line.received) == 3
    assert breakers.state("line") == "open"
    held = [desk.delivery(event) for event in events[3:]]
    assert all(doc["status"] == "queued" and doc["attempts"] == [] for doc in held)
    assert all(doc["next_attempt_at"] >= clock.now() + timedelta(seconds=30) for doc in held)

    clock.advance(timedelta(seconds=20))  # the circuit is still open
    await worker.work_once()
    assert len(desk.line.received) == 3


async def test_a_reply_token_is_used_once() -> None:
    privacy = FakePrivacy(reply_token="reply-token-1", expires_at=START + timedelta(minutes=1))
    desk = Desk(privacy=privacy)
    worker = desk.worker()
    handle = f"rh-{new_id()}"
    for _ in range(2):  # two notifications of the same contact
        await desk.consumer(worker).on_event(opened(handle=handle))

    await worker.work_once()

    addresses = [message.address for message in desk.line.received]
    assert all(isinstance(address, LineAddress) for address in addresses)
    assert [getattr(a, "reply_token", None) for a in addresses] == ["reply-token-1", None]
    assert await desk.deliveries.claim_reply_token(handle, at=desk.clock.now()) is False


async def test_a_template_override_replaces_the_default_and_a_reset_restores_it() -> None:
    desk = Desk()
    worker = desk.worker()
    shipped = desk.library.current().render("acknowledged", "line", "th", case_number="X").text
    text = "รับเรื่อง {{ case_number }} ไว้แล้ว"

    await desk.library.set_slot(SLOT, text, by="admin.somchai")
    await desk.consumer(worker).on_event(opened())
    await worker.work_once()

    assert desk.line.received[-1].text == "รับเรื่อง VOC-2026-000777 ไว้แล้ว"
    replica = TemplateLibrary(templates=desk.templates, clock=desk.clock)
    await replica.refresh()
    assert replica.current().render("acknowledged", "line", "th", case_number="X").text == (
        "รับเรื่อง X ไว้แล้ว"
    )

    desk.clock.advance(timedelta(seconds=1))
    await desk.library.reset_slot(SLOT, by="admin.somchai")
    await replica.refresh()

    assert replica.current().render("acknowledged", "line", "th", case_number="X").text == shipped
    assert await desk.templates.overrides() == {}
    log = await desk.templates.changes(limit=10)
    assert [(c["action"], c["before"], c["after"]) for c in log] == [
        ("reset", text, None),
        ("set", None, text),
    ]


class FakeRouting:
    """Routing's satisfaction door: down for the first ``down`` calls, then recording."""

    def __init__(self, *, down: int = 0) -> None:
        self.down = down
        self.ratings: list[tuple[str, int]] = []

    async def record_satisfaction(
        self, case_id: str, *, score: int, comment: str | None, channel: str
    ) -> None:
        """Record the rating, or fail as an unreachable routing would."""
        if self.down:
            self.down -= 1
            raise UpstreamUnavailable("routing answered 503")
        self.ratings.append((case_id, score))


async def test_a_survey_link_records_one_rating_and_gives_back_one_routing_did_not_take() -> None:
    clock = FrozenClock(START)
    signer = SurveySigner("survey-key", ttl=timedelta(days=14), clock=clock)
    token = signer.issue(case_id="case-1", case_number="VOC-1", channel="sms", language="th")
    ticket: SurveyTicket = signer.verify(token)
    surveys, routing = MemorySurveys(), FakeRouting(down=1)

    async def rate(score: int) -> str:
        rated = await record_rating(
            ticket, token, score=score, comment=None, surveys=surveys, routing=routing, clock=clock
        )
        return rated.state

    assert await rate(5) == "unavailable"
    assert await rate(4) == "thanks"  # given back: the customer could send again
    assert await rate(1) == "already"
    assert routing.ratings == [("case-1", 4)]


class CountingDeliveries(MemoryDeliveries):
    """The in-memory log, counting the worker's looks for due and for unannounced deliveries."""

    def __init__(self) -> None:
        super().__init__()
        self.claims = 0
        self.sweeps = 0

    async def claim_due(self, *, now: datetime, lease: timedelta, limit: int) -> list[Document]:
        """Count the look, then lease as the in-memory log does."""
        self.claims += 1
        return await super().claim_due(now=now, lease=lease, limit=limit)

    async def unannounced(self, *, settled_before: datetime, limit: int = 100) -> list[Document]:
        """Count the look, then answer as the in-memory log does."""
        self.sweeps += 1
        return await super().unannounced(settled_before=settled_before, limit=limit)


async def test_an_idle_worker_looks_for_due_work_less_often_yet_takes_a_dead_replicas() -> None:
    deliveries = CountingDeliveries()
    desk = Desk(deliveries=deliveries)
    worker = desk.worker()
    poll = timedelta(seconds=SETTINGS["notify_poll_interval_s"])

    for _ in range(24):  # two minutes of nothing to do, a round per poll interval
        await worker.work_once()
        desk.clock.advance(poll)

    # Once per poll interval was 24 of each; looks finding nothing back off
    # (2, 4, then 8 intervals apart), the sweep runs once per grace period.
    assert deliveries.claims <= 5
    assert deliveries.sweeps <= 12
    event = opened()
    await desk.consumer(desk.worker()).on_event(event)  # that replica dies before sending
    recorded = desk.clock.now()
    for _ in range(100):
        if desk.line.received:
            break
        await worker.work_once()
        desk.clock.advance(poll)
    assert desk.delivery(event)["status"] == "sent"
    lease = timedelta(seconds=SETTINGS["notify_lease_s"])
    assert desk.clock.now() - recorded <= lease + 9 * poll


async def test_a_retry_is_looked_for_when_it_comes_due_however_idle_the_worker() -> None:
    deliveries = CountingDeliveries()
    desk = Desk(deliveries=deliveries, line=FakeLine(script=[DOWN]))
    worker = desk.worker()
    for _ in range(12):  # idle long enough to look only every eighth interval
        await worker.work_once()
        desk.clock.advance(timedelta(seconds=SETTINGS["notify_poll_interval_s"]))
    event = opened()
    await desk.consumer(worker).on_event(event)
    await worker.work_once()
    retry_at = desk.delivery(event)["next_attempt_at"]

    desk.clock.set(retry_at)
    await worker.work_once()

    assert desk.delivery(event)["status"] == "sent"
    assert len(desk.line.received) == 2


async def test_a_batch_of_events_is_recorded_with_one_outcome_per_event() -> None:
    desk = Desk()
    worker = desk.worker()
    failing = opened()

    async def enqueue(intent: Intent) -> bool:
        if intent.event_id == failing.id:
            raise StoreUnavailable("store down (test)")
        return await worker.enqueue(intent)

    reachability = Reachability(deliveries=desk.deliveries, clock=desk.clock)
    consumer = Notify(directory=OrgDirectory(), reachability=reachability, enqueue=enqueue)
    first, last = opened(), opened()

    outcomes = await consumer.on_events([first, failing, last])

    assert outcomes[0] is None
    assert isinstance(outcomes[1], StoreUnavailable)
    assert outcomes[2] is None
    assert set(desk.deliveries.deliveries) == {notification_id(first.id), notification_id(last.id)}
    (subscription,) = consumer.subscriptions()
    assert subscription.batch_handler == consumer.on_events
