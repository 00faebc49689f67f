"""The public REST API ``/api/v1``: auth, units, live events."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.console import tickets, users
from services.console.auth import Claims, Directory, User, bearer, issue_token, read_token
from services.console.clients import ServiceClient
from services.console.live import LiveHub
from services.console.throttle import LoginThrottle, keys_for
from shared.errors import Unauthorized
from shared.runtime import Runtime

# The bearer token as the OpenAPI document declares it (one security scheme for
# every route); a missing or malformed header is refused by ``bearer`` with a reason.
BEARER = HTTPBearer(auto_error=False, description="the access token of POST /api/v1/auth/token")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


def token_of(credentials: HTTPAuthorizationCredentials | None) -> str:
    """Return the bearer token the request carries; raise ``Unauthorized`` without one."""
    if credentials is None:
        return bearer(None)
    return bearer(f"{credentials.scheme} {credentials.credentials}")


def user_dependency(secret: str, directory: Directory) -> Callable[..., Awaitable[User]]:
    """Return the dependency that reads the caller from the bearer token and checks the account."""

    async def current_user(credentials: Credentials) -> User:
        return await directory.current(read_token(token_of(credentials), secret=secret))

    return current_user


def router(
    runtime: Runtime, *, routing: ServiceClient, hub: LiveHub, directory: Directory
) -> APIRouter:
    """Return the console's auth, unit and live routes."""
    secret = runtime.settings.secret_key.get_secret_value()
    api = APIRouter(prefix="/api/v1")
    current_user = user_dependency(secret, directory)
    CurrentUser = Annotated[User, Depends(current_user)]
    throttle = LoginThrottle(runtime.store)

    async def current_claims(credentials: Credentials) -> Claims:
        claims = read_token(token_of(credentials), secret=secret)
        await directory.current(claims)
        return claims

    @api.post("/auth/token", tags=["auth"])
    async def token(
        request: Request,
        username: Annotated[str, Form(min_length=1, max_length=64)],
        password: Annotated[str, Form(min_length=1, max_length=256)],
    ) -> dict[str, str]:
        now = runtime.clock.now()
        keys = keys_for(username, request.client.host if request.client else None)
        await throttle.check(keys, now=now)
        user = await users.authenticate(runtime.store, username, password)
        if user is None:
            await throttle.failed(keys, now=now)
            raise Unauthorized("wrong username or password")
        await throttle.succeeded(username)
        access = issue_token(user, secret=secret, now=now)
        return {"access_token": access, "token_type": "bearer"}

    @api.get("/me", tags=["auth"])
    async def me(user: CurrentUser) -> dict[str, Any]:
        return {"username": user.username, "role": user.role, "unit": user.unit}

    @api.get("/units", tags=["units"])
    async def units(user: CurrentUser) -> Any:
        return await routing.call("GET", "/internal/v1/units", user=user)

    @api.post("/live/ticket", tags=["live"])
    async def live_ticket(claims: Annotated[Claims, Depends(current_claims)]) -> dict[str, Any]:
        ticket = await tickets.issue(runtime.store, claims, now=runtime.clock.now())
        return {"ticket": ticket, "expires_in": int(tickets.TICKET_TTL.total_seconds())}

    @api.websocket("/live")
    async def live(socket: WebSocket, ticket: str = "") -> None:
        try:
            claims = await tickets.redeem(runtime.store, ticket, now=runtime.clock.now())
            user = await directory.current(claims)
        except Unauthorized:
            await socket.close(code=4401)
            return
        await socket.accept()
        await hub.serve(socket, user)

    return api
