"""Measure routing: contacts routed per second through the bus and the store, and what an SLA
watcher sweep costs as the number of open cases grows.

    python bench/routing.py [--contacts 1000] [--open-cases 2000,20000] [--due 100]
                            [--model trained|keywords]

The store is VOCDESK_MONGO_URL if set, else the embedded server; the bus is RabbitMQ on
127.0.0.1:5672 if it answers (on queues of the benchmark's own), else the in-process bus.
For the issue's figure run ``--open-cases 1000000`` (slow to fill on the embedded store).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.routing.app import INDEXES, Routing, build
from services.routing.classification.model import default_model
from services.routing.classification.pipeline import TextModel
from services.routing.sla.watcher import SlaWatcher
from shared.bus.base import Bus, Subscription
from shared.bus.inproc import InProcessBus
from shared.bus.topology import QueueSpec
from shared.clock import FrozenClock
from shared.embedded import EmbeddedMongo
from shared.ids import new_id
from shared.messages import ContactScreened, Envelope
from shared.runtime import Runtime, port_answers
from shared.settings import Settings
from shared.store import Store, connect
from tests.support.routing import KeywordModel

SEED = Path(__file__).resolve().parents[1] / "services" / "routing" / "classification" / "data"
START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def texts() -> list[str]:
    """Return the pea seed texts to send as contacts."""
    lines = (SEED / "complaints_train.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if '"org": "pea"' in line]


def contact(text: str, at: datetime) -> ContactScreened:
    """Return a screened app contact from a new customer."""
    return ContactScreened(
        contact_id=new_id(),
        channel="app",
        org="pea",
        received_at=at,
        subject_ref=f"sub_{new_id()}",
        reply_handle=f"rh_{new_id()}",
        consent="withheld",
        text=text,
    )


def make_bus(tag: str) -> tuple[Bus, QueueSpec]:
    """Return RabbitMQ (queues of the benchmark's own) or the in-process bus, and the work queue."""
    work = QueueSpec(f"bench.{tag}.contacts", (f"bench.{tag}.contact",))
    events = QueueSpec(f"bench.{tag}.events", ("case.#", "reply.requested"))
    queues = {work.name: work, events.name: events}
    if port_answers():
        from shared.bus.amqp import AmqpBus

        return AmqpBus("amqp://guest:guest@127.0.0.1:5672/", queues=queues, publish_timeout=5), work
    return InProcessBus(queues), work


async def drop_bench_queues(tag: str) -> None:
    """Remove the benchmark's queues from the broker."""
    if not port_answers():
        return
    import aio_pika

    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel()
        for name in ("contacts", "events"):
            for queue in (f"bench.{tag}.{name}", f"bench.{tag}.{name}.dead"):
                await channel.queue_delete(queue)


def routing_on(store: Store, bus: Bus, clock: FrozenClock, model: TextModel) -> Routing:
    """Wire routing for the benchmark."""
    data = Path(tempfile.mkdtemp(prefix="bench-routing-"))
    settings = Settings(env="test", data_dir=data)
    runtime = Runtime(service="routing", settings=settings, bus=bus, store=store, clock=clock)
    return build(runtime, model=model)


async def throughput(store: Store, model: TextModel, count: int) -> dict[str, Any]:
    """Publish ``count`` screened contacts and time until every case is stored and relayed."""
    tag = new_id().lower()
    bus, work = make_bus(tag)
    clock = FrozenClock(START)
    routing = routing_on(store, bus, clock, model)
    await bus.connect()
    await bus.subscribe(
        Subscription(queue=work.name, handler=routing.contacts.on_contact_screened, prefetch=32)
    )
    relay = asyncio.create_task(routing.relay.run())
    corpus = texts()
    envelopes = [
        Envelope.of(contact(random.choice(corpus), START)).model_copy(
            update={"routing_key": f"bench.{tag}.contact"}
        )
        for _ in range(count)
    ]
    started = time.perf_counter()
    await asyncio.gather(*(bus.publish(e) for e in envelopes))
    published = time.perf_counter()
    cases = store["cases"]
    # The store has no change notification to wait on, so poll it.
    while await cases.count_documents({}) < count:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    routed = time.perf_counter()
    while await cases.count_documents({"outbox.id": {"$exists": True}}):
        routing.relay.wake()
        await asyncio.sleep(0.05)
    relayed = time.perf_counter()
    relay.cancel()
    await bus.close()
    await drop_bench_queues(tag)
    return {
        "bus": bus.kind,
        "contacts": count,
        "publish_s": round(published - started, 2),
        "routed_s": round(routed - started, 2),
        "relayed_s": round(relayed - started, 2),
        "contacts_per_s": round(count / (routed - started), 1),
    }


async def fill(store: Store, total: int) -> None:
    """Grow the cases collection to ``total`` open cases none of which is due soon."""
    cases = store["cases"]
    have = await cases.count_documents({})
    far = START + timedelta(days=365)
    batch: list[dict[str, Any]] = []
    for _ in range(have, total):
        case_id = new_id()
        batch.append(
            {
                "_id": case_id,
                "number": f"F-{case_id}",
                "status": "routed",
                "unit": "pea-billing",
                "contacts": [{"contact_id": f"f-{case_id}"}],
                "sla_next_due": far,
            }
        )
        if len(batch) == 5000:
            await cases.insert_many(batch, ordered=False)
            batch = []
    if batch:
        await cases.insert_many(batch, ordered=False)


async def sweep_cost(
    store: Store, model: TextModel, sizes: list[int], due: int
) -> list[dict[str, Any]]:
    """For each collection size, make ``due`` cases come due and time one watcher sweep."""
    rows = []
    for size in sizes:
        await fill(store, size)
        clock = FrozenClock(START)
        routing = routing_on(store, InProcessBus({}), clock, model)
        for _ in range(due):  # real cases: urgent hazards, first step due after 7.5 minutes
            await routing.contacts.on_contact_screened(
                Envelope.of(contact("เสาไฟล้ม สายไฟขาดพาดถนน", START))
            )
        await store["cases"].update_many({}, {"$set": {"outbox": []}})
        clock.advance(timedelta(minutes=10))
        watcher = SlaWatcher(routing.runtime, org=routing.org, relay=routing.relay)
        started = time.perf_counter()
        fired = await watcher.sweep()
        elapsed = time.perf_counter() - started
        started = time.perf_counter()
        assert await watcher.sweep() == 0
        idle = time.perf_counter() - started
        rows.append(
            {
                "open_cases": await store["cases"].count_documents({}),
                "due": due,
                "fired": fired,
                "sweep_s": round(elapsed, 3),
                "idle_sweep_ms": round(idle * 1000, 1),
            }
        )
    return rows


async def main() -> None:
    """Run both measurements and print them as JSON lines."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--open-cases", default="2000,20000", help="comma-separated sizes")
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--model", choices=("trained", "keywords"), default="trained")
    args = parser.parse_args()
    model: TextModel = KeywordModel()
    if args.model == "trained":
        model = default_model("pea", cache_dir=Path(tempfile.gettempdir()) / "vocdesk-bench-models")
    embedded = None
    url = os.environ.get("VOCDESK_MONGO_URL")
    if url is None:
        embedded = EmbeddedMongo(Path(tempfile.mkdtemp(prefix="bench-mongo-")) / "data")
        url = embedded.start()
    try:
        for name, job in (
            ("throughput", lambda s: throughput(s, model, args.contacts)),
            (
                "sweep",
                lambda s: sweep_cost(
                    s, model, [int(n) for n in args.open_cases.split(",")], args.due
                ),
            ),
        ):
            store = connect(url, f"bench_{new_id().lower()}")
            await store.ensure_indexes(INDEXES)
            try:
                result = await job(store)
                for row in result if isinstance(result, list) else [result]:
                    print(json.dumps({"measure": name, "model": args.model, **row}), flush=True)
            finally:
                await store.client.drop_database(store.db.name)
                await store.client.close()
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    asyncio.run(main())
