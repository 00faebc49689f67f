"""The email channel: SMTP (``channel``) and IMAP (``imap``) into one ``accept.MailIntake``.

``parse`` reads a message with ``decode``, ``html``, ``quote`` and ``report``;
``contact`` turns it into a contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from fastapi import APIRouter

from services.intake.channels import Loop
from services.intake.channels.mail.accept import MailIntake
from services.intake.channels.mail.channel import MailListener
from services.intake.channels.mail.imap import ImapPoller
from services.intake.settings import IntakeSettings
from shared.messages import Channel as ChannelName
from shared.runtime import Runtime
from shared.store import IndexPlan


class MailChannel:
    """The email channel on a runtime: no HTTP route; the SMTP listener and the IMAP poller."""

    name: ChannelName = "email"
    indexes: ClassVar[IndexPlan] = {}
    parts: ClassVar[None] = None  # no route reads anything

    def __init__(self, runtime: Runtime, settings: IntakeSettings) -> None:
        self._runtime = runtime
        self._settings = settings

    def routers(self) -> Sequence[APIRouter]:
        """Return no route: mail arrives over SMTP or is fetched over IMAP."""
        return []

    def background(self) -> Sequence[Loop]:
        """Return the SMTP listener and the IMAP poller (which returns at once if unset)."""
        intake = MailIntake(self._runtime, self._settings)
        poller = ImapPoller(self._runtime, settings=self._settings, intake=intake)
        return [MailListener(self._runtime, intake=intake).run, poller.run]
