"""Console login: revoked accounts, throttling, equal work for unknown users, headers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.console import passwords
from services.console.app import create_app
from shared.bus.inproc import InProcessBus
from shared.ids import new_id
from shared.runtime import Runtime, open_store
from shared.settings import Settings

pytestmark = pytest.mark.integration
ADMIN = "admin-password-auth-1"


@pytest.fixture
def console(mongo_url: str) -> Iterator[TestClient]:
    settings = Settings(
        env="test",
        admin_password=ADMIN,  # type: ignore[arg-type]
        mongo_db_prefix=f"a{new_id().lower()[-8:]}",
    )
    settings.env = "development"  # the development admin, without writing secrets
    runtime = Runtime(
        service="console",
        settings=settings,
        bus=InProcessBus(),
        store=open_store(settings, "console", mongo_url),
    )
    with TestClient(create_app(runtime)) as client:
        yield client


def _login(client: TestClient, username: str, password: str) -> str:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_disabled_user_token_stops_working(console: TestClient) -> None:
    admin = _bearer(_login(console, "admin", ADMIN))
    created = console.post(
        "/api/v1/admin/users",
        json={"username": "somsri", "password": "lantern-river-2026", "role": "agent"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    agent = _bearer(_login(console, "somsri", "lantern-river-2026"))
    assert console.get("/api/v1/me", headers=agent).status_code == 200
    assert console.post("/api/v1/admin/users/somsri/disable", headers=admin).status_code == 200
    assert console.get("/api/v1/me", headers=agent).status_code == 401
    assert console.get("/api/v1/admin/users", headers=agent).status_code == 401
    weak = console.post(
        "/api/v1/admin/users",
        json={"username": "weak", "password": "password1234", "role": "agent"},
        headers=admin,
    )
    assert weak.status_code == 422


def test_repeated_failures_lock_the_username_with_retry_after(console: TestClient) -> None:
    for _ in range(5):
        answer = console.post(
            "/api/v1/auth/token", data={"username": "admin", "password": "wrong-password-x"}
        )
        assert answer.status_code == 401
    locked = console.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0


def test_unknown_user_costs_a_password_hash(
    console: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    passwords.dummy_hash()  # made once per process, before the logins counted here
    calls: list[str] = []
    real = passwords.derive

    def counting(password: str, salt: bytes) -> bytes:
        calls.append(password)
        return real(password, salt)

    monkeypatch.setattr(passwords, "derive", counting)
    console.post("/api/v1/auth/token", data={"username": "nobody", "password": "guess-one-x"})
    console.post("/api/v1/auth/token", data={"username": "admin", "password": "guess-two-x"})
    assert calls == ["guess-one-x", "guess-two-x"]


def test_page_has_security_headers_and_websocket_needs_a_ticket(console: TestClient) -> None:
    page = console.get("/")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "?token=" not in page.text
    admin = _bearer(_login(console, "admin", ADMIN))
    ticket = console.post("/api/v1/live/ticket", headers=admin).json()["ticket"]
    with console.websocket_connect(f"/api/v1/live?ticket={ticket}") as socket:
        socket.send_text("ping")
    with pytest.raises(Exception), console.websocket_connect(f"/api/v1/live?ticket={ticket}") as s:  # noqa: B017, PT011
        s.receive_text()
