"""The public REST API ``/api/v1``: auth, cases, units, live events."""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Query, WebSocket

from services.console import users
from services.console.auth import User, bearer, issue_token, read_token
from services.console.clients import ServiceClient
from services.console.live import LiveHub
from shared.errors import NotFound, Unauthorized
from shared.runtime import Runtime


def router(runtime: Runtime, *, routing: ServiceClient, hub: LiveHub) -> APIRouter:
    """Return the console's public routes."""
    secret = runtime.settings.secret_key.get_secret_value()
    api = APIRouter(prefix="/api/v1")

    def current_user(authorization: Annotated[str | None, Header()] = None) -> User:
        return read_token(bearer(authorization), secret=secret)

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

    @api.get("/cases", tags=["cases"])
    async def list_cases(
        user: CurrentUser,
        status: str | None = None,
        channel: str | None = None,
        topic: str | None = None,
        unit: str | None = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        page: Annotated[int, Query(ge=1)] = 1,
        per_page: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> Any:
        if user.role == "unit_member":
            unit = user.unit  # a unit sees its own cases only
        params = {
            key: value
            for key, value in {
                "status": status,
                "channel": channel,
                "topic": topic,
                "unit": unit,
                "q": q,
                "page": page,
                "per_page": per_page,
            }.items()
            if value is not None
        }
        return await routing.call("GET", "/internal/v1/cases", user=user, params=params)

    @api.get("/cases/{case_id}", tags=["cases"])
    async def get_case(case_id: str, user: CurrentUser) -> Any:
        case = await routing.call("GET", f"/internal/v1/cases/{case_id}", user=user)
        if user.role == "unit_member" and case.get("unit") != user.unit:
            raise NotFound(f"no case {case_id}")
        return case

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
