"""``vocdesk users disable|delete``: the admin API's store operations and audit, tokens ended.

The command runs as a process against the embedded store, on the console's
database of this test; tokens issued before it are checked the way every
console request checks them (``Directory``), once its account cache expired.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.console import users
from services.console.auth import STATE_TTL_S, Claims, Directory, issue_token, read_token
from shared.errors import Unauthorized
from shared.ids import new_id
from shared.store import Store, connect
from tests.conftest import REPO

pytestmark = pytest.mark.integration

SECRET = "users-command-secret"
PASSWORD = "lantern-river-2026"
NOW = datetime.now(UTC)  # tokens are checked against the real time


class Console:
    """The console's database, a token check with a clock the test moves, and the command."""

    def __init__(self, store: Store, env: dict[str, str]) -> None:
        self.store, self.env, self.now = store, env, 0.0
        self.directory = Directory(store, clock=lambda: self.now)

    async def token_for(self, username: str, role: str = "agent") -> Claims:
        """Create ``username`` and return what the token a login would give them says."""
        doc = await users.create_user(
            self.store, username=username, password=PASSWORD, role=role, unit=None, at=NOW
        )
        claims = read_token(issue_token(doc, secret=SECRET, now=NOW), secret=SECRET)
        assert (await self.directory.current(claims)).username == username
        return claims

    async def vocdesk(self, *args: str) -> tuple[int, str]:
        """Run ``vocdesk args`` and return its exit code and what it printed."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.cli",
            *args,
            env=self.env,
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        return int(process.returncode or 0), out.decode()

    async def refused_after_cache(self, claims: Claims) -> bool:
        """Say whether the token is refused once the account cache's time has passed."""
        self.now += STATE_TTL_S + 1
        try:
            await self.directory.current(claims)
        except Unauthorized:
            return True
        return False


@pytest.fixture
async def console(mongo_url: str, tmp_path: Path) -> AsyncIterator[Console]:
    prefix = f"cli{new_id().lower()[-10:]}"
    store = connect(mongo_url, f"{prefix}_console")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOCDESK_")},
        "VOCDESK_ENV": "test",
        "VOCDESK_MONGO_URL": mongo_url,
        "VOCDESK_MONGO_DB_PREFIX": prefix,
        "VOCDESK_DATA_DIR": str(tmp_path),
    }
    yield Console(store, env)
    await store.client.drop_database(store.db.name)
    await store.client.close()


async def test_disable_ends_the_users_tokens_and_is_audited_as_the_api_does(
    console: Console,
) -> None:
    claims = await console.token_for("somsri")
    other = await console.token_for("kanya")
    before = (await users.account(console.store, "somsri") or {})["token_version"]

    code, out = await console.vocdesk("users", "disable", "somsri")

    assert code == 0, out
    account = await users.account(console.store, "somsri")
    assert account is not None
    assert account["active"] is False
    assert account["token_version"] == before + 1
    assert await console.refused_after_cache(claims)
    assert not await console.refused_after_cache(other)  # only the named account
    assert await users.authenticate(console.store, "somsri", PASSWORD) is None
    latest = (await users.audit_entries(console.store))[0]
    assert {k: latest[k] for k in ("by", "action", "target")} == {
        "by": "cli",
        "action": "disable",
        "target": "somsri",
    }


async def test_delete_removes_the_account_ends_its_tokens_and_is_audited(
    console: Console,
) -> None:
    claims = await console.token_for("wichai", role="supervisor")

    code, out = await console.vocdesk("users", "delete", "wichai")

    assert code == 0, out
    assert await users.account(console.store, "wichai") is None
    assert await console.refused_after_cache(claims)
    latest = (await users.audit_entries(console.store))[0]
    assert (latest["by"], latest["action"], latest["target"]) == ("cli", "delete", "wichai")


@pytest.mark.parametrize("action", ["disable", "delete"])
async def test_an_unknown_or_malformed_user_is_refused_with_a_reason_and_nothing_audited(
    console: Console, action: str
) -> None:
    await console.token_for("present")
    audited = len(await users.audit_entries(console.store))

    missing = await console.vocdesk("users", action, "nobody")
    malformed = await console.vocdesk("users", action, "../admin")

    assert missing[0] == 2
    assert "no user nobody" in missing[1]
    assert malformed[0] == 2
    assert "username must be" in malformed[1]
    assert len(await users.audit_entries(console.store)) == audited
    assert (await users.account(console.store, "present") or {}).get("active") is True
