"""Console users: accounts, roles and password hashes (scrypt)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any, Literal, get_args

from pymongo import IndexModel
from pymongo.errors import DuplicateKeyError

from shared.errors import Conflict, Invalid
from shared.store import IndexPlan, Store

Role = Literal["agent", "supervisor", "unit_member", "manager", "admin", "dpo"]
ROLES: tuple[str, ...] = get_args(Role)

USERS = "users"
INDEXES: IndexPlan = {USERS: [IndexModel("unit")]}

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    """Return a salted scrypt hash of ``password``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt + digest).decode()


def verify_password(password: str, stored: str) -> bool:
    """Return True if ``password`` matches the stored hash."""
    scheme, _, packed = stored.partition("$")
    if scheme != "scrypt":
        return False
    raw = base64.b64decode(packed)
    salt, digest = raw[:16], raw[16:]
    candidate = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return hmac.compare_digest(candidate, digest)


async def create_user(
    store: Store,
    *,
    username: str,
    password: str,
    role: str,
    unit: str | None,
    at: datetime,
    replace: bool = False,
) -> dict[str, Any]:
    """Create a user; raise ``Invalid`` for a bad role and ``Conflict`` if the name is taken."""
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role")
    if role == "unit_member" and not unit:
        raise Invalid("a unit_member needs --unit", field="unit")
    if len(password) < 8:
        raise Invalid("password must have at least 8 characters", field="password")
    doc = {
        "_id": username,
        "password": hash_password(password),
        "role": role,
        "unit": unit,
        "created_at": at,
        "active": True,
    }
    if replace:
        await store[USERS].replace_one({"_id": username}, doc, upsert=True)
        return doc
    try:
        await store[USERS].insert_one(doc)
    except DuplicateKeyError as exc:
        raise Conflict(f"user {username} already exists") from exc
    return doc


async def authenticate(store: Store, username: str, password: str) -> dict[str, Any] | None:
    """Return the user if the password is right and the account active."""
    user = await store[USERS].find_one({"_id": username, "active": True})
    if user is None or not verify_password(password, user["password"]):
        return None
    return user
