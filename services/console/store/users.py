"""Console accounts and the audit of their changes: every query of ``users`` and ``user_audit``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.store import IndexPlan, Store

USERS = "users"
USER_AUDIT = "user_audit"
INDEXES: IndexPlan = {
    USERS: [IndexModel("unit")],
    USER_AUDIT: [IndexModel([("target", 1), ("at", -1)])],
}


async def token_version(store: Store, *, username: str) -> int:
    """Return the token version of the account ``username``, 0 if there is none."""
    previous = await store[USERS].find_one({"_id": username}, {"token_version": 1})
    return int((previous or {}).get("token_version", 0))


async def insert_user(store: Store, *, doc: dict[str, Any]) -> bool:
    """Store a new account; return False if its name is taken."""
    try:
        await store[USERS].insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


async def replace_user(store: Store, *, doc: dict[str, Any]) -> None:
    """Store an account in place of any of the same name."""
    await store[USERS].replace_one({"_id": doc["_id"]}, doc, upsert=True)


async def find_user(store: Store, *, username: str) -> dict[str, Any] | None:
    """Return the whole account ``username`` (its password hash too), or None."""
    return await store[USERS].find_one({"_id": username})


async def account(store: Store, *, username: str) -> dict[str, Any] | None:
    """Return the role, unit, state and token version of ``username``, or None."""
    return await store[USERS].find_one(
        {"_id": username}, {"role": 1, "unit": 1, "active": 1, "token_version": 1}
    )


async def all_users(store: Store) -> list[dict[str, Any]]:
    """Return every account by name, without its password hash."""
    cursor = store[USERS].find({}, {"password": 0}).sort("_id", 1)
    return [doc async for doc in cursor]


async def update_user(
    store: Store, *, username: str, fields: dict[str, Any], at: datetime
) -> dict[str, Any] | None:
    """Set ``fields`` and bump the token version; return the account after, or None."""
    return await store[USERS].find_one_and_update(
        {"_id": username},
        {"$set": {**fields, "updated_at": at}, "$inc": {"token_version": 1}},
        projection={"password": 0},
        return_document=ReturnDocument.AFTER,
    )


async def delete_user(store: Store, *, username: str) -> bool:
    """Delete the account ``username``; return False if there was none."""
    result = await store[USERS].delete_one({"_id": username})
    return result.deleted_count != 0


async def record_change(store: Store, *, entry: dict[str, Any]) -> None:
    """Append one entry to the audit of account changes."""
    await store[USER_AUDIT].insert_one(entry)


async def changes(store: Store, *, limit: int) -> list[dict[str, Any]]:
    """Return the newest ``limit`` account changes first."""
    cursor = store[USER_AUDIT].find({}, {"_id": 0}).sort("at", -1).limit(limit)
    return [doc async for doc in cursor]
