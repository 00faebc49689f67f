"""Poll a hosted mailbox (IMAP, aioimaplib) into the same accept path as SMTP.

Each round logs in, selects the mailbox, looks up ``UNSEEN`` messages by UID,
reads their sizes first (an oversize message is never downloaded), fetches
each with ``BODY.PEEK[]`` (plain ``RFC822`` / ``BODY[]`` would mark it seen
before it is accepted) and hands it to ``MailIntake``. Only once the contact
is confirmed on the bus is the message moved (``VOCDESK_IMAP_MOVE_TO``) or
flagged ``\\Seen``. A temporary failure (broker down) ends the round and
leaves the rest unseen for the next; a message refused for good is flagged
``\\Seen \\Flagged`` so it stops coming back but a person can find it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Sequence

import aioimaplib

from services.intake.channels.mail.accept import (
    MAX_MAIL_BYTES,
    TOO_LARGE,
    MailIntake,
    MailOutcome,
    MailSource,
)
from services.intake.settings import IntakeSettings
from shared.runtime import Runtime

log = logging.getLogger(__name__)

# UIDs taken per round: bounds one round's work after a long outage; the rest
# come in the rounds that follow.
MAX_PER_ROUND = 100
_SIZE = re.compile(rb"UID (\d+)[^)]*?RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+)[^)]*?UID (\d+)")


class ImapError(Exception):
    """The IMAP server refused a command."""


def _check(response: aioimaplib.Response, command: str) -> aioimaplib.Response:
    if response.result != "OK":
        detail = b" ".join(line for line in response.lines if isinstance(line, bytes))
        raise ImapError(f"{command} answered {response.result}: {detail.decode(errors='replace')}")
    return response


def parse_search(response: aioimaplib.Response) -> list[str]:
    """Return the UIDs of a ``UID SEARCH`` answer."""
    uids: list[str] = []
    # aioimaplib drops the "SEARCH" keyword of the untagged line; the last line
    # is the text of the tagged completion.
    for line in response.lines[:-1]:
        tokens = line.split() if isinstance(line, bytes) else []
        if tokens and tokens[0].upper() == b"SEARCH":
            tokens = tokens[1:]
        if all(token.isdigit() for token in tokens):
            uids.extend(token.decode() for token in tokens)
    return uids


def parse_sizes(response: aioimaplib.Response) -> dict[str, int]:
    """Return each UID's ``RFC822.SIZE`` from a ``UID FETCH`` answer."""
    sizes: dict[str, int] = {}
    for line in response.lines:
        if not isinstance(line, bytes):
            continue
        for match in _SIZE.finditer(line):
            uid, size = (match[1], match[2]) if match[1] else (match[4], match[3])
            sizes[uid.decode()] = int(size)
    return sizes


def parse_body(response: aioimaplib.Response) -> bytes | None:
    """Return the message literal of a ``UID FETCH … BODY.PEEK[]`` answer."""
    # aioimaplib hands literals over as bytearray, the lines around them as bytes.
    return next((bytes(line) for line in response.lines if isinstance(line, bytearray)), None)


class ImapPoller:
    """Fetch unseen mail from one mailbox every ``imap_poll_s`` seconds (off unless configured)."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        settings: IntakeSettings | None = None,
        intake: MailIntake | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._settings = settings or IntakeSettings()
        self._intake = intake or MailIntake(runtime, self._settings)
        self._ssl_context = ssl_context

    async def run(self) -> None:
        """Poll until cancelled; return at once if no mailbox is configured."""
        settings = self._settings
        if not settings.imap_enabled:
            return
        while True:
            try:
                await self.poll_once()
            except (OSError, TimeoutError, ImapError, aioimaplib.AioImapException) as exc:
                log.warning("IMAP poll of %s failed: %s", settings.imap_host, exc)
            except Exception:
                log.exception("IMAP poll failed")
            await asyncio.sleep(settings.imap_poll_s)

    def _client(self) -> aioimaplib.IMAP4:
        settings = self._settings
        host, port = settings.imap_host or "", settings.imap_port_or_default
        if settings.imap_ssl:
            return aioimaplib.IMAP4_SSL(
                host, port, timeout=settings.imap_timeout_s, ssl_context=self._ssl_context
            )
        return aioimaplib.IMAP4(host, port, timeout=settings.imap_timeout_s)

    async def poll_once(self) -> list[MailOutcome]:
        """Take every unseen message once; return the outcome of each one handled."""
        settings = self._settings
        client = self._client()
        await client.wait_hello_from_server()
        try:
            password = settings.imap_password.get_secret_value()
            _check(await client.login(settings.imap_user or "", password), "LOGIN")
            _check(await client.select(aioimaplib.quoted(settings.imap_mailbox)), "SELECT")
            uids = parse_search(_check(await client.uid_search("UNSEEN", charset=None), "SEARCH"))
            return await self._take(client, uids[:MAX_PER_ROUND]) if uids else []
        finally:
            # The session is over either way.
            with contextlib.suppress(OSError, TimeoutError, aioimaplib.AioImapException):
                await client.logout()

    async def _take(self, client: aioimaplib.IMAP4, uids: Sequence[str]) -> list[MailOutcome]:
        listed = await client.uid("fetch", ",".join(uids), "(RFC822.SIZE)")
        sizes = parse_sizes(_check(listed, "FETCH"))
        outcomes: list[MailOutcome] = []
        for uid in uids:
            source = MailSource(kind="imap", mailbox=self._settings.imap_mailbox, uid=uid)
            if sizes.get(uid, 0) > MAX_MAIL_BYTES:
                outcome = TOO_LARGE
            else:
                raw = parse_body(_check(await client.uid("fetch", uid, "(BODY.PEEK[])"), "FETCH"))
                if raw is None:
                    continue  # expunged meanwhile by another client
                outcome = await self._intake.accept(raw, source)
            outcomes.append(outcome)
            if outcome.temporary:
                log.warning("IMAP message %s not accepted yet: %s", uid, outcome.reply)
                break  # the broker or store is down; the rest wait for the next round
            if outcome.accepted:
                await self._done(client, uid)
            else:
                log.warning("IMAP message %s refused: %s", uid, outcome.reply)
                _check(await client.uid("store", uid, "+FLAGS", r"(\Seen \Flagged)"), "STORE")
        return outcomes

    async def _done(self, client: aioimaplib.IMAP4, uid: str) -> None:
        target = self._settings.imap_move_to
        if target and client.has_capability("MOVE"):
            _check(await client.uid("move", uid, aioimaplib.quoted(target)), "MOVE")
            return
        if target:
            log.warning("IMAP server has no MOVE; message %s is only flagged seen", uid)
        _check(await client.uid("store", uid, "+FLAGS", r"(\Seen)"), "STORE")
