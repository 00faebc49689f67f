"""Structured JSON logging with correlation ids, and a filter that masks personal data."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# Last line of defence: anything that looks like personal data and slipped
# into a log call is masked before it is written.
_PII_PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),  # e-mail
    re.compile(r"(?<![\d๐-๙])(?:\+?66|0)[\d๐-๙](?:[\s-]?[\d๐-๙]){7,8}(?![\d๐-๙])"),  # phone
    re.compile(r"(?<![\d๐-๙])[\d๐-๙](?:[\s-]?[\d๐-๙]){12}(?![\d๐-๙])"),  # 13 digits, any grouping
    re.compile(r"(?<!\d)\d(?:[\s-]?\d){12,18}(?!\d)"),  # card numbers
    re.compile(r"U[0-9a-f]{32}"),  # LINE user id
]


def mask_pii(text: str) -> str:
    """Replace anything that looks like personal data with a mask."""
    for pattern in _PII_PATTERNS:
        text = pattern.sub("[masked]", text)
    return text


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
