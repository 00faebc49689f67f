"""The five services as real processes on free ports, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.registry import SERVICES
from shared.embedded import free_port
from shared.ids import new_id
from tests.support.broker import private_vhost

REPO = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "admin-password-e2e"
APP_KEY = "app-key-e2e"


@dataclass
class Cluster:
    """Where the running services answer, and how to talk to them."""

    ports: dict[str, int]
    env: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        """Return the base URL of ``service``."""
        return f"http://127.0.0.1:{self.ports[service]}"

    def logs(self) -> str:
        """Return everything the services wrote to their logs."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))

    def admin_token(self) -> str:
        """Log in as the development admin and return a bearer token."""
        return self.token("admin", ADMIN_PASSWORD)

    def token(self, username: str, password: str) -> str:
        """Return a bearer token for ``username``."""
        response = httpx.post(
            self.url("console") + "/api/v1/auth/token",
            data={"username": username, "password": password},
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def create_user(self, username: str, password: str, role: str, unit: str | None = None) -> None:
        """Create a console user through the ``vocdesk users create`` command."""
        args = [
            sys.executable,
            "-m",
            "services.cli",
            "users",
            "create",
            "--username",
            username,
            "--password",
            password,
            "--role",
            role,
        ]
        if unit:
            args += ["--unit", unit]
        subprocess.run(args, env=self.env, check=True, capture_output=True, timeout=60)


def wait_ready(url: str, *, timeout: float = 60.0, path: str = "/readyz") -> None:
    """Wait until ``url`` answers 200 on ``path``."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url + path, timeout=2)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.3)
    raise AssertionError(f"{url}{path} not ready: {last}")


@contextmanager
def running_cluster(mongo_url: str, tmp: Path, **extra_env: str) -> Iterator[Cluster]:
    """Start the five services as processes with a virtual host and databases of their own."""
    if "VOCDESK_AMQP_URL" in extra_env:
        with _started(mongo_url, tmp, **extra_env) as cluster:
            yield cluster
        return
    with (
        private_vhost("e2e") as amqp_url,
        _started(mongo_url, tmp, VOCDESK_AMQP_URL=amqp_url, **extra_env) as cluster,
    ):
        yield cluster


@contextmanager
def _started(mongo_url: str, tmp: Path, **extra_env: str) -> Iterator[Cluster]:
    ports = {service: free_port() for service in SERVICES}
    ports["smtp"] = free_port()
    env = {
        **os.environ,
        "VOCDESK_ENV": "development",
        "VOCDESK_MONGO_URL": mongo_url,
        "VOCDESK_MONGO_DB_PREFIX": f"e2e{new_id().lower()[-8:]}",
        "VOCDESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "VOCDESK_APP_API_KEYS": APP_KEY,
        "VOCDESK_DATA_DIR": str(tmp / "var"),
        "VOCDESK_SMTP_PORT": str(ports["smtp"]),
        **{
            f"VOCDESK_{service.upper()}_PORT": str(port)
            for service, port in ports.items()
            if service != "smtp"
        },
        **extra_env,
    }
    log_dir = tmp / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(ports=ports, env=env, log_dir=log_dir)
    try:
        for service in SERVICES:
            log = (log_dir / f"{service}.log").open("wb")
            cluster.processes[service] = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "run", service],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for service in SERVICES:
            wait_ready(cluster.url(service))
        yield cluster
    finally:
        for process in cluster.processes.values():
            process.terminate()
        for process in cluster.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
