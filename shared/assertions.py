"""Acting assertions: who a service-to-service call is made for, signed and short-lived.

The console (and a service acting as itself, such as notify) sends every
internal call with ``X-Service-Token`` and ``X-Acting-Assertion``: a JWT
signed with ``VOCDESK_ACTING_KEY`` naming the user (``sub``), ``role`` and
``unit``, for one target service (``aud``), valid for ``ASSERTION_TTL_S``
seconds. The receiving service trusts nothing else about the caller: plain
``X-Acting-*`` headers are ignored. ``shared.http.service_auth`` verifies it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import jwt

from shared.errors import Unauthorized

HEADER = "X-Acting-Assertion"
ISSUER = "vocdesk"
ALGORITHM = "HS256"
ASSERTION_TTL_S = 30
MAX_TTL_S = 60  # an assertion claiming a longer life is refused
LEEWAY_S = 5  # clock skew between replicas
_REQUIRED = ["sub", "role", "aud", "iss", "iat", "exp"]


@dataclass(frozen=True)
class Acting:
    """Who a service-to-service call is made for."""

    user: str
    role: str
    unit: str | None = None


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"vocdesk acting assertion v1:" + secret.encode()).digest()


def mint(acting: Acting, *, audience: str, key: str, now: float | None = None) -> str:
    """Return an assertion that ``acting`` calls ``audience``, valid ``ASSERTION_TTL_S`` s."""
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": acting.user,
        "role": acting.role,
        "unit": acting.unit,
        "aud": audience,
        "iss": ISSUER,
        "iat": issued,
        "exp": issued + ASSERTION_TTL_S,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, _key(key), algorithm=ALGORITHM)


def verify(token: str, *, audience: str, key: str) -> Acting:
    """Return who an assertion names; raise ``Unauthorized`` unless it is valid for ``audience``."""
    try:
        claims = jwt.decode(
            token,
            _key(key),
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=ISSUER,
            leeway=LEEWAY_S,
            options={"require": _REQUIRED},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid acting assertion: {exc}") from exc
    user, role, unit = claims["sub"], claims["role"], claims.get("unit")
    lifetime = claims["exp"] - claims["iat"]
    if not isinstance(lifetime, int) or lifetime > MAX_TTL_S:
        raise Unauthorized(f"acting assertion lives longer than {MAX_TTL_S} s")
    if not (isinstance(user, str) and user and isinstance(role, str) and role):
        raise Unauthorized("acting assertion names no user or role")
    if unit is not None and not isinstance(unit, str):
        raise Unauthorized("acting assertion has a malformed unit")
    return Acting(user=user, role=role, unit=unit or None)
