"""Bearer tokens for the console's public API (signed JWTs) and the check of the account behind one.

A token names its user, role, unit and the account's ``token_version``. Each
request checks those against the account (``Directory``), trusting what it
read for ``STATE_TTL_S`` seconds, so a disabled, deleted or re-roled user's
tokens stop working within that time on every replica.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from services.console import users
from shared.errors import Forbidden, Unauthorized
from shared.store import Store

TOKEN_TTL = timedelta(hours=8)
STATE_TTL_S = 30.0
ALGORITHM = "HS256"
_REQUIRED = ["sub", "role", "ver", "iat", "exp"]


@dataclass(frozen=True)
class User:
    """The authenticated caller."""

    username: str
    role: str
    unit: str | None

    def require(self, *roles: str) -> None:
        """Raise ``Forbidden`` unless the user has one of ``roles``."""
        if self.role not in roles:
            raise Forbidden(f"role {self.role} may not do this")


@dataclass(frozen=True)
class Claims:
    """What a valid token says: the user and the account version it was issued for."""

    user: User
    version: int


def _signing_key(secret: str) -> bytes:
    # Derived so a short configured secret still yields a full-length HMAC key.
    return hashlib.sha256(b"vocdesk console token v1:" + secret.encode()).digest()


def issue_token(user: dict[str, Any], *, secret: str, now: datetime) -> str:
    """Return a signed bearer token for ``user`` (an account document)."""
    claims = {
        "sub": user["_id"],
        "role": user["role"],
        "unit": user.get("unit"),
        "ver": int(user.get("token_version", 0)),
        "iat": int(now.timestamp()),
        "exp": int((now + TOKEN_TTL).timestamp()),
    }
    return jwt.encode(claims, _signing_key(secret), algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> Claims:
    """Return what a bearer token says; raise ``Unauthorized`` if it is not a valid one."""
    try:
        claims = jwt.decode(
            token, _signing_key(secret), algorithms=[ALGORITHM], options={"require": _REQUIRED}
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    sub, role, unit, ver = claims["sub"], claims["role"], claims.get("unit"), claims["ver"]
    if not isinstance(sub, str) or role not in users.ROLES:
        raise Unauthorized("invalid token: unknown user or role")
    if (unit is not None and not isinstance(unit, str)) or not isinstance(ver, int):
        raise Unauthorized("invalid token: malformed claims")
    return Claims(User(username=sub, role=role, unit=unit), version=ver)


def bearer(authorization: str | None) -> str:
    """Return the token of an ``Authorization: Bearer`` header."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required")
    return token


class Directory:
    """The accounts behind tokens, each read at most every ``STATE_TTL_S`` seconds."""

    def __init__(
        self,
        store: Store,
        *,
        ttl_s: float = STATE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl_s
        self._clock = clock
        self._seen: dict[str, tuple[float, dict[str, Any] | None]] = {}

    async def current(self, claims: Claims) -> User:
        """Return the token's user if its account still matches; raise ``Unauthorized``."""
        state = await self._state(claims.user.username)
        user = claims.user
        if (
            state is None
            or not state.get("active")
            or state.get("token_version", 0) != claims.version
            or state.get("role") != user.role
            or (state.get("unit") or None) != user.unit
        ):
            raise Unauthorized("this token is no longer valid; log in again")
        return user

    def forget(self, username: str) -> None:
        """Drop what this replica remembers of ``username`` (after changing the account)."""
        self._seen.pop(username, None)

    async def _state(self, username: str) -> dict[str, Any] | None:
        now = self._clock()
        cached = self._seen.get(username)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        state = await users.account(self._store, username)
        if len(self._seen) > 10_000:
            self._seen.clear()  # bounded: a replica never holds more than a day's users
        self._seen[username] = (now, state)
        return state
