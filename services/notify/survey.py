"""Signed survey links: which case, which channel, which language, until when.

A token reads ``<case id>.<case number>.<expiry>.<channel><language>.<mac>``:
short enough to leave room for words in a Thai SMS, and nothing in it is
personal. The MAC is HMAC-SHA256 under a key derived from ``secret_key`` for
this purpose only, so a link can be neither altered nor forged, and it stops
working at its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from shared.clock import Clock
from shared.errors import Forbidden
from shared.messages.base import Frozen

SurveyChannel = Literal["email", "sms", "app"]
Language = Literal["th", "en"]

_CHANNEL_CODES: dict[str, SurveyChannel] = {"e": "email", "s": "sms", "a": "app"}
_CODE_OF = {name: code for code, name in _CHANNEL_CODES.items()}
_SHAPE = re.compile(
    r"^(?P<case>[0-9A-Za-z_-]{1,64})\.(?P<number>[0-9A-Za-z-]{1,40})\.(?P<exp>[0-9a-z]{1,13})"
    r"\.(?P<ch>[esa])(?P<lang>th|en)\.(?P<mac>[0-9A-Za-z_-]{22})$"
)
_MAC_BYTES = 16


class LinkExpired(Forbidden):
    """The survey link was genuine but is past its expiry."""

    def __init__(self, reason: str, *, language: Language) -> None:
        super().__init__(reason)
        self.language: Language = language


class SurveyTicket(Frozen):
    """What a genuine survey link says."""

    case_id: str
    case_number: str
    channel: SurveyChannel
    language: Language
    expires_at: datetime


class SurveySigner:
    """Issue and check survey tokens."""

    def __init__(self, secret: str, *, ttl: timedelta, clock: Clock) -> None:
        self._key = hmac.new(secret.encode(), b"vocdesk survey link v1", hashlib.sha256).digest()
        self._ttl = ttl
        self._clock = clock

    def issue(
        self, *, case_id: str, case_number: str, channel: SurveyChannel, language: Language
    ) -> str:
        """Return a token for rating ``case_id``, valid for the configured time."""
        expires = int((self._clock.now() + self._ttl).timestamp())
        body = f"{case_id}.{case_number}.{_base36(expires)}.{_CODE_OF[channel]}{language}"
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str) -> SurveyTicket:
        """Return what ``token`` says; raise Forbidden if altered, LinkExpired if too old."""
        match = _SHAPE.match(token)
        if match is None:
            raise Forbidden("not a survey link")
        body = token[: match.start("mac") - 1]
        if not hmac.compare_digest(self._mac(body), match["mac"]):
            raise Forbidden("not a survey link")
        expires_at = datetime.fromtimestamp(int(match["exp"], 36), UTC)
        language: Language = "en" if match["lang"] == "en" else "th"
        if self._clock.now() >= expires_at:
            raise LinkExpired("this survey link has expired", language=language)
        return SurveyTicket(
            case_id=match["case"],
            case_number=match["number"],
            channel=_CHANNEL_CODES[match["ch"]],
            language=language,
            expires_at=expires_at,
        )

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def survey_url(base_url: str, token: str) -> str:
    """Return the public address of the survey page for ``token``."""
    return f"{base_url.rstrip('/')}/survey/{token}"


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
        if value == 0:
            return out
