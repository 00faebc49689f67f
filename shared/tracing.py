"""W3C trace context (``traceparent``) carried from an HTTP request through every bus hop.

A trace id is tied to the correlation id, so every hop of one contact shares
it even where no message is being handled (routing's outbox relay, the SLA
watcher): a request that brings a ``traceparent`` and no correlation id gets
the trace id as its correlation id, and a correlation id that is not a trace
id seeds one by hashing. Consumers continue the trace of the header they got;
logs carry it as ``trace_id``.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

HEADER = "traceparent"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_INVALID_TRACE = "0" * 32


@dataclass(frozen=True)
class TraceContext:
    """The trace a piece of work belongs to and the span that caused it."""

    trace_id: str
    parent_span: str | None = None


_current: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar(
    "trace", default=None
)


def parse(value: str | bytes | None) -> TraceContext | None:
    """Return the context of a ``traceparent`` header, or None if absent or malformed."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    match = _TRACEPARENT.match((value or "").strip().lower())
    if match is None or match.group(1) == _INVALID_TRACE:
        return None
    return TraceContext(trace_id=match.group(1), parent_span=match.group(2))


def trace_id_for(correlation_id: str) -> str:
    """Return the trace id of a correlation id: itself if it is one, else a hash of it."""
    if _TRACE_ID.match(correlation_id) and correlation_id != _INVALID_TRACE:
        return correlation_id
    return hashlib.sha256(correlation_id.encode()).hexdigest()[:32]


@contextlib.contextmanager
def trace_scope(context: TraceContext | None) -> Iterator[None]:
    """Make ``context`` the current trace inside the block."""
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


def current_trace_id() -> str | None:
    """Return the current trace id, if work is being traced."""
    context = _current.get()
    return context.trace_id if context else None


def traceparent(correlation_id: str, span_seed: str | None = None) -> str:
    """Return a ``traceparent`` for a new span: in the current trace, else the correlation's."""
    trace = current_trace_id() or trace_id_for(correlation_id)
    # A republished message keeps its span id (seeded by the message id).
    if span_seed is None:
        span = secrets.token_hex(8)
    else:
        span = hashlib.sha256(span_seed.encode()).hexdigest()[:16]
    return f"00-{trace}-{span}-01"
