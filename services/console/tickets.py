"""One-time tickets for the live websocket, so no bearer token ever goes into a URL.

A logged-in page asks ``POST /api/v1/live/ticket`` (bearer token in the
header) and opens ``/api/v1/live?ticket=…`` within ``TICKET_TTL``. The ticket
is stored hashed and deleted as it is redeemed: a second use, or a use on
another replica after the first, finds nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from services.console.auth import Claims, User
from services.console.store import tickets as tickets_store
from shared.errors import Unauthorized
from shared.store import Store

TICKET_TTL = timedelta(seconds=30)


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


async def issue(store: Store, claims: Claims, *, now: datetime) -> str:
    """Return a new single-use ticket for the token's user."""
    ticket = secrets.token_urlsafe(32)
    user = claims.user
    await tickets_store.insert_ticket(
        store,
        doc={
            "_id": _digest(ticket),
            "username": user.username,
            "role": user.role,
            "unit": user.unit,
            "ver": claims.version,
            "expires_at": now + TICKET_TTL,
        },
    )
    # Expired tickets nobody redeemed are swept as new ones are issued.
    await tickets_store.sweep_expired(store, now=now)
    return ticket


async def redeem(store: Store, ticket: str, *, now: datetime) -> Claims:
    """Return the claims a ticket was issued for and delete it; raise ``Unauthorized``."""
    if not ticket or len(ticket) > 100:
        raise Unauthorized("a live ticket is required")
    doc = await tickets_store.take_ticket(store, digest=_digest(ticket))
    if doc is None:
        raise Unauthorized("unknown or used live ticket")
    expires = doc["expires_at"]
    if (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) <= now:
        raise Unauthorized("expired live ticket")
    user = User(username=doc["username"], role=doc["role"], unit=doc.get("unit"))
    return Claims(user, version=int(doc["ver"]))
