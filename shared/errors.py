"""The one error tree of vocdesk.

::

    VocdeskError
    ├── ConfigError              settings or organisation config is unusable
    ├── BusError
    │   ├── BusUnavailable       broker unreachable or did not confirm in time
    │   └── Unroutable           broker returned a mandatory message
    ├── HandlerOutcome           raised by a bus handler to choose the delivery outcome
    │   ├── Retry                requeue: a transient failure, try again later
    │   └── Poison               dead-letter now: this message can never succeed
    ├── StoreUnavailable         MongoDB did not answer
    ├── UpstreamUnavailable      another vocdesk service did not answer
    └── DomainError              a request the domain refuses
        ├── NotFound             404
        ├── Conflict             409
        ├── Invalid              422
        ├── Unauthorized         401
        ├── Forbidden            403
        ├── PayloadTooLarge      413
        └── RateLimited          429

``shared.http`` maps this tree to HTTP status codes; ``shared.bus.base`` maps
it to ack / requeue / dead-letter. Nowhere else does either mapping.
"""

from __future__ import annotations


class VocdeskError(Exception):
    """Base of every error vocdesk raises on purpose."""


class ConfigError(VocdeskError):
    """Settings or organisation configuration cannot be used."""


class BusError(VocdeskError):
    """The message bus failed to do what was asked."""


class BusUnavailable(BusError):
    """The broker is unreachable or did not confirm a publish in time."""


class Unroutable(BusError):
    """The broker returned a mandatory message that no queue was bound to take."""


class HandlerOutcome(VocdeskError):
    """Raised by a consumer handler to choose what happens to the delivery."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Retry(HandlerOutcome):
    """Requeue the delivery: the failure is transient."""


class Poison(HandlerOutcome):
    """Dead-letter the delivery at once: it can never be handled."""


class StoreUnavailable(VocdeskError):
    """The document store did not answer."""


class UpstreamUnavailable(VocdeskError):
    """Another vocdesk service did not answer or failed."""


class DomainError(VocdeskError):
    """A request the domain refuses; carries a reason for the caller."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Conflict(DomainError):
    """The request conflicts with the current state (stale version, reused key)."""


class Invalid(DomainError):
    """The request is well-formed but its content is not acceptable."""


class Unauthorized(DomainError):
    """The caller did not prove who they are."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class PayloadTooLarge(DomainError):
    """The request body exceeds the channel's size limit."""


class RateLimited(DomainError):
    """The caller exceeded its rate limit."""

    def __init__(self, reason: str, *, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
