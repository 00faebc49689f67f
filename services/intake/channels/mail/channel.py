"""The email channel's SMTP listener (aiosmtpd) on ``settings.smtp_port``.

Intake is the final hop behind the organisation's mail exchanger: it takes
mail for any recipient, without TLS or AUTH, on ``settings.host``. The size
limit is advertised in EHLO (``SIZE``), refused at ``MAIL FROM`` when the
client declares more, and enforced while DATA streams in, so an oversize
message is never held whole in memory. The reply to DATA is sent only once
``MailIntake`` has an outcome: 250 after the broker confirmed, 451 when it
did not (the sending server keeps the mail and retries), 5xx for mail that
can never be accepted.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import AnyStr

from aiosmtpd.smtp import SMTP, Envelope, Session

from services.intake.channels.mail.accept import (
    LOCAL_ERROR,
    MAX_MAIL_BYTES,
    TOO_LARGE,
    MailIntake,
    MailSource,
)
from services.intake.settings import IntakeSettings
from shared.runtime import Runtime

log = logging.getLogger(__name__)

# A bind that fails (the port still held by a previous process) is retried
# with this longest wait, so intake's HTTP channels come up regardless.
MAX_BIND_WAIT_S = 30.0


class _Session(SMTP):
    """aiosmtpd's SMTP session, answering a size refusal with RFC 3463's 5.3.4."""

    async def push(self, status: AnyStr) -> None:
        """Send a reply line, rewording aiosmtpd's two size refusals."""
        # aiosmtpd says "552 Error: Too much mail data" after DATA and "552 Error:
        # message size exceeds ..." at MAIL FROM SIZE=; both are the same refusal.
        if isinstance(status, str) and status.startswith("552 Error:"):
            await super().push(TOO_LARGE.reply)
            return
        await super().push(status)


class MailHandler:
    """aiosmtpd handler: each DATA becomes one ``MailIntake.accept``."""

    def __init__(self, intake: MailIntake) -> None:
        self._intake = intake

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Accept the message and return the reply to the end of DATA."""
        peer = session.peer[0] if isinstance(session.peer, tuple) else session.peer
        source = MailSource(
            kind="smtp",
            return_path=envelope.mail_from or "",
            recipients=tuple(envelope.rcpt_tos),
            peer=str(peer) if peer else None,
            helo=session.host_name or None,
        )
        outcome = await self._intake.accept(envelope.original_content or b"", source)
        return outcome.reply

    async def handle_exception(self, error: Exception) -> str:
        """Answer an unexpected failure with a temporary error, so the mail is retried."""
        log.error("SMTP session failed: %s", type(error).__name__, exc_info=error)
        return LOCAL_ERROR.reply


class MailListener:
    """Serve SMTP for intake until cancelled (a ``ServiceParts`` background loop)."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        settings: IntakeSettings | None = None,
        intake: MailIntake | None = None,
        port: int | None = None,
    ) -> None:
        self._runtime = runtime
        self._intake = intake or MailIntake(runtime, settings or IntakeSettings())
        self.port = runtime.settings.smtp_port if port is None else port
        self.serving = asyncio.Event()

    def _session(self, hostname: str) -> SMTP:
        return _Session(
            MailHandler(self._intake),
            data_size_limit=MAX_MAIL_BYTES,
            enable_SMTPUTF8=True,  # Thai addresses and raw UTF-8 headers (RFC 6531)
            hostname=hostname,
            ident="vocdesk intake",
            loop=asyncio.get_running_loop(),
        )

    async def run(self) -> None:
        """Bind ``settings.host``:``smtp_port`` (retrying while it is taken) and serve."""
        loop = asyncio.get_running_loop()
        host = self._runtime.settings.host
        # Once, not per session: aiosmtpd would ask DNS (getfqdn) on every connection.
        hostname = socket.gethostname()
        wait = 1.0
        while True:
            try:
                server = await loop.create_server(
                    lambda: self._session(hostname), host=host, port=self.port
                )
                break
            except OSError as exc:
                log.error("SMTP listener cannot bind %s:%s: %s", host, self.port, exc)
                await asyncio.sleep(wait)
                wait = min(wait * 2, MAX_BIND_WAIT_S)
        log.info("SMTP listener on %s:%s", host, self.port)
        self.serving.set()
        async with server:
            await server.serve_forever()
