"""The public REST API ``/api/v1``: auth, units, live events."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, WebSocket

from services.console import users
from services.console.auth import User, bearer, issue_token, read_token
from services.console.clients import ServiceClient
from services.console.live import LiveHub
from shared.errors import Unauthorized
from shared.runtime import Runtime


def user_dependency(secret: str) -> Callable[..., User]:
    """Return the dependency that reads the caller from the bearer token."""

    def current_user(authorization: Annotated[str | None, Header()] = None) -> User:
        return read_token(bearer(authorization), secret=secret)

    return current_user


def router(runtime: Runtime, *, routing: ServiceClient, hub: LiveHub) -> APIRouter:
    """Return the console's auth, unit and live routes."""
    secret = runtime.settings.secret_key.get_secret_value()
    api = APIRouter(prefix="/api/v1")
    current_user = user_dependency(secret)
    CurrentUser = Annotated[User, Depends(current_user)]

    @api.post("/auth/token", tags=["auth"])
    async def token(
        username: Annotated[str, Form()], password: Annotated[str, Form()]
    ) -> dict[str, str]:
        user = await users.authenticate(runtime.store, username, password)
        if user is None:
            raise Unauthorized("wrong username or password")
        access = issue_token(user, secret=secret, now=runtime.clock.now())
        return {"access_token": access, "token_type": "bearer"}

    @api.get("/me", tags=["auth"])
    async def me(user: CurrentUser) -> dict[str, Any]:
        return {"username": user.username, "role": user.role, "unit": user.unit}

    @api.get("/units", tags=["units"])
    async def units(user: CurrentUser) -> Any:
        return await routing.call("GET", "/internal/v1/units", user=user)

    @api.websocket("/live")
    async def live(socket: WebSocket, token: str) -> None:
        try:
            user = read_token(token, secret=secret)
        except Unauthorized:
            await socket.close(code=4401)
            return
        await socket.accept()
        await hub.serve(socket, user)

    return api
