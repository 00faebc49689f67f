"""Accepting a contact: archive, publish with confirms, and only then answer."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from services.intake import store as intake_store
from shared.errors import BusError, Conflict
from shared.ids import new_id
from shared.logging import current_correlation_id
from shared.messages import Contact, ContactReceived, Envelope
from shared.runtime import Runtime
from shared.store import Store

log = logging.getLogger(__name__)


async def publish_contact(
    runtime: Runtime, contact: Contact, *, message_id: str | None = None
) -> Envelope:
    """Publish ``contact.received.<channel>``; raise ``BusError`` if not confirmed."""
    envelope = Envelope.of(
        ContactReceived(contact=contact),
        occurred_at=contact.received_at,
        message_id=message_id,
        # The request's correlation id (its trace id when it came traced) follows the contact.
        correlation_id=current_correlation_id(),
    )
    await runtime.bus.publish(envelope)
    log.info(
        "contact accepted",
        extra={"contact_id": contact.id, "channel": contact.channel, "message_id": envelope.id},
    )
    return envelope


@dataclass(frozen=True)
class Acceptance:
    """A contact to accept once under its idempotency ``key``, with the payload it came in."""

    key: str
    body_hash: str
    contact: Contact
    raw: bytes
    content_type: str
    raw_meta: dict[str, Any] | None = None
    message_id: str = field(default_factory=new_id)


# What a channel's idempotency key is made of, as its sender knows it.
_KEY_NAMES = {
    "app": "Idempotency-Key",
    "line": "webhook event id",
    "phone": "call id",
    "fax": "fax id",
    "walk_in": "branch, Bangkok date and queue number",
    "email": "Message-ID",
}


def key_name(key: str) -> str:
    """Return what the sender calls the idempotency key ``key`` (``app:…``, ``fax:…``)."""
    return _KEY_NAMES.get(key.partition(":")[0], "idempotency key")


async def accept_once(
    runtime: Runtime,
    *,
    key: str,
    body_hash: str,
    contact: Contact,
    raw: bytes,
    content_type: str,
    raw_meta: dict[str, Any] | None = None,
) -> str:
    """Accept ``contact`` once per idempotency ``key``; return the contact id to answer with.

    Contacts accepted at the same moment by other requests share its store
    writes (``GroupAccepter``): under a burst, a claim, an archive and a
    completion serve a whole group of requests.
    """
    item = Acceptance(key, body_hash, contact, raw, content_type, raw_meta)
    return (await accepter(runtime).accept([item]))[0]


async def accept_all(runtime: Runtime, items: Sequence[Acceptance]) -> list[str]:
    """Accept each item once per key, publishing in order; return each one's contact id.

    The keys are claimed first (so concurrent retries cannot both publish), the
    new payloads archived, the contacts published with confirms one by one in
    order, and the keys completed: three store writes however many items come
    together. A key used before answers with its earlier contact. If a publish
    fails, that item and the ones after it are undone (archive entry and claim
    removed) and the error raised, so nothing is half-written and the client
    can retry; the ones before it are accepted, and a retry finds them done.
    """
    return await accepter(runtime).accept(items)


# At most this many contacts go into one group's writes.
GROUP_LIMIT = 256


class GroupAccepter:
    """Accepts the requests that arrive while a group is being written as the next group.

    A request waits for no timer: the first one starts a group at once, and
    whatever arrives while that group's writes and publishes are under way
    forms the next, so a quiet intake answers as fast as before and a busy
    one spends three store writes on many requests. Each request keeps its
    own outcome (a conflict or a failed publish fails only the request it
    belongs to); two requests with the same key never share a group.
    """

    def __init__(self, runtime: Runtime, *, limit: int = GROUP_LIMIT) -> None:
        self._runtime = runtime
        self._limit = limit
        self._waiting: deque[_Request] = deque()
        self._writer: asyncio.Task[None] | None = None

    async def accept(self, items: Sequence[Acceptance]) -> list[str]:
        """Accept one request's ``items`` with whichever requests share its group."""
        # The request's context (correlation id, trace) goes with its contacts.
        request = _Request(
            list(items), asyncio.get_running_loop().create_future(), contextvars.copy_context()
        )
        self._waiting.append(request)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        # The group is written by its own task, so a client that goes away does
        # not cut another request's writes short; a retry finds its contact.
        return await asyncio.shield(request.answer)

    async def _write(self) -> None:
        while self._waiting:
            group = self._next_group()
            try:
                await _accept_group(self._runtime, group)
            except Exception as exc:  # a store or broker failure fails the whole group
                for request in group:
                    if not request.answer.done():
                        request.answer.set_exception(exc)

    def _next_group(self) -> list[_Request]:
        group: list[_Request] = []
        keys: set[str] = set()
        size = 0
        later: list[_Request] = []
        while self._waiting and size < self._limit:
            request = self._waiting.popleft()
            own = {item.key for item in request.items}
            if keys & own and group:
                later.append(request)  # the same key as a request of this group: the next one
                continue
            group.append(request)
            keys |= own
            size += len(request.items)
        self._waiting.extendleft(reversed(later))
        return group


@dataclass
class _Request:
    """One caller's items and the future its answer (or error) is set on."""

    items: list[Acceptance]
    answer: asyncio.Future[list[str]]
    context: contextvars.Context
    error: BaseException | None = None
    firsts: dict[str, Acceptance] = field(default_factory=dict)
    earlier: dict[str, dict[str, Any]] = field(default_factory=dict)
    new: list[Acceptance] = field(default_factory=list)
    # Keys whose stale claim (a request that died) this request took over.
    taken_over: set[str] = field(default_factory=set)

    def settle(self) -> None:
        """Answer the caller: its error, or each item's contact id."""
        if self.answer.done():
            return
        if self.error is not None:
            self.answer.set_exception(self.error)
            return
        answers = {key: str(record["contact_id"]) for key, record in self.earlier.items()}
        self.answer.set_result(
            [answers.get(item.key, self.firsts[item.key].contact.id) for item in self.items]
        )


