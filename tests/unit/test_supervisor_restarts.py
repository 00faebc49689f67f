"""The supervisor's crash count: a child is healthy only once it was ready and stayed up."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services import supervisor
from services.supervisor import Child, Supervisor
from shared.embedded import free_port


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(supervisor, "STABLE_S", 0.4)
    monkeypatch.setattr(supervisor, "FIRST_DELAY_S", 0.01)
    monkeypatch.setattr(supervisor, "PROBE_EVERY_S", 0.05)
    monkeypatch.setattr(supervisor, "STOP_TIMEOUT_S", 2.0)
    # The supervisor takes over these signals; the test run gets its own back.
    kept = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    yield
    for number, handler in kept.items():
        signal.signal(number, handler)


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def ready_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/readyz"
    server.shutdown()


def _exits_after(
    seconds: float, starts: list[int], *, on_start: Callable[[int], None] | None = None
) -> Child:
    def start() -> subprocess.Popen[bytes]:
        starts.append(1)
        if on_start is not None:
            on_start(len(starts))
        return subprocess.Popen(
            [sys.executable, "-c", f"import time, sys; time.sleep({seconds}); sys.exit(3)"]
        )

    return Child(name="slow", start=start)


def _run(sup: Supervisor) -> int:
    """Run ``sup``; one that never stops by itself (waits for ever) is stopped after 60 s."""
    stopper = threading.Timer(60.0, sup._stop)
    stopper.start()
    try:
        return sup.run()
    finally:
        stopper.cancel()


def test_a_child_whose_start_hangs_is_stopped_counted_and_given_up_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    starts: list[int] = []
    child = _exits_after(3600, starts)  # never ready and never exits by itself
    child.ready_url = f"http://127.0.0.1:{free_port()}/readyz"
    sup = Supervisor([child], max_restarts=2, start_timeout_s=1.0)
    code = _run(sup)
    out = capsys.readouterr().out
    assert code == 1
    assert len(starts) == 3
    assert out.count("not ready 1s after its start; stopping it") == 3
    assert "slow exited 3 times in a row" in out
    assert child.process is not None
    assert child.process.poll() is not None  # nothing left running


def test_a_child_that_is_never_ready_is_crashing_however_long_it_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    starts: list[int] = []
    child = _exits_after(0.6, starts)  # longer than STABLE_S, never ready
    child.ready_url = f"http://127.0.0.1:{free_port()}/readyz"
    sup = Supervisor([child], max_restarts=2)
    code = _run(sup)
    assert code == 1
    assert len(starts) == 3
    assert "slow exited 3 times in a row" in capsys.readouterr().out


def test_a_child_that_was_ready_and_ran_stable_starts_its_count_afresh(
    ready_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    starts: list[int] = []
    sups: list[Supervisor] = []

    def third_start_stops(count: int) -> None:
        if count == 3:  # two healthy runs have ended by now
            sups[0]._stop()

    # Ready at once, then up past STABLE_S.
    child = _exits_after(0.8, starts, on_start=third_start_stops)
    child.ready_url = ready_url
    sup = Supervisor([child], max_restarts=1)
    sups.append(sup)
    code = _run(sup)
    out = capsys.readouterr().out
    assert code == 0
    assert len(starts) >= 3  # more starts than max_restarts allows for a crash loop
    assert "(crash 1 in a row)" in out
    assert "crash 2 in a row" not in out
