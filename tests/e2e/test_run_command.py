"""The README's run command starts the whole system and the console answers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from services.registry import SERVICES
from shared.embedded import free_port
from shared.ids import new_id
from tests.support.broker import private_vhost
from tests.support.cluster import REPO, wait_ready

pytestmark = pytest.mark.e2e


@contextmanager
def _run_command(tmp: Path, **env: str) -> Iterator[tuple[dict[str, int], Path]]:
    ports = {service: free_port() for service in SERVICES}
    out = tmp / "run.out"
    process = subprocess.Popen(
        ["scripts/run"],
        cwd=REPO,
        stdout=out.open("wb"),
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "VOCDESK_DATA_DIR": str(tmp / "var"),
            "VOCDESK_ADMIN_PASSWORD": "admin-password-run",
            "VOCDESK_APP_API_KEYS": "run-key",
            "VOCDESK_SMTP_PORT": str(free_port()),
            "VOCDESK_MONGO_DB_PREFIX": f"run{new_id().lower()[-8:]}",
            **{f"VOCDESK_{s.upper()}_PORT": str(p) for s, p in ports.items()},
            **env,
        },
        start_new_session=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{ports['console']}", timeout=120, path="/healthz")
        yield ports, out
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _contact_reaches_console(ports: dict[str, int]) -> None:
    marker = f"RUN{new_id()[-8:]}"
    answer = httpx.post(
        f"http://127.0.0.1:{ports['intake']}/v1/app/contacts",
        json={
            "app_user_id": "u-run",
            "text": f"ไฟกระพริบ {marker}",
            "locale": "th-TH",
            "consent_to_disclose": True,
            "customer": {"name": "ทดสอบ"},
        },
        headers={"Authorization": "Bearer run-key", "Idempotency-Key": new_id()},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    console = f"http://127.0.0.1:{ports['console']}"
    token = httpx.post(
        console + "/api/v1/auth/token",
        data={"username": "admin", "password": "admin-password-run"},
        timeout=10,
    ).json()["access_token"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = httpx.get(
            console + "/api/v1/cases",
            params={"q": marker},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()["items"]
        if items:
            return
        time.sleep(0.3)
    raise AssertionError("the contact never became a case")


def test_run_command_on_embedded_defaults_serves_the_console(tmp_path: Path) -> None:
    with _run_command(tmp_path, VOCDESK_BUS="in-process") as (ports, out):
        page = httpx.get(f"http://127.0.0.1:{ports['console']}/", timeout=10)
        assert page.status_code == 200
        assert "vocdesk" in page.text
        for service in SERVICES:
            wait_ready(f"http://127.0.0.1:{ports[service]}", timeout=60)
        _contact_reaches_console(ports)
        printed = out.read_text()
        assert "bus: in-process" in printed
        assert "store: embedded MongoDB-protocol server" in printed
        assert re.search(rf"console: http://127\.0\.0\.1:{ports['console']}", printed)


def test_run_command_uses_rabbitmq_when_a_broker_answers(tmp_path: Path) -> None:
    with (
        private_vhost("run") as amqp_url,
        _run_command(tmp_path, VOCDESK_AMQP_URL=amqp_url) as (ports, out),
    ):
        for service in SERVICES:
            wait_ready(f"http://127.0.0.1:{ports[service]}", timeout=60)
        _contact_reaches_console(ports)
        assert "bus: RabbitMQ" in out.read_text()
