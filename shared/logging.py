"""Structured JSON logging with correlation ids, and a filter that masks personal data."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from shared.tracing import current_trace_id

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# Last line of defence: anything that looks like personal data and slipped
# into a log call is masked before it is written. Over-masking a long number
# in a log costs little; a customer's number in a log cannot be taken back.
_MASK = "[masked]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINE_USER_ID = re.compile(r"(?<![0-9A-Za-z])U[0-9a-fA-F]{32}(?![0-9A-Za-z])")
# A run of digits (Thai digits too) with at most two separators between them:
# "081-234-5678", "(02) 123 4567", "+66 81 234 5678", "1 2345 67890 12 3".
_NUMBER_RUN = re.compile(r"(?<![0-9A-Za-z_])\+?\(?\d(?:[ .()-]{0,2}\d)+")
_PHONE_DIGITS = range(9, 12)  # landline 9, mobile 10, mobile with country code 11
_LONG_DIGITS = 13  # national ids (13) and card numbers (13-19)


def _mask_number(match: re.Match[str]) -> str:
    digits = "".join(str(unicodedata.decimal(ch)) for ch in match.group() if ch.isdecimal())
    phone_like = digits.startswith(("0", "66")) and len(digits) in _PHONE_DIGITS
    return _MASK if phone_like or len(digits) >= _LONG_DIGITS else match.group()


def mask_pii(text: str) -> str:
    """Replace anything that looks like personal data with a mask."""
    text = _EMAIL.sub(_MASK, text)
    text = _LINE_USER_ID.sub(_MASK, text)
    return _NUMBER_RUN.sub(_mask_number, text)


@contextlib.contextmanager
def correlation_scope(correlation_id: str | None) -> Iterator[None]:
    """Attach ``correlation_id`` to every log record written inside the block."""
    token = _correlation.set(correlation_id)
    try:
        yield
    finally:
        _correlation.reset(token)


def current_correlation_id() -> str | None:
    """Return the correlation id of the current context, if any."""
    return _correlation.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, personal data masked."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as JSON."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if cid := _correlation.get():
            entry["correlation_id"] = cid
        if trace_id := current_trace_id():
            entry["trace_id"] = trace_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return mask_pii(json.dumps(entry, ensure_ascii=False, default=str))


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log record to stderr as masked JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiormq", "aio_pika", "pymongo", "httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