_ACCEPTERS: dict[int, tuple[weakref.ref[Runtime], GroupAccepter]] = {}


def accepter(runtime: Runtime) -> GroupAccepter:
    """Return the group accepter of ``runtime`` (one per runtime, made on first use)."""
    held = _ACCEPTERS.get(id(runtime))
    if held is not None and held[0]() is runtime:
        return held[1]
    for key, (ref, _) in list(_ACCEPTERS.items()):
        if ref() is None:
            del _ACCEPTERS[key]
    made = GroupAccepter(runtime)
    _ACCEPTERS[id(runtime)] = (weakref.ref(runtime), made)
    return made


async def _accept_group(runtime: Runtime, group: Sequence[_Request]) -> None:
    """Claim, archive, publish and complete every request of ``group``; answer each.

    Every answer is given once the group's writes are over, so a client that
    hears of a failure finds its claims already given back.
    """
    store = runtime.store
    live: list[_Request] = []
    for request in group:
        try:
            request.firsts = _firsts(request.items)
        except Conflict as exc:
            request.error = exc
            continue
        live.append(request)
    claims = [_claim(item) for request in live for item in request.firsts.values()]
    found = await intake_store.claim_keys_each(store, claims)
    release: list[str] = []
    ready: list[_Request] = []
    for request in live:
        own = {key: found[key] for key in request.firsts if key in found}
        refused = next((r for r in own.values() if isinstance(r, Conflict)), None)
        earlier = {k: r for k, r in own.items() if not isinstance(r, Conflict)}
        for key, record in list(earlier.items()):
            if record["state"] == intake_store.TAKEN_OVER:
                request.firsts[key] = _as_claimed(request.firsts[key], record)
                request.taken_over.add(key)
                del earlier[key]
        request.earlier = earlier
        # New: claimed now, or a dead request's stale claim taken over.
        request.new = [
            item
            for key, item in request.firsts.items()
            if key not in earlier and not isinstance(own.get(key), Conflict)
        ]
        try:
            if refused is not None:
                raise refused
            _check_earlier(earlier, request.firsts)
        except Conflict as exc:
            release += [item.key for item in request.new]  # nothing of it is accepted
            request.error = exc
            continue
        ready.append(request)
    await intake_store.release_keys(store, release)
    fresh = [(request, item) for request in ready for item in request.new]
    to_archive = [item for request, item in fresh if not await _archived(store, request, item)]
    await intake_store.archive_raws(store, [await _raw_record(store, item) for item in to_archive])
    published = await asyncio.gather(
        *(asyncio.create_task(_publish_in_order(runtime, r), context=r.context) for r in ready)
    )
    done: list[str] = []
    undone: list[Acceptance] = []
    for request, count in zip(ready, published, strict=True):
        done += [item.key for item in request.new[:count]]
        undone += request.new[count:]
    for item in undone:
        await intake_store.discard_raw(store, _raw_id(item))
    await intake_store.release_keys(store, [item.key for item in undone])
    await intake_store.complete_keys(store, done)
    for request in group:
        request.settle()


def _firsts(items: Sequence[Acceptance]) -> dict[str, Acceptance]:
    firsts: dict[str, Acceptance] = {}
    for item in items:
        if firsts.setdefault(item.key, item).body_hash != item.body_hash:
            raise Conflict(f"{key_name(item.key)} was already used with a different body")
    return firsts


def _claim(item: Acceptance) -> intake_store.Claim:
    return intake_store.Claim(
        item.key,
        item.body_hash,
        item.contact.id,
        item.contact.received_at,
        message_id=item.message_id,
        raw_ref=item.contact.raw_ref,
    )


async def _publish_in_order(runtime: Runtime, request: _Request) -> int:
    """Publish a request's new contacts in order; return how many the broker confirmed."""
    published = 0
    try:
        for item in request.new:
            await publish_contact(runtime, item.contact, message_id=item.message_id)
            published += 1
    except BusError as exc:
        request.error = exc
    return published


def _as_claimed(item: Acceptance, record: dict[str, Any]) -> Acceptance:
    """Return ``item`` under the ids of the stale claim it took over."""
    contact = item.contact.model_copy(
        update={
            "id": record["contact_id"],
            "raw_ref": record.get("raw_ref") or item.contact.raw_ref,
        }
    )
    message_id = record.get("message_id") or item.message_id
    return replace(item, contact=contact, message_id=message_id)


async def _archived(store: Store, request: _Request, item: Acceptance) -> bool:
    # Only a taken-over claim can find its payload archived by the request that died.
    if item.key not in request.taken_over or item.contact.raw_ref is None:
        return False
    return await intake_store.has_raw(store, _raw_id(item))


def _check_earlier(earlier: dict[str, dict[str, Any]], firsts: dict[str, Acceptance]) -> None:
    for key, record in earlier.items():
        if record["body_hash"] != firsts[key].body_hash:
            raise Conflict(f"{key_name(key)} was already used with a different body")
        if record["state"] != "done":
            raise Conflict(f"a request with this {key_name(key)} is still being processed")


def _raw_id(item: Acceptance) -> str:
    assert item.contact.raw_ref is not None
    return item.contact.raw_ref


async def _raw_record(store: Store, item: Acceptance) -> dict[str, Any]:
    return await intake_store.raw_document(
        store,
        raw_id=_raw_id(item),
        channel=item.contact.channel,
        body=item.raw,
        content_type=item.content_type,
        received_at=item.contact.received_at,
        meta=item.raw_meta,
    )
