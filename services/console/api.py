"""The public REST API ``/api/v1``: auth, units, live events."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, WebSocket
from pydantic import BaseModel, Field

from services.console import tickets, users
from services.console.auth import issue_token
from services.console.deps import CurrentClaims, CurrentUser, Parts, Routing
from services.console.throttle import keys_for
from shared.api_models.cases import UnitRead
from shared.errors import Unauthorized

router = APIRouter(prefix="/api/v1")


class TokenRead(BaseModel):
    """A bearer token for the API (OAuth2's password flow answer)."""

    access_token: str = Field(description="send it as ``Authorization: Bearer <token>``")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  # the OAuth2 scheme's name


class MeRead(BaseModel):
    """Who the token's caller is."""

    username: str
    role: str
    unit: str | None


class TicketRead(BaseModel):
    """A one-time ticket to open the live event socket with (``/api/v1/live?ticket=``)."""

    ticket: str
    expires_in: int = Field(description="seconds the ticket stays valid")


@router.post("/auth/token", tags=["auth"])
async def token(
    request: Request,
    parts: Parts,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
) -> TokenRead:
    """Log in with a username and password (OAuth2 password form)."""
    now = parts.clock.now()
    keys = keys_for(username, request.client.host if request.client else None)
    await parts.throttle.check(keys, now=now)
    user = await users.authenticate(parts.store, username, password)
    if user is None:
        await parts.throttle.failed(keys, now=now)
        raise Unauthorized("wrong username or password")
    await parts.throttle.succeeded(username)
    access = issue_token(user, secret=parts.secret, now=now)
    return TokenRead(access_token=access)


@router.get("/me", tags=["auth"])
async def me(user: CurrentUser) -> MeRead:
    """Say who the caller is."""
    return MeRead(username=user.username, role=user.role, unit=user.unit)


@router.get(
    "/units", tags=["units"], response_model=list[UnitRead], response_model_exclude_unset=True
)
async def units(user: CurrentUser, routing: Routing) -> Any:
    """List the organisation's units."""
    return await routing.call("GET", "/internal/v1/units", user=user)


@router.post("/live/ticket", tags=["live"])
async def live_ticket(claims: CurrentClaims, parts: Parts) -> TicketRead:
    """Issue a one-time ticket for the live event socket."""
    ticket = await tickets.issue(parts.store, claims, now=parts.clock.now())
    return TicketRead(ticket=ticket, expires_in=int(tickets.TICKET_TTL.total_seconds()))


@router.websocket("/live")
async def live(socket: WebSocket, parts: Parts, ticket: str = "") -> None:
    """Stream case events the caller may see, after redeeming a live ticket."""
    try:
        claims = await tickets.redeem(parts.store, ticket, now=parts.clock.now())
        user = await parts.directory.current(claims)
    except Unauthorized:
        await socket.close(code=4401)
        return
    await socket.accept()
    await parts.hub.serve(socket, user)
