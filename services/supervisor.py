"""``vocdesk up``'s supervisor: each service a child process, restarted with backoff.

A child that exits is reported and restarted after a delay that doubles with
each crash in a row. A child counts as crashing unless it answered its
``/readyz`` and then ran for ``STABLE_S``: one that dies before it was ever
ready is a crash however long its start took, so a loaded machine that starts
a service slowly still sees a crash loop for what it is. One that is still
not ready ``start_timeout_s`` after its start
(``VOCDESK_SUPERVISOR_START_TIMEOUT_S``) (stuck waiting for something
that never comes) is stopped and counted as a crash too, so a hung start is
retried and, if it keeps hanging, given up on, never waited for forever. After
``max_restarts`` crashes in a row (``VOCDESK_SUPERVISOR_MAX_RESTARTS``) the
supervisor gives up, stops the others and exits 1; a child that was ready and
ran for ``STABLE_S`` starts its count afresh. The embedded store, when
``up`` runs one, is watched the same way and restarted on its port and data.
SIGTERM or SIGINT stops the children with SIGTERM (each drains its in-flight
requests; unacknowledged deliveries go back to their queues) and exits 0.
SIGHUP restarts the services one at a time, each only after the previous one
answers ``/readyz`` again: a rolling restart that loses nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.embedded import EmbeddedMongo

MAX_RESTARTS = 5
PROBE_EVERY_S = 1.0
PROBE_TIMEOUT_S = 0.5
STABLE_S = 60.0
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 10.0
STOP_TIMEOUT_S = 30.0
READY_TIMEOUT_S = 90.0
START_TIMEOUT_S = 120.0


def say(line: str) -> None:
    """Report what the supervisor does, on standard output."""
    print(f"vocdesk: {line}", flush=True)


@dataclass
class Child:
    """One supervised process: how to start it, its process, its crashes in a row."""

    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    ready_url: str | None = None
    process: subprocess.Popen[bytes] | None = None
    crashes: int = 0
    started_at: float = 0.0
    ready_at: float | None = None
    probe_at: float = 0.0
    restart_at: float | None = None

    def launch(self) -> None:
        """Start the process and say its pid."""
        self.process = self.start()
        self.started_at = time.monotonic()
        self.ready_at = None
        self.probe_at = self.started_at + PROBE_EVERY_S
        say(f"{self.name} running as pid {self.process.pid}")

    def probe(self, now: float) -> None:
        """Note when a child still starting first answers its ``/readyz``."""
        if self.ready_at is not None or now < self.probe_at:
            return
        self.probe_at = now + PROBE_EVERY_S
        if self.ready_url is None:
            self.ready_at = self.started_at
        elif _answers(self.ready_url, timeout=PROBE_TIMEOUT_S):
            self.ready_at = now

    def start_overdue(self, now: float, timeout: float) -> bool:
        """Return whether the child has been starting, never ready, for longer than ``timeout``."""
        return (
            self.ready_url is not None and self.ready_at is None and now - self.started_at > timeout
        )

    def ran_stable(self, now: float) -> bool:
        """Return whether the child was ready and then ran for ``STABLE_S``."""
        return self.ready_at is not None and now - self.ready_at >= STABLE_S

    def exited(self) -> int | None:
        """Return the exit code if the process has stopped."""
        return None if self.process is None else self.process.poll()


class GaveUp(Exception):
    """A child kept crashing."""


@dataclass
class Supervisor:
    """Run children, restart the ones that exit, stop them all on a signal."""

    children: list[Child]
    store: EmbeddedMongo | None = None
    max_restarts: int = MAX_RESTARTS
    start_timeout_s: float = START_TIMEOUT_S
    stopping: bool = False
    rolling: bool = False

    def run(self) -> int:
        """Supervise until a signal (exit 0) or a child that keeps crashing (exit 1)."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGHUP, self._roll)
        for child in self.children:
            child.launch()
        code = 0
        try:
            while not self.stopping:
                if self.rolling:
                    self.rolling = False
                    self._rolling_restart()
                self._watch_store()
                self._watch_children()
                time.sleep(0.2)
        except GaveUp as exc:
            say(f"giving up: {exc}")
            code = 1
        finally:
            self._stop_all()
        return code

    def _stop(self, *_: object) -> None:
        self.stopping = True

    def _roll(self, *_: object) -> None:
        self.rolling = True

    def _watch_children(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restart_at = None
                    child.launch()
                continue
            code = child.exited()
            if code is None:
                child.probe(now)
                if not child.start_overdue(now, self.start_timeout_s):
                    continue
                waited = self.start_timeout_s
                say(f"{child.name} not ready {waited:.0f}s after its start; stopping it")
                _terminate([child])
                code = child.exited()
            if self.stopping:
                continue
            child.crashes = 1 if child.ran_stable(now) else child.crashes + 1
            if child.crashes > self.max_restarts:
                raise GaveUp(
                    f"{child.name} exited {child.crashes} times in a row, each before it "
                    f"had been ready for {STABLE_S:.0f}s (last exit code {code})"
                )
            delay = min(FIRST_DELAY_S * 2 ** (child.crashes - 1), MAX_DELAY_S)
            child.restart_at = now + delay
            say(
                f"{child.name} exited with code {code}; restarting in {delay:.1f}s "
                f"(crash {child.crashes} in a row)"
            )

    def _watch_store(self) -> None:
        store = self.store
        if store is None or store.alive():
            return
        say(f"embedded store exited with code {store.exit_code()}; restarting it")
        for attempt in range(MAX_RESTARTS):
            try:
                store.start()
            except Exception as exc:  # the port may still be held for a moment
                say(f"embedded store did not start ({exc}); retrying")
                time.sleep(min(FIRST_DELAY_S * 2**attempt, MAX_DELAY_S))
                continue
            say(f"embedded store restarted as pid {store.pid()}")
            return
        raise GaveUp("the embedded store does not start again")

    def _rolling_restart(self) -> None:
        say("rolling restart")
        for child in self.children:
            if self.stopping:
                return
            _terminate([child])
            child.launch()
            if child.ready_url and not _wait_ready(child.ready_url):
                say(f"{child.name} not ready after the restart; continuing")
        say("rolling restart done")

    def _stop_all(self) -> None:
        for child in self.children:
            child.restart_at = None
        _terminate(self.children)


def _terminate(children: Sequence[Child]) -> None:
    running = [c for c in children if c.process is not None and c.process.poll() is None]
    for child in running:
        assert child.process is not None
        child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for child in running:
        assert child.process is not None
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop in {STOP_TIMEOUT_S:.0f}s; killing it")
            child.process.kill()
            child.process.wait()


def _answers(url: str, *, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - our own URL
            return bool(answer.status == 200)
    except OSError:
        return False


def _wait_ready(url: str) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if _answers(url, timeout=2):
            return True
        time.sleep(0.5)
    return False


def service_child(name: str, env: dict[str, str], ready_url: str) -> Child:
    """Return the child that runs ``vocdesk run <name>``."""

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "services.cli", "run", name], env={**os.environ, **env}
        )

    return Child(name=name, start=start, ready_url=ready_url)
