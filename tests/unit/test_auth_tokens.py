"""Console tokens, the password policy and acting assertions refuse what they must."""

from __future__ import annotations

import time

import jwt
import pytest

from services.console import auth, passwords
from shared import assertions
from shared.errors import Invalid, Unauthorized

SECRET = "unit-secret"


def _signed(claims: dict[str, object]) -> str:
    return jwt.encode(claims, auth._signing_key(SECRET), algorithm=auth.ALGORITHM)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "a", "ver": 1, "iat": 1, "exp": 4_000_000_000},
        {"sub": "a", "role": "agent", "ver": 1, "iat": 1},
        {"sub": "a", "role": "root", "ver": 1, "iat": 1, "exp": 4_000_000_000},
        {"sub": 7, "role": "agent", "ver": 1, "iat": 1, "exp": 4_000_000_000},
    ],
)
def test_signed_token_without_role_expiry_or_with_unknown_role_is_unauthorized(
    claims: dict[str, object],
) -> None:
    with pytest.raises(Unauthorized):
        auth.read_token(_signed(claims), secret=SECRET)


@pytest.mark.parametrize(
    "password", ["short-pass1", "password1234", "qwertyqwerty", "1234567890123", "aaaaaaaaaaaaab"]
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(Invalid):
        passwords.check_policy(password)


def test_long_unusual_password_passes() -> None:
    passwords.check_policy("ช้างเผือก-river-77-lantern")


def test_assertion_for_another_service_or_too_long_lived_is_refused() -> None:
    acting = assertions.Acting(user="u", role="agent")
    token = assertions.mint(acting, audience="routing", key="k")
    assert assertions.verify(token, audience="routing", key="k") == acting
    with pytest.raises(Unauthorized):
        assertions.verify(token, audience="privacy", key="k")
    long_lived = jwt.encode(
        {"sub": "u", "role": "dpo", "aud": "privacy", "iss": "vocdesk",
         "iat": int(time.time()), "exp": int(time.time()) + 3600},
        assertions._key("k"),
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized):
        assertions.verify(long_lived, audience="privacy", key="k")
