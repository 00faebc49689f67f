"""The embedded MongoDB-protocol server (SecantusDB) that runs when no MongoDB is configured.

SecantusDB is GPL-2.0 and beta: it is the optional extra ``vocdesk[embedded]``,
started as a child process, and production never loads it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from shared.errors import ConfigError


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedMongo:
    """A SecantusDB server as a child process with its data in ``storage``."""

    def __init__(self, storage: Path, *, port: int | None = None) -> None:
        self.storage = storage
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the connection string of the running server."""
        # Retryable writes make every write a session transaction on this
        # server, a quarter to a half of its write throughput; the services
        # retry failed writes themselves (held redeliveries, 503 + Retry-After).
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true&retryWrites=false"

    def start(self, *, timeout: float = 30.0) -> str:
        """Start the server and wait until it accepts connections; return its URL."""
        executable = shutil.which("secantusd-py") or str(
            Path(sys.executable).parent / "secantusd-py"
        )
        if not Path(executable).exists():
            raise ConfigError(
                "VOCDESK_MONGO_URL is unset and the embedded store is not installed: "
                "pip install 'vocdesk[embedded]'"
            )
        self.storage.mkdir(parents=True, exist_ok=True)
        log_file = (self.storage.parent / "embedded-mongo.log").open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - fixed executable, no shell
            [
                executable,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--storage-path",
                str(self.storage),
                "--log-level",
                "WARNING",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ConfigError(f"embedded store exited with {self._process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self.url
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise ConfigError("embedded store did not start in time")

    def alive(self) -> bool:
        """Return True if the server process is running."""
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        """Return the server's exit code once it has stopped."""
        return None if self._process is None else self._process.poll()

    def pid(self) -> int | None:
        """Return the server's process id."""
        return None if self._process is None else self._process.pid

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
