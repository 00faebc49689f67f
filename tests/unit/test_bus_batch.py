"""A batch of deliveries: one handler call, and each message's own ack, requeue or dead letter."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shared.bus import DELIVERY_LIMIT, Decision, MemoryInbox, Subscription, decide_batch
from shared.errors import Poison, Retry
from shared.messages import Envelope
from tests.support.messages import topic_envelope


class Consumer:
    """Handlers that fail the messages they are told to, and record what they ran."""

    def __init__(self, failures: dict[str, Exception] | None = None) -> None:
        self.failures = failures or {}
        self.batches: list[list[str]] = []
        self.singles: list[str] = []

    async def one(self, envelope: Envelope) -> None:
        self.singles.append(envelope.id)
        if envelope.id in self.failures:
            raise self.failures[envelope.id]

    async def many(self, envelopes: Sequence[Envelope]) -> list[BaseException | None]:
        self.batches.append([e.id for e in envelopes])
        return [self.failures.get(e.id) for e in envelopes]

    def subscription(self, inbox: MemoryInbox) -> Subscription:
        return Subscription(
            queue="q", handler=self.one, inbox=inbox, batch_handler=self.many, batch_size=8
        )


def _envelopes(count: int) -> list[Envelope]:
    return [topic_envelope("t.x", text=f"n{i}") for i in range(count)]


async def test_a_batch_acks_the_good_skips_the_done_and_parks_only_the_poison() -> None:
    inbox = MemoryInbox()
    done, poison, retry, *good = _envelopes(5)
    await inbox.complete("q", done.id)
    consumer = Consumer({poison.id: Poison("no such unit"), retry.id: Retry("rules reloading")})
    items = [(e, 1) for e in (done, poison, retry, *good)]
    outcomes = await decide_batch(consumer.subscription(inbox), items)
    assert outcomes == [
        (Decision.ACK, "duplicate"),
        (Decision.DEAD_LETTER, "poison: no such unit"),
        (Decision.REQUEUE, "rules reloading"),
        (Decision.ACK, "handled"),
        (Decision.ACK, "handled"),
    ]
    assert consumer.batches == [[poison.id, retry.id, *(e.id for e in good)]]
    assert consumer.singles == []
    # Handled ones are done; failed ones were given back for their redelivery.
    claims = await inbox.claim_many("q", [e.id for e in (poison, retry, *good)])
    assert claims == {poison.id: "new", retry.id: "new", **{e.id: "done" for e in good}}


async def test_a_retry_at_the_delivery_limit_is_dead_lettered() -> None:
    (envelope,) = _envelopes(1)
    consumer = Consumer({envelope.id: Retry("still reloading")})
    (outcome,) = await decide_batch(
        consumer.subscription(MemoryInbox()), [(envelope, DELIVERY_LIMIT)]
    )
    assert outcome[0] is Decision.DEAD_LETTER
    assert "still reloading" in outcome[1]


async def test_a_message_delivered_twice_in_one_batch_runs_once() -> None:
    (envelope,) = _envelopes(1)
    consumer = Consumer()
    outcomes = await decide_batch(consumer.subscription(MemoryInbox()), [(envelope, 1)] * 2)
    assert outcomes == [(Decision.ACK, "handled"), (Decision.ACK, "duplicate")]
    assert consumer.batches == [[envelope.id]]
    assert consumer.singles == []


async def test_a_failing_batch_handler_leaves_every_message_to_the_single_handler() -> None:
    envelopes = _envelopes(3)
    consumer = Consumer()

    async def broken(_: Sequence[Envelope]) -> list[BaseException | None]:
        raise RuntimeError("could not read the batch")

    subscription = Subscription(
        queue="q", handler=consumer.one, inbox=MemoryInbox(), batch_handler=broken, batch_size=8
    )
    outcomes = await decide_batch(subscription, [(e, 1) for e in envelopes])
    assert outcomes == [(Decision.ACK, "handled")] * 3
    assert consumer.singles == [e.id for e in envelopes]


async def test_an_undecodable_message_is_parked_without_reaching_either_handler() -> None:
    (good,) = _envelopes(1)
    bad = good.model_copy(update={"id": "other", "version": 99})
    consumer = Consumer()
    outcomes = await decide_batch(consumer.subscription(MemoryInbox()), [(bad, 1), (good, 1)])
    assert outcomes[0][0] is Decision.DEAD_LETTER
    assert "unknown version" in outcomes[0][1]
    assert outcomes[1] == (Decision.ACK, "handled")
    assert consumer.batches == [[good.id]]


@pytest.mark.parametrize("inbox", [None, MemoryInbox()])
async def test_a_batch_without_failures_acks_everything(inbox: MemoryInbox | None) -> None:
    envelopes = _envelopes(4)
    consumer = Consumer()
    subscription = Subscription(
        queue="q", handler=consumer.one, inbox=inbox, batch_handler=consumer.many, batch_size=8
    )
    outcomes = await decide_batch(subscription, [(e, 1) for e in envelopes])
    assert outcomes == [(Decision.ACK, "handled")] * 4
