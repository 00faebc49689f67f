"""Bearer tokens for the console's public API (signed JWTs) and the current-user dependency."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from shared.errors import Forbidden, Unauthorized

TOKEN_TTL = timedelta(hours=8)
ALGORITHM = "HS256"


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


def _signing_key(secret: str) -> bytes:
    # Derived so a short configured secret still yields a full-length HMAC key.
    return hashlib.sha256(b"vocdesk console token v1:" + secret.encode()).digest()


def issue_token(user: dict[str, Any], *, secret: str, now: datetime) -> str:
    """Return a signed bearer token for ``user``."""
    claims = {
        "sub": user["_id"],
        "role": user["role"],
        "unit": user.get("unit"),
        "iat": int(now.timestamp()),
        "exp": int((now + TOKEN_TTL).timestamp()),
    }
    return jwt.encode(claims, _signing_key(secret), algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> User:
    """Return the user a bearer token names; raise ``Unauthorized`` if it is not valid."""
    try:
        claims = jwt.decode(token, _signing_key(secret), algorithms=[ALGORITHM])
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    return User(username=claims["sub"], role=claims["role"], unit=claims.get("unit"))


def bearer(authorization: str | None) -> str:
    """Return the token of an ``Authorization: Bearer`` header."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required")
    return token
