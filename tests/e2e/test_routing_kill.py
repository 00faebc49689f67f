"""Routing killed with SIGKILL while contacts stream in: after a restart nothing is lost or doubled.

``VOCDESK_KILL_CONTACTS`` sets how many contacts stream in: 1,000 by default, the issue's
acceptance figure; a lower number makes a quicker run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from pymongo import MongoClient

from shared.bus.amqp import AmqpBus
from shared.embedded import free_port
from shared.ids import new_id
from shared.messages import ContactScreened, Envelope
from tests.support.broker import private_vhost
from tests.support.cluster import REPO, wait_ready

pytestmark = pytest.mark.e2e

CONTACTS = int(os.environ.get("VOCDESK_KILL_CONTACTS", "1000"))
TEXTS = ("ไฟดับทั้งซอย", "ค่าไฟแพงผิดปกติ", "มิเตอร์หมุนเร็ว", "เสาไฟเอียง อ.สันทราย", "ไฟตกทุกเย็น")


def contacts() -> list[ContactScreened]:
    """Return the stream: mostly new customers, every fifth a follow-up of an earlier one."""
    stream: list[ContactScreened] = []
    for n in range(CONTACTS):
        subject = stream[n - 3].subject_ref if n % 5 == 4 else f"sub_{new_id()}"
        stream.append(
            ContactScreened(
                contact_id=new_id(),
                channel="line",
                org="pea",
                received_at=datetime.now(UTC),
                subject_ref=subject,
                reply_handle=f"rh_{new_id()}",
                consent="withheld",
                text=f"{TEXTS[n % len(TEXTS)]} ({n})",
            )
        )
    return stream


@contextmanager
def routing_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``vocdesk run routing`` until it is ready; stop it afterwards if still running."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", "routing"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(f"http://127.0.0.1:{env['VOCDESK_ROUTING_PORT']}", timeout=120)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


async def publish(amqp_url: str, stream: list[ContactScreened]) -> None:
    """Publish the stream with confirms, a few at a time."""
    bus = AmqpBus(amqp_url, publish_timeout=10)
    await bus.connect()
    try:
        for start in range(0, len(stream), 50):
            batch = stream[start : start + 50]
            await asyncio.gather(*(bus.publish(Envelope.of(m)) for m in batch))
    finally:
        await bus.close()


async def drain(amqp_url: str, queue: str) -> list[Envelope]:
    """Take every message waiting in ``queue``."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        source = await channel.get_queue(queue)
        out = []
        while (message := await source.get(fail=False, no_ack=True)) is not None:
            out.append(Envelope.from_json(message.body))
        return out


def wait_for(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``check`` until it returns True."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_routing_killed_mid_stream_loses_and_doubles_nothing(
    mongo_url: str, tmp_path: Path
) -> None:
    stream = contacts()
    prefix = f"kill{new_id().lower()[-8:]}"
    mongo: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    with private_vhost("kill") as amqp_url, mongo:
        env = {
            **os.environ,
            "VOCDESK_ENV": "development",
            "VOCDESK_AMQP_URL": amqp_url,
            "VOCDESK_MONGO_URL": mongo_url,
            "VOCDESK_MONGO_DB_PREFIX": prefix,
            "VOCDESK_DATA_DIR": str(tmp_path / "var"),
            "VOCDESK_ROUTING_PORT": str(free_port()),
        }
        cases = mongo[f"{prefix}_routing"]["cases"]

        def in_cases() -> int:
            return sum(len(c["contacts"]) for c in cases.find({}, {"contacts": 1}))

        with routing_process(env, tmp_path / "routing.log") as first:
            asyncio.run(publish(amqp_url, stream))
            wait_for(lambda: in_cases() >= CONTACTS // 4, timeout=120, what="the first cases")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
            assert in_cases() < CONTACTS, "routing finished before it was killed"
        with routing_process(env, tmp_path / "routing.log"):
            wait_for(lambda: in_cases() >= CONTACTS, timeout=300, what="every contact in a case")
            pending = {"outbox.id": {"$exists": True}}
            wait_for(lambda: cases.count_documents(pending) == 0, timeout=60, what="the outbox")

        docs = list(cases.find({}, {"contacts.contact_id": 1, "timeline.seq": 1, "seq": 1}))
        held = [c["contact_id"] for doc in docs for c in doc["contacts"]]
        assert sorted(held) == sorted(m.contact_id for m in stream)  # each in exactly one case
        for doc in docs:
            assert [e["seq"] for e in doc["timeline"]] == list(range(1, doc["seq"] + 1))

        published = asyncio.run(drain(amqp_url, "console.events"))
        seqs: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
        for envelope in published:
            seqs[envelope.data["case"]["id"]][envelope.data["seq"]].add(envelope.id)
        for doc in docs:
            by_seq = seqs[doc["_id"]]
            assert sorted(by_seq) == list(range(1, doc["seq"] + 1)), f"events missing: {doc['_id']}"
            # A republished event is the same envelope, which consumers' inboxes skip.
            assert all(len(ids) == 1 for ids in by_seq.values()), f"event doubled: {doc['_id']}"
