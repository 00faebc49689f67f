"""``vocdesk up`` supervises its children and the embedded store, and says when it gives up."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from services.registry import SERVICES
from shared.embedded import free_port
from shared.ids import new_id
from tests.support.broker import private_vhost
from tests.support.cluster import REPO, wait_ready

pytestmark = pytest.mark.e2e


@contextmanager
def _up(tmp: Path, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, int], Path]]:
    ports = {service: free_port() for service in SERVICES}
    out = tmp / "up.out"
    with private_vhost("supervisor") as amqp_url:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up"],
            cwd=REPO,
            stdout=out.open("wb"),
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "VOCDESK_AMQP_URL": amqp_url,
                "VOCDESK_DATA_DIR": str(tmp / "var"),
                "VOCDESK_ADMIN_PASSWORD": "Kx7-supervised-Pw-2931",
                "VOCDESK_SMTP_PORT": str(free_port()),
                "VOCDESK_MONGO_DB_PREFIX": f"sup{new_id().lower()[-8:]}",
                **{f"VOCDESK_{s.upper()}_PORT": str(p) for s, p in ports.items()},
                **env,
            },
        )
        try:
            yield process, ports, out
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_for(out: Path, pattern: str, *, after: int = 0, timeout: float = 120) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, out.read_text()[after:])
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{pattern!r} never appeared in:\n{out.read_text()[-3000:]}")


def _all_ready(ports: dict[str, int]) -> None:
    for service in SERVICES:
        wait_ready(f"http://127.0.0.1:{ports[service]}", timeout=120)


def test_up_restarts_a_killed_service_and_the_embedded_store(tmp_path: Path) -> None:
    with _up(tmp_path) as (process, ports, out):
        _all_ready(ports)
        intake_pid = int(_wait_for(out, r"intake running as pid (\d+)").group(1))
        mark = len(out.read_text())
        os.kill(intake_pid, signal.SIGKILL)
        _wait_for(out, r"intake exited with code -9; restarting", after=mark)
        restarted = int(_wait_for(out, r"intake running as pid (\d+)", after=mark).group(1))
        assert restarted != intake_pid
        _all_ready(ports)

        store_pid = int(_wait_for(out, r"embedded store running as pid (\d+)").group(1))
        mark = len(out.read_text())
        os.kill(store_pid, signal.SIGKILL)
        _wait_for(out, r"embedded store restarted as pid \d+", after=mark)
        _all_ready(ports)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0


# Three starts of intake, each up to its failed bind, with growing delays, then every
# child stopped: a slow start on a loaded machine is still counted as a crash.
@pytest.mark.timeout(480)
def test_up_gives_up_on_a_service_that_keeps_crashing_and_exits_non_zero(tmp_path: Path) -> None:
    # Something else holds intake's port, so every start of intake fails.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with _up(
            tmp_path,
            VOCDESK_INTAKE_PORT=str(port),
            VOCDESK_SUPERVISOR_MAX_RESTARTS="2",
            # A start that hangs on a loaded machine is stopped and counted as well.
            VOCDESK_SUPERVISOR_START_TIMEOUT_S="60",
        ) as (process, _, out):
            code = process.wait(timeout=400)
            text = out.read_text()
    assert code != 0
    assert "giving up: intake exited 3 times in a row" in text
    assert text.count("intake exited with code") == 2
