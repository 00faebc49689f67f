"""What the console's routes depend on: its parts, the services it calls, the signed-in user.

``app.create_app`` builds one ``ConsoleParts`` and sets it as ``app.state.parts``;
the routes take what they use through the ``Annotated`` aliases below, never
through closures, so a test app sets the parts (or overrides one dependency,
such as ``current_user``) and includes the module-level routers as they are.
The getters are coroutines so FastAPI calls them in the event loop, not a thread.
"""

# Annotations stay evaluated (no postponed annotations): FastAPI resolves the
# dependencies' signatures when it builds the routes.
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

from fastapi import Depends
from fastapi.requests import HTTPConnection
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.console.auth import Claims, Directory, User, bearer, read_token
from services.console.clients import ServiceClient
from services.console.live import LiveHub
from services.console.store.workspace import SeenBook
from services.console.throttle import LoginThrottle
from shared.bus import Bus
from shared.clock import Clock
from shared.store import Store


@dataclass
class ProviderCache:
    """The last provider status notify gave, and when (monotonic seconds)."""

    at: float = float("-inf")
    answer: dict[str, Any] | None = None


@dataclass(frozen=True)
class ConsoleParts:
    """The console's parts, built once by the composition root (``app.create_app``)."""

    store: Store
    clock: Clock
    bus: Bus
    secret: str  # signs and checks the bearer tokens
    org: str  # the organisation this install serves
    hotline: str  # the organisation's hotline, for canned responses ("" if it has none)
    directory: Directory
    throttle: LoginThrottle
    hub: LiveHub
    seen: SeenBook
    routing: ServiceClient
    privacy: ServiceClient
    intake: ServiceClient
    notify: ServiceClient
    provider_status: ProviderCache = field(default_factory=ProviderCache)


async def parts(connection: HTTPConnection) -> ConsoleParts:
    """Return the console's parts (an HTTP request's or a websocket's app)."""
    return cast(ConsoleParts, connection.app.state.parts)


Parts = Annotated[ConsoleParts, Depends(parts)]


async def routing(parts: Parts) -> ServiceClient:
    """Return routing's internal API."""
    return parts.routing


async def privacy(parts: Parts) -> ServiceClient:
    """Return privacy's internal API."""
    return parts.privacy


async def intake(parts: Parts) -> ServiceClient:
    """Return intake's internal API."""
    return parts.intake


async def notify(parts: Parts) -> ServiceClient:
    """Return notify's internal API."""
    return parts.notify


async def seen_book(parts: Parts) -> SeenBook:
    """Return when each user last opened each case."""
    return parts.seen


Routing = Annotated[ServiceClient, Depends(routing)]
Privacy = Annotated[ServiceClient, Depends(privacy)]
Intake = Annotated[ServiceClient, Depends(intake)]
Notify = Annotated[ServiceClient, Depends(notify)]
Seen = Annotated[SeenBook, Depends(seen_book)]

# The bearer token as the OpenAPI document declares it (one security scheme for
# every route); a missing or malformed header is refused by ``bearer`` with a reason.
BEARER = HTTPBearer(auto_error=False, description="the access token of POST /api/v1/auth/token")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


def token_of(credentials: HTTPAuthorizationCredentials | None) -> str:
    """Return the bearer token the request carries; raise ``Unauthorized`` without one."""
    if credentials is None:
        return bearer(None)
    return bearer(f"{credentials.scheme} {credentials.credentials}")


async def current_claims(credentials: Credentials, parts: Parts) -> Claims:
    """Return what the caller's bearer token says, once its account still matches it."""
    claims = read_token(token_of(credentials), secret=parts.secret)
    await parts.directory.current(claims)
    return claims


CurrentClaims = Annotated[Claims, Depends(current_claims)]


async def current_user(claims: CurrentClaims) -> User:
    """Return the caller, read from the bearer token, once its account still matches it."""
    return claims.user


CurrentUser = Annotated[User, Depends(current_user)]


async def current_admin(user: CurrentUser) -> User:
    """Return the caller if they are an admin; raise ``Forbidden`` otherwise."""
    user.require("admin")
    return user


Admin = Annotated[User, Depends(current_admin)]
