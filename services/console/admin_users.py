"""Admins manage console users: ``/api/v1/admin/users`` (every change audited)."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from services.console import users
from services.console.deps import Admin, Parts
from services.console.passwords import MAX_LENGTH, MIN_LENGTH
from shared.api_models.cases import Instant

Username = Annotated[str, Path(pattern=users.USERNAME.pattern)]
router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


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


class UserRead(BaseModel):
    """A console account, without its password."""

    username: str
    role: str
    unit: str | None
    active: bool = Field(description="whether the account may log in")
    created_at: Instant | None
    updated_at: Instant | None


class UsersRead(BaseModel):
    """Every console account, by username."""

    items: list[UserRead]


class UserChangeRead(BaseModel):
    """One change to an account: who made it, what, to whom, when."""

    model_config = ConfigDict(extra="allow")

    by: str
    action: str
    target: str
    at: Instant
    details: dict[str, Any] = Field(default_factory=dict)


class UserChangesRead(BaseModel):
    """The newest account changes first."""

    items: list[UserChangeRead]


@router.get("/users")
async def list_users(_: Admin, parts: Parts) -> UsersRead:
    """List every console account."""
    return UsersRead.model_validate({"items": await users.list_users(parts.store)})


@router.post("/users", status_code=201)
async def create_user(body: UserCreate, who: Admin, parts: Parts) -> UserRead:
    """Create a console account (audited)."""
    doc = await users.create_user(
        parts.store,
        username=body.username,
        password=body.password,
        role=body.role,
        unit=body.unit,
        at=parts.clock.now(),
        by=who.username,
    )
    return UserRead.model_validate(users.view(doc))


@router.post("/users/{username}/disable")
async def disable(username: Username, who: Admin, parts: Parts) -> UserRead:
    """Disable an account: its tokens stop working (audited)."""
    doc = await users.set_active(
        parts.store, username, active=False, by=who.username, at=parts.clock.now()
    )
    parts.directory.forget(username)
    return UserRead.model_validate(users.view(doc))


@router.post("/users/{username}/enable")
async def enable(username: Username, who: Admin, parts: Parts) -> UserRead:
    """Enable an account again (audited)."""
    doc = await users.set_active(
        parts.store, username, active=True, by=who.username, at=parts.clock.now()
    )
    parts.directory.forget(username)
    return UserRead.model_validate(users.view(doc))


@router.put("/users/{username}/role")
async def set_role(username: Username, body: RoleChange, who: Admin, parts: Parts) -> UserRead:
    """Change an account's role (and unit): its tokens stop working (audited)."""
    doc = await users.set_role(
        parts.store,
        username,
        role=body.role,
        unit=body.unit,
        by=who.username,
        at=parts.clock.now(),
    )
    parts.directory.forget(username)
    return UserRead.model_validate(users.view(doc))


@router.delete("/users/{username}", status_code=204)
async def delete(username: Username, who: Admin, parts: Parts) -> None:
    """Delete an account (audited)."""
    await users.delete_user(parts.store, username, by=who.username, at=parts.clock.now())
    parts.directory.forget(username)


@router.get("/user-changes", response_model_exclude_unset=True)
async def audit(_: Admin, parts: Parts) -> UserChangesRead:
    """List the newest account changes first."""
    return UserChangesRead.model_validate({"items": await users.audit_entries(parts.store)})
