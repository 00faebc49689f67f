"""Several deliveries at once: one inbox claim, one batch handler call, one completion.

Each message still gets its own outcome by ``decide``'s rules: an undecodable
one is dead-lettered, one handled before is acknowledged as a duplicate, a
poison one is dead-lettered with its reason, a failed one requeued (or
dead-lettered at the delivery limit). Whatever the batch cannot settle by
itself goes through ``decide`` one message at a time: an id being handled
elsewhere, a transient failure (held and retried in place as ``decide``
does), or every claimed message when the inbox or the batch handler itself
fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Iterator, Mapping, Sequence

from shared.bus.base import (
    REQUEUE_DELAY_S,
    Decision,
    Inbox,
    Subscription,
    decide,
    failure,
    undecodable,
)
from shared.logging import correlation_scope
from shared.messages.base import Envelope
from shared.tracing import TraceContext, trace_id_for, trace_scope

log = logging.getLogger(__name__)

Delivery = tuple[Envelope, int]  # the envelope and its delivery number
Outcome = tuple[Decision, str]
# Messages a batch leaves to ``decide`` run this many at a time, as a
# consumer's deliveries did before batches (a prefetch of 8).
ONE_BY_ONE = 8

# The trace each delivery of the batch being handled came with, by message id.
_traces: contextvars.ContextVar[Mapping[str, TraceContext] | None] = contextvars.ContextVar(
    "batch_traces", default=None
)


@contextlib.contextmanager
def message_scope(envelope: Envelope) -> Iterator[None]:
    """Log and trace the work of a batch handler as that of ``envelope``'s delivery."""
    known = (_traces.get() or {}).get(envelope.id)
    trace = known or TraceContext(trace_id_for(envelope.correlation_id))
    with correlation_scope(envelope.correlation_id), trace_scope(trace):
        yield


async def decide_batch(
    subscription: Subscription,
    items: Sequence[Delivery],
    *,
    traces: Mapping[str, TraceContext] | None = None,
) -> list[Outcome]:
    """Run ``subscription.batch_handler`` once over ``items``; return each item's decision.

    ``traces`` are the trace contexts the deliveries came with, by message id;
    the handler continues them through ``message_scope``.
    """
    token = _traces.set(traces or {})
    try:
        return await _decide_batch(subscription, items)
    finally:
        _traces.reset(token)


async def _decide(subscription: Subscription, item: Delivery, slots: asyncio.Semaphore) -> Outcome:
    async with slots:
        with message_scope(item[0]):
            return await decide(subscription, item[0], delivery=item[1])


async def _decide_batch(subscription: Subscription, items: Sequence[Delivery]) -> list[Outcome]:
    results: dict[int, Outcome] = {}
    runnable: list[int] = []
    for index, (envelope, _) in enumerate(items):
        reason = undecodable(envelope)
        if reason is None:
            runnable.append(index)
        else:
            results[index] = (Decision.DEAD_LETTER, reason)
    claimed, one_by_one = await _claim(subscription, items, runnable, results)
    if claimed:
        one_by_one += await _run(subscription, items, claimed, results)
    if one_by_one:
        slots = asyncio.Semaphore(ONE_BY_ONE)
        decided = await asyncio.gather(
            *(_decide(subscription, items[i], slots) for i in one_by_one)
        )
        results.update(zip(one_by_one, decided, strict=True))
    return [results[index] for index in range(len(items))]


async def _claim(
    subscription: Subscription,
    items: Sequence[Delivery],
    runnable: list[int],
    results: dict[int, Outcome],
) -> tuple[list[int], list[int]]:
    """Claim the runnable items in one call; return those claimed and those left to ``decide``."""
    inbox, queue = subscription.inbox, subscription.queue
    if inbox is None or not runnable:
        return runnable, []
    try:
        claims = await inbox.claim_many(queue, [items[i][0].id for i in runnable])
    except Exception as exc:
        log.warning("inbox could not claim a batch; one by one: %s", exc)
        return [], runnable
    claimed: list[int] = []
    one_by_one: list[int] = []
    seen: set[str] = set()
    for index in runnable:
        message_id = items[index][0].id
        # A second delivery of one id in the batch waits for the first, as a
        # concurrent delivery would (``decide`` finds it done afterwards).
        claim = "busy" if message_id in seen else claims.get(message_id, "busy")
        seen.add(message_id)
        if claim == "done":
            log.info("duplicate delivery skipped", extra={"message_id": message_id})
            results[index] = (Decision.ACK, "duplicate")
        elif claim == "new":
            claimed.append(index)
        else:
            one_by_one.append(index)
    return claimed, one_by_one


async def _run(
    subscription: Subscription,
    items: Sequence[Delivery],
    claimed: list[int],
    results: dict[int, Outcome],
) -> list[int]:
    """Run the batch handler over ``claimed``; settle each, return those left to ``decide``."""
    handler = subscription.batch_handler
    assert handler is not None
    inbox, queue = subscription.inbox, subscription.queue
    envelopes = [items[i][0] for i in claimed]
    try:
        outcomes = list(await handler(envelopes))
        if len(outcomes) != len(envelopes):
            raise RuntimeError(f"{len(outcomes)} outcomes for {len(envelopes)} messages")
    except Exception:
        log.exception("batch handler failed; handling its messages one by one")
        await _release(inbox, queue, [e.id for e in envelopes])
        return claimed
    done: list[str] = []
    failed: list[str] = []
    one_by_one: list[int] = []
    delay = 0
    for index, outcome in zip(claimed, outcomes, strict=True):
        envelope, delivery = items[index]
        if outcome is None:
            done.append(envelope.id)
            results[index] = (Decision.ACK, "handled")
            continue
        failed.append(envelope.id)
        exc = outcome if isinstance(outcome, Exception) else RuntimeError(repr(outcome))
        decision, reason, passing = failure(exc, envelope, delivery=delivery)
        if passing:
            one_by_one.append(index)  # held and retried in place by decide
            continue
        results[index] = (decision, reason)
        if decision is Decision.REQUEUE:
            delay = max(delay, delivery)
    if inbox is not None and done:
        try:
            await inbox.complete_many(queue, done)
        except Exception:
            # The effects are stored and handlers are idempotent: ack; the claims expire.
            log.warning("inbox could not record a handled batch", exc_info=True)
    await _release(inbox, queue, failed)
    if delay:
        # Requeues wait a little first, so a failing message does not spin.
        await asyncio.sleep(REQUEUE_DELAY_S * delay)
    return one_by_one


async def _release(inbox: Inbox | None, queue: str, message_ids: list[str]) -> None:
    if inbox is None or not message_ids:
        return
    try:
        await inbox.release_many(queue, message_ids)
    except Exception:
        log.warning("inbox could not release claims; they expire", exc_info=True)
