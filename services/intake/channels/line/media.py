"""LINE media: fetch image, video, audio and file content after the webhook has answered.

The webhook publishes the contact with the media marked pending and records
the message id in ``media``; the ``MediaFetcher`` loop then downloads the bytes
into ``attachments`` (one document per SHA-256) and records the outcome against
the message id. The pending record lives in MongoDB, not in memory, so a
restart or another replica picks up what was left, and a claim carries a lease
so a replica that dies mid-download does not strand its record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from services.intake.channels.line import store as line_store
from services.intake.store import store_attachment
from shared.runtime import Runtime
from shared.store import Store

log = logging.getLogger(__name__)

# LINE allows videos and files up to 200 MB; we keep what a case realistically needs.
MAX_CONTENT_BYTES = 50 * 1024 * 1024
FETCH_TIMEOUT_S = 30.0
# Longer than a download may take, so a live claim is never taken twice.
LEASE = timedelta(minutes=2)
# Waits between attempts double from 30 s; eight attempts span about two hours,
# well inside the time LINE keeps message content.
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=30)
# How often the loop looks for due retries when nothing woke it.
POLL_S = 5.0

_LINE_API_HOST = "api.line.me"
_LINE_CONTENT_HOST = "api-data.line.me"
# LINE message ids are decimal strings (18 digits today); 32 leaves room to grow.
# ASCII digits only: str.isdigit() and \d also take Thai and other digits.
_MESSAGE_ID = re.compile(r"[0-9]{1,32}")


def valid_message_id(message_id: object) -> bool:
    """Say whether ``message_id`` has the shape of a LINE message id."""
    return isinstance(message_id, str) and _MESSAGE_ID.fullmatch(message_id) is not None


def content_path(message_id: str) -> str:
    """Return the content API path of ``message_id``; raise ``ValueError`` if it is not an id."""
    if not valid_message_id(message_id):
        raise ValueError("not a LINE message id")
    return f"/v2/bot/message/{message_id}/content"


def content_base(api_base: str) -> str:
    """Return the base URL of LINE's content API for the configured Messaging API base."""
    url = httpx.URL(api_base)
    # LINE serves message content from a separate host; a non-default base is
    # a local or test server that serves both.
    if url.host == _LINE_API_HOST:
        url = url.copy_with(host=_LINE_CONTENT_HOST)
    return str(url).rstrip("/")


@dataclass(frozen=True)
class Fetched:
    """Content LINE returned."""

    data: bytes
    content_type: str


@dataclass(frozen=True)
class FetchFailed:
    """Why content could not be fetched, and whether trying later may succeed."""

    reason: str
    retryable: bool


class LineContentClient:
    """Fetch the binary content of a LINE message with the channel access token."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}"}

    async def fetch(self, message_id: str) -> Fetched | FetchFailed:
        """Download ``GET /v2/bot/message/{messageId}/content``; never raise for LINE's answers."""
        try:
            path = content_path(message_id)
        except ValueError:
            # Recorded before ids were checked, or written by hand: never sent to LINE.
            return FetchFailed("not a LINE message id", retryable=False)
        try:
            async with self._http.stream("GET", path, headers=self._headers) as response:
                if response.status_code != 200:
                    # 202: a video or audio is still being prepared by LINE.
                    retryable = response.status_code in {202, 408, 429} or (
                        response.status_code >= 500
                    )
                    return FetchFailed(f"LINE answered {response.status_code}", retryable)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_CONTENT_BYTES:
                        return FetchFailed(
                            f"content exceeds {MAX_CONTENT_BYTES} bytes", retryable=False
                        )
                    chunks.append(chunk)
                content_type = response.headers.get("content-type", "application/octet-stream")
                return Fetched(b"".join(chunks), content_type.split(";")[0].strip())
        except httpx.HTTPError as exc:
            return FetchFailed(f"{type(exc).__name__}: {exc}", retryable=True)


async def expect_media(store: Store, *, message_id: str, contact_id: str, at: datetime) -> None:
    """Record that ``contact_id``'s media ``message_id`` is to be fetched (once per message)."""
    if not valid_message_id(message_id):
        raise ValueError("not a LINE message id")
    await line_store.expect(store, message_id=message_id, contact_id=contact_id, at=at)


class MediaFetcher:
    """Download pending LINE media into the attachment store, retrying with backoff."""

    def __init__(
        self, runtime: Runtime, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._runtime = runtime
        self._transport = transport
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for pending media now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Fetch pending media until cancelled."""
        settings = self._runtime.settings
        async with httpx.AsyncClient(
            base_url=content_base(str(settings.line_api_base)),
            transport=self._transport,
            timeout=FETCH_TIMEOUT_S,
        ) as http:
            client = LineContentClient(http, settings.line_channel_token.get_secret_value())
            while True:
                self._wake.clear()
                try:
                    while await self.fetch_next(client):
                        pass
                except Exception:
                    # A store hiccup must not end the loop; the claim's lease
                    # lets the next round take the record again.
                    log.exception("media fetch round failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_S)

    async def fetch_next(self, client: LineContentClient) -> bool:
        """Claim one due media record and fetch it; return False if none was due."""
        store, clock = self._runtime.store, self._runtime.clock
        now = clock.now()
        doc = await line_store.claim_due(store, now=now, lease_until=now + LEASE)
        if doc is None:
            return False
        result = await client.fetch(str(doc["_id"]))
        await self._record_outcome(doc, result)
        return True

    async def _record_outcome(self, doc: dict[str, Any], result: Fetched | FetchFailed) -> None:
        store, now = self._runtime.store, self._runtime.clock.now()
        if isinstance(result, Fetched):
            digest = await store_attachment(
                store, data=result.data, content_type=result.content_type, at=now
            )
            log.info("line media stored", extra={"contact_id": doc["contact_id"], "sha256": digest})
            await line_store.mark_stored(
                store,
                message_id=doc["_id"],
                sha256=digest,
                content_type=result.content_type,
                size=len(result.data),
                at=now,
            )
            return
        attempts = int(doc["attempts"])
        if result.retryable and attempts < MAX_ATTEMPTS:
            wait = FIRST_BACKOFF * 2 ** (attempts - 1)
            await line_store.retry_at(
                store, message_id=doc["_id"], next_at=now + wait, error=result.reason
            )
            return
        log.warning("line media failed", extra={"contact_id": doc["contact_id"]})
        await line_store.mark_failed(store, message_id=doc["_id"], error=result.reason, at=now)
