"""Console users: accounts, roles, their state, and an audit of every change to them.

Each account has a ``token_version``; disabling, deleting or changing the
role of a user bumps it, and a bearer token names the version it was issued
for, so the token stops working (``services.console.auth.Directory``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal, get_args

from services.console.passwords import check_policy, dummy_hash, hash_password, verify_password
from services.console.store import users as users_store
from shared.errors import Conflict, Invalid, NotFound
from shared.store import Store

Role = Literal["agent", "supervisor", "unit_member", "manager", "admin", "dpo"]
ROLES: tuple[str, ...] = get_args(Role)

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def check_username(username: str) -> None:
    """Raise ``Invalid`` unless ``username`` is 1-64 letters, digits, ``. _ @ -``."""
    if not USERNAME.fullmatch(username):
        raise Invalid(
            "username must be 1-64 letters, digits, '.', '_', '@' or '-'", field="username"
        )


def check_role(role: str, unit: str | None) -> None:
    """Raise ``Invalid`` for an unknown role or a unit member without a unit."""
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role")
    if role == "unit_member" and not unit:
        raise Invalid("a unit_member needs a unit", field="unit")


async def create_user(
    store: Store,
    *,
    username: str,
    password: str,
    role: str,
    unit: str | None,
    at: datetime,
    replace: bool = False,
    by: str = "system",
) -> dict[str, Any]:
    """Create a user; raise ``Invalid`` for a bad name, role or password, ``Conflict`` if taken."""
    check_username(username)
    check_role(role, unit)
    check_policy(password, username=username)
    version = await users_store.token_version(store, username=username)
    doc = {
        "_id": username,
        "password": hash_password(password),
        "role": role,
        "unit": unit or None,
        "created_at": at,
        "updated_at": at,
        "active": True,
        # A replaced account starts a new version: tokens of the old one end.
        "token_version": version + 1,
    }
    if replace:
        await users_store.replace_user(store, doc=doc)
    elif not await users_store.insert_user(store, doc=doc):
        raise Conflict(f"user {username} already exists")
    await record(store, by=by, action="create", target=username, at=at, role=role, unit=unit)
    return doc


async def authenticate(store: Store, username: str, password: str) -> dict[str, Any] | None:
    """Return the user if the password is right and the account active.

    The password is hashed whether or not the account exists, so an unknown
    name costs the same work as a wrong password.
    """
    user = await users_store.find_user(store, username=username)
    stored = user["password"] if user and user.get("active") else dummy_hash()
    if not verify_password(password, stored) or user is None or not user.get("active"):
        return None
    return user


async def account(store: Store, username: str) -> dict[str, Any] | None:
    """Return what a token check needs of an account, or None if it does not exist."""
    return await users_store.account(store, username=username)


async def list_users(store: Store) -> list[dict[str, Any]]:
    """Return every account without its password hash."""
    return [view(doc) for doc in await users_store.all_users(store)]


async def set_active(
    store: Store, username: str, *, active: bool, by: str, at: datetime
) -> dict[str, Any]:
    """Enable or disable an account; a disabled account's tokens stop working."""
    doc = await _update(store, username, {"active": active}, at=at)
    await record(store, by=by, action="enable" if active else "disable", target=username, at=at)
    return doc


async def set_role(
    store: Store, username: str, *, role: str, unit: str | None, by: str, at: datetime
) -> dict[str, Any]:
    """Change an account's role (and unit); its tokens stop working."""
    check_role(role, unit)
    doc = await _update(store, username, {"role": role, "unit": unit}, at=at)
    await record(store, by=by, action="set_role", target=username, at=at, role=role, unit=unit)
    return doc


async def delete_user(store: Store, username: str, *, by: str, at: datetime) -> None:
    """Delete an account; its tokens stop working."""
    if not await users_store.delete_user(store, username=username):
        raise NotFound(f"no user {username}")
    await record(store, by=by, action="delete", target=username, at=at)


async def record(
    store: Store, *, by: str, action: str, target: str, at: datetime, **details: Any
) -> None:
    """Append one entry to the audit of account changes."""
    await users_store.record_change(
        store, entry={"by": by, "action": action, "target": target, "at": at, "details": details}
    )


async def audit_entries(store: Store, *, limit: int = 200) -> list[dict[str, Any]]:
    """Return the newest account changes first."""
    entries = await users_store.changes(store, limit=limit)
    return [{**doc, "at": doc["at"].isoformat()} for doc in entries]


def view(doc: dict[str, Any]) -> dict[str, Any]:
    """Return an account as the admin API shows it."""

    def iso(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value

    return {
        "username": doc["_id"],
        "role": doc["role"],
        "unit": doc.get("unit"),
        "active": bool(doc.get("active")),
        "created_at": iso(doc.get("created_at")),
        "updated_at": iso(doc.get("updated_at")),
    }


async def _update(
    store: Store, username: str, fields: dict[str, Any], *, at: datetime
) -> dict[str, Any]:
    doc = await users_store.update_user(store, username=username, fields=fields, at=at)
    if doc is None:
        raise NotFound(f"no user {username}")
    return dict(doc)
