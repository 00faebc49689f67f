"""Admins manage console users: ``/api/v1/admin/users`` (every change audited)."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from services.console import users
from services.console.auth import Directory, User
from services.console.passwords import MAX_LENGTH, MIN_LENGTH
from shared.runtime import Runtime

Username = Annotated[str, Path(pattern=users.USERNAME.pattern)]


class UserCreate(BaseModel):
    """A new console user."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)
    role: users.Role
    unit: str | None = Field(default=None, max_length=80)


class RoleChange(BaseModel):
    """A user's new role (and unit, for a unit member)."""

    model_config = ConfigDict(extra="forbid")

    role: users.Role
    unit: str | None = Field(default=None, max_length=80)


def router(
    runtime: Runtime, *, current_user: Callable[..., Any], directory: Directory
) -> APIRouter:
    """Return the user administration routes."""
    api = APIRouter(prefix="/api/v1/admin", tags=["admin"])
    store = runtime.store

    async def admin(user: Annotated[User, Depends(current_user)]) -> User:
        user.require("admin")
        return user

    Admin = Annotated[User, Depends(admin)]

    @api.get("/users")
    async def list_users(_: Admin) -> dict[str, Any]:
        return {"items": await users.list_users(store)}

    @api.post("/users", status_code=201)
    async def create_user(body: UserCreate, who: Admin) -> dict[str, Any]:
        doc = await users.create_user(
            store,
            username=body.username,
            password=body.password,
            role=body.role,
            unit=body.unit,
            at=runtime.clock.now(),
            by=who.username,
        )
        return users.view(doc)

    @api.post("/users/{username}/disable")
    async def disable(username: Username, who: Admin) -> dict[str, Any]:
        doc = await users.set_active(
            store, username, active=False, by=who.username, at=runtime.clock.now()
        )
        directory.forget(username)
        return users.view(doc)

    @api.post("/users/{username}/enable")
    async def enable(username: Username, who: Admin) -> dict[str, Any]:
        doc = await users.set_active(
            store, username, active=True, by=who.username, at=runtime.clock.now()
        )
        directory.forget(username)
        return users.view(doc)

    @api.put("/users/{username}/role")
    async def set_role(username: Username, body: RoleChange, who: Admin) -> dict[str, Any]:
        doc = await users.set_role(
            store, username, role=body.role, unit=body.unit, by=who.username, at=runtime.clock.now()
        )
        directory.forget(username)
        return users.view(doc)

    @api.delete("/users/{username}", status_code=204)
    async def delete(username: Username, who: Admin) -> None:
        await users.delete_user(store, username, by=who.username, at=runtime.clock.now())
        directory.forget(username)

    @api.get("/user-changes")
    async def audit(_: Admin) -> dict[str, Any]:
        return {"items": await users.audit_entries(store)}

    return api
