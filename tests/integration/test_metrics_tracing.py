"""Prometheus /metrics after real traffic; one trace id from intake's publish to the case event."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from shared.bus import QueueSpec, Subscription
from shared.bus.amqp import AmqpBus
from shared.errors import Poison
from shared.ids import new_id
from shared.messages import Envelope
from tests.support.app_client import post_app_contact
from tests.support.broker import AMQP_URL
from tests.support.cluster import SERVICES, Cluster, running_cluster
from tests.support.messages import topic_envelope

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "Ubon-Ratchathani-7419-qz"  # nobody signs in here; the console needs one


@pytest.fixture(scope="module")
def cluster(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = Path(tmp_path_factory.mktemp("metrics"))
    with running_cluster(mongo_url, tmp, VOCDESK_ADMIN_PASSWORD=ADMIN_PASSWORD) as running:
        yield running


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(cluster: Cluster, service: str) -> Samples:
    text = httpx.get(cluster.url(service) + "/metrics", timeout=10).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def contact_body(marker: str) -> dict[str, Any]:
    return {
        "app_user_id": f"u-{marker}",
        "text": f"ไฟดับทั้งซอย {marker}",
        "locale": "th-TH",
        "consent_to_disclose": False,
        "customer": {"name": "สมหญิง ทดสอบ"},  # no shared phone: each test its own customer
    }


def wait_until(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.3)
    raise AssertionError("condition not reached in time")


def test_every_service_counts_its_traffic_at_metrics(cluster: Cluster) -> None:
    before = samples(cluster, "intake")
    route = {"service": "intake", "method": "POST", "route": "/v1/app/contacts", "status": "202"}
    answer = post_app_contact(cluster, contact_body(new_id()[-10:]))
    assert answer.status_code == 202
    after = samples(cluster, "intake")
    assert value(after, "vocdesk_http_requests_total", **route) == (
        value(before, "vocdesk_http_requests_total", **route) + 1
    )
    assert value(after, "vocdesk_bus_published_total", type="contact.received") >= 1

    consumed = {"privacy": "privacy.contacts", "routing": "routing.contacts"}
    for service, queue in consumed.items():
        wait_until(
            lambda s=service, q=queue: value(
                samples(cluster, s), "vocdesk_bus_consumed_total", queue=q, outcome="ack"
            )
            >= 1
        )
        found = samples(cluster, service)
        assert value(found, "vocdesk_bus_handler_seconds_count", queue=queue) >= 1
    for service in SERVICES:  # readiness polls were counted by route on every service
        ready = {"service": service, "method": "GET", "route": "/readyz", "status": "200"}
        assert value(samples(cluster, service), "vocdesk_http_requests_total", **ready) >= 1


def test_a_contacts_trace_id_is_the_same_at_intake_and_at_routings_case_event(
    cluster: Cluster,
) -> None:
    trace = secrets.token_hex(16)
    seen = asyncio.run(_watch_trace(cluster, trace))
    published = {kind: parent.split("-")[1] for kind, parent in seen}
    assert published["contact.received"] == trace
    assert published["contact.screened"] == trace
    case_events = [parent for kind, parent in seen if kind.startswith("case.")]
    assert case_events, seen
    assert case_events[0].split("-")[1] == trace


async def _watch_trace(cluster: Cluster, trace: str) -> list[tuple[str, str]]:
    marker = new_id()[-10:]
    connection = await aio_pika.connect(cluster.env["VOCDESK_AMQP_URL"])
    async with connection:
        channel = await connection.channel()
        spy = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in ("contact.received.*", "contact.screened", "case.#"):
            await spy.bind("vocdesk.events", routing_key=key)
        headers = {"traceparent": f"00-{trace}-{secrets.token_hex(8)}-01"}
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(
                cluster.url("intake") + "/v1/app/contacts",
                json=contact_body(marker),
                headers={
                    **headers,
                    "Authorization": f"Bearer {cluster.env['VOCDESK_APP_API_KEYS']}",
                    "Idempotency-Key": new_id(),
                },
            )
        assert answer.status_code == 202, answer.text
        seen: list[tuple[str, str]] = []
        deadline = asyncio.get_running_loop().time() + 60
        while asyncio.get_running_loop().time() < deadline:
            message = await spy.get(no_ack=True, fail=False, timeout=10)
            if message is None:
                await asyncio.sleep(0.2)
                continue
            # The request brought a trace and no correlation id: the trace id is both.
            if message.correlation_id != trace:
                continue  # another test's traffic
            seen.append((str(message.type), str((message.headers or {})["traceparent"])))
            if str(message.type).startswith("case."):
                break
        return seen



async def test_bus_counts_consumed_and_dead_lettered_per_queue(spec: QueueSpec) -> None:
    bus = AmqpBus(AMQP_URL, queues={spec.name: spec})
    handled: list[str] = []

    async def handler(envelope: Envelope) -> None:
        if envelope.data["text"] == "poison":
            raise Poison("cannot be handled")
        handled.append(envelope.id)

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, {"queue": spec.name, **labels}) or 0.0

    try:
        await bus.subscribe(Subscription(queue=spec.name, handler=handler, prefetch=2))
        topic = spec.bindings[0].replace("#", "msg")
        await bus.publish(topic_envelope(topic))
        await bus.publish(topic_envelope(topic, text="poison"))
        for _ in range(300):
            if sample("vocdesk_bus_consumed_total", outcome="dead_letter") >= 1 and handled:
                break
            await asyncio.sleep(0.05)
        assert sample("vocdesk_bus_consumed_total", outcome="ack") == 1
        assert sample("vocdesk_bus_consumed_total", outcome="dead_letter") == 1
        assert sample("vocdesk_bus_dead_lettered_total") == 1
        assert sample("vocdesk_bus_handler_seconds_count") == 2
    finally:
        await bus.close()
