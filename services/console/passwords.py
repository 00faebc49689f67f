"""Console passwords: scrypt hashes, the same work for unknown users, the password policy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from functools import lru_cache
from importlib import resources

from shared.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 256  # scrypt's cost grows with the input; nobody types more
MIN_DISTINCT = 5

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def derive(password: str, salt: bytes) -> bytes:
    """Return the scrypt digest of ``password`` under ``salt`` (the one costly step)."""
    return hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)


def hash_password(password: str) -> str:
    """Return a salted scrypt hash of ``password``."""
    salt = secrets.token_bytes(16)
    return "scrypt$" + base64.b64encode(salt + derive(password, salt)).decode()


def verify_password(password: str, stored: str) -> bool:
    """Return True if ``password`` matches the stored hash."""
    scheme, _, packed = stored.partition("$")
    if scheme != "scrypt":
        return False
    raw = base64.b64decode(packed)
    salt, digest = raw[:16], raw[16:]
    return hmac.compare_digest(derive(password[:MAX_LENGTH], salt), digest)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Return a hash no password matches, checked when the user is unknown or disabled.

    Verifying against it costs what a real check costs, so the answer's timing
    does not tell whether a username exists.
    """
    return hash_password(secrets.token_urlsafe(32))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, lower case."""
    text = resources.files("services.console").joinpath("data/common-passwords.txt").read_text()
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_policy(password: str, *, username: str | None = None) -> None:
    """Raise ``Invalid`` unless ``password`` is long, not common and not guessable."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"password must have at least {MIN_LENGTH} characters", field="password")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"password must have at most {MAX_LENGTH} characters", field="password")
    lowered = password.lower()
    core = _EDGES.sub("", lowered)
    common = common_passwords()
    if lowered in common or core in common or _repeats_common(core, common):
        raise Invalid("password is too common; choose a longer, unusual phrase", field="password")
    if len(set(password)) < MIN_DISTINCT or password.isdigit() or _is_sequence(lowered):
        raise Invalid("password is too easy to guess", field="password")
    if username and lowered == username.lower():
        raise Invalid("password must not be the username", field="password")


def _repeats_common(core: str, common: frozenset[str]) -> bool:
    # "passwordpassword", "qwertyqwerty": a common word said twice is still common.
    half = len(core) // 2
    return len(core) % 2 == 0 and core[:half] == core[half:] and core[:half] in common


def _is_sequence(lowered: str) -> bool:
    return any(lowered in seq or lowered in seq[::-1] for seq in _SEQUENCES)
