"""One delivery attempt: ask privacy where the customer is, pick a channel, render, send.

``worker.py`` leases due deliveries and records what this module answers.
Personal data stays inside the process: the address
goes to the provider and nowhere else, and what the provider answers is
scrubbed before it is kept. The address is looked up once per delivery (one
audited reveal in privacy) and kept in memory, never in the delivery log,
until the delivery ends; a restart looks it up once more. A provider whose
circuit breaker is open is not tried, and its deliveries wait without a lookup.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from services.notify.adapters import (
    Address,
    DeliveryChannel,
    DeliveryResult,
    LineAddress,
    OutboundMessage,
    notification_id_for,
)
from services.notify.breaker import Breakers
from services.notify.channels import Channels
from services.notify.directory import OrgDirectory
from services.notify.domain import (
    Intent,
    ReplyTarget,
    candidate_addresses,
    scrub,
    template_context,
)
from services.notify.library import TemplateLibrary
from services.notify.reachability import Reachability
from services.notify.store import DeliveryRepository
from services.notify.survey import SurveyChannel, SurveySigner, survey_url
from services.notify.templates import Rendered, csat_options
from shared import metrics
from shared.clock import Clock
from shared.errors import Invalid, NotFound, UpstreamUnavailable
from shared.logging import mask_pii

log = logging.getLogger(__name__)

# Where a survey link goes; LINE asks with quick-reply buttons instead.
_SURVEY_LINK_CHANNELS: dict[DeliveryChannel, SurveyChannel] = {
    "email": "email",
    "sms": "sms",
    "app": "app",
}

Verdict = Literal["sent", "callback_task", "retry", "failed", "skipped", "deferred"]


class Privacy(Protocol):
    """What an attempt asks privacy: where the customer is, and staff texts in the clear."""

    async def reply_target(self, handle: str, *, case_id: str) -> ReplyTarget:
        """Return where the customer behind ``handle`` can be reached; NotFound if erased."""
        ...

    async def staff_texts(self, refs: list[str], *, case_id: str) -> dict[str, str]:
        """Return the clear staff texts of ``refs`` to send; NotFound if one is gone."""
        ...


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to, and what the log should keep of it."""

    verdict: Verdict
    reason: str = ""
    channel: DeliveryChannel | None = None
    result: DeliveryResult | None = None
    until: datetime | None = None  # for "deferred": when the rate window reopens
    rendered: Rendered | None = None  # for "callback_task": what the agent passes on
    rate_counted: bool = False


class Attempter:
    """Make one attempt at one notification."""

    def __init__(
        self,
        *,
        deliveries: DeliveryRepository,
        reachability: Reachability,
        clock: Clock,
        privacy: Privacy,
        channels: Channels,
        library: TemplateLibrary,
        directory: OrgDirectory,
        signer: SurveySigner,
        survey_base_url: str,
        rate_limit: int,
        rate_window_s: float,
        breakers: Breakers,
        address_cache_size: int = 10_000,
    ) -> None:
        self._deliveries = deliveries
        self._reachability = reachability
        self._clock = clock
        self._privacy = privacy
        self._channels = channels
        self._library = library
        self._directory = directory
        self._signer = signer
        self._survey_base_url = survey_base_url
        self._rate_limit = rate_limit
        self._rate_window_s = rate_window_s
        self._breakers = breakers
        self._targets: OrderedDict[str, ReplyTarget] = OrderedDict()
        self._cache_size = address_cache_size

    def forget(self, delivery_id: str) -> None:
        """Drop the address kept for ``delivery_id``: its delivery has ended."""
        self._targets.pop(delivery_id, None)

    async def _target(self, intent: Intent, delivery_id: str | None) -> ReplyTarget:
        if delivery_id is not None and (cached := self._targets.get(delivery_id)):
            return cached
        assert intent.reply_handle is not None
        target = await self._privacy.reply_target(intent.reply_handle, case_id=intent.case_id)
        if delivery_id is not None and self._cache_size:
            self._targets[delivery_id] = target
            while len(self._targets) > self._cache_size:
                self._targets.popitem(last=False)  # the oldest is looked up again if needed
        return target

    async def _clear_texts(self, intent: Intent) -> Intent:
        """Return ``intent`` with its staff text clear, as privacy holds it now."""
        refs = sorted(set(intent.text_refs.values()))
        clear = await self._privacy.staff_texts(refs, case_id=intent.case_id)
        context = {**intent.context} | {name: clear[ref] for name, ref in intent.text_refs.items()}
        return intent.model_copy(update={"context": context})

    async def attempt(
        self, intent: Intent, *, rate_counted: bool, delivery_id: str | None = None
    ) -> Outcome:
        """Try to deliver ``intent`` once and say how it went."""
        if not intent.reply_handle:
            return Outcome("skipped", "the case has no way to reach the customer")
        try:
            target = await self._target(intent, delivery_id)
        except NotFound:
            return Outcome("skipped", "the customer is unknown to privacy or erased")
        except UpstreamUnavailable as exc:
            failure = DeliveryResult(status="failed", retryable=True, provider_answer=str(exc))
            return Outcome("retry", str(exc), result=failure, rate_counted=rate_counted)
        if intent.text_refs:
            try:
                intent = await self._clear_texts(intent)
            except NotFound:
                return Outcome("skipped", "the staff text is unknown to privacy or erased")
            except UpstreamUnavailable as exc:
                failure = DeliveryResult(status="failed", retryable=True, provider_answer=str(exc))
                return Outcome("retry", str(exc), result=failure, rate_counted=rate_counted)
        subject = target.subject_ref or intent.subject_ref
        blocked = self._reachability.blocked(subject) if subject else frozenset()
        if "*" in blocked:
            return Outcome("skipped", "the customer is marked unreachable")
        address = self._choose(target)
        if address.channel in blocked:
            return Outcome("skipped", f"the customer cannot be reached on {address.channel}")
        provider = address.channel
        if provider != "callback" and (until := self._breakers.admit(provider)) is not None:
            return _provider_down(provider, until, rate_counted)
        try:
            return await self._send(intent, target, address, rate_counted=rate_counted)
        except BaseException:
            # A crash or shutdown mid-attempt says nothing about the provider.
            self._breakers.release(provider)
            raise

    async def _send(
        self, intent: Intent, target: ReplyTarget, address: Address, *, rate_counted: bool
    ) -> Outcome:
        subject = target.subject_ref or intent.subject_ref
        provider = address.channel
        if subject and address.channel != "callback" and not rate_counted:
            until = await self._deliveries.take_rate_slot(
                subject,
                now=self._clock.now(),
                limit=self._rate_limit,
                window=timedelta(seconds=self._rate_window_s),
            )
            if until is not None:
                self._breakers.release(provider)
                return Outcome("deferred", "per-customer rate limit", until=until)
            rate_counted = True
        address = await self._spend_reply_token(intent, address)
        try:
            message = self._compose(intent, address, target)
        except Invalid as exc:
            self._breakers.release(provider)
            return Outcome("failed", str(exc), channel=address.channel, rate_counted=rate_counted)
        adapter = self._channels.get(address.channel)
        assert adapter is not None  # _choose only picks configured channels
        result = await adapter.send(message)
        verdict = _verdict(result)
        if provider != "callback":
            self._breakers.record(
                provider,
                healthy=verdict != "retry",
                reason=f"{provider} answered {result.provider_status or 'nothing'}",
            )
            metrics.DELIVERY_ATTEMPTS.labels(provider, verdict).inc()
        # Providers quote what they refused ("550 <somchai@…>: no such user").
        answer = scrub(mask_pii(result.provider_answer), target.personal_values())
        result = result.model_copy(update={"provider_answer": answer})
        return Outcome(
            verdict,
            result.provider_answer,
            channel=address.channel,
            result=result,
            rendered=Rendered(message.subject, message.text, None),
            rate_counted=rate_counted,
        )

    def _choose(self, target: ReplyTarget) -> Address:
        fresh = bool(
            target.reply_token
            and target.reply_token_expires_at is not None
            and target.reply_token_expires_at > self._clock.now()
        )
        available = self._channels.available
        return next(
            a
            for a in candidate_addresses(target, reply_token_usable=fresh)
            if a.channel in available
        )

    async def _spend_reply_token(self, intent: Intent, address: Address) -> Address:
        if not isinstance(address, LineAddress) or not address.reply_token:
            return address
        # A reply token works once: the first notification of the contact
        # takes it, every later one (and every retry) pushes.
        assert intent.reply_handle is not None
        if await self._deliveries.claim_reply_token(intent.reply_handle, at=self._clock.now()):
            return address
        return address.model_copy(update={"reply_token": None, "reply_token_expires_at": None})

    def _compose(self, intent: Intent, address: Address, target: ReplyTarget) -> OutboundMessage:
        channel = address.channel
        link = None
        survey_channel = _SURVEY_LINK_CHANNELS.get(channel)
        if intent.kind == "resolved" and survey_channel is not None:
            token = self._signer.issue(
                case_id=intent.case_id,
                case_number=intent.case_number,
                channel=survey_channel,
                language=intent.language,
            )
            link = survey_url(self._survey_base_url, token)
        context = template_context(
            intent,
            channel,
            org=self._directory.facts(intent.org, intent.unit),
            customer_name=target.name,
            survey_url=link,
        )
        rendered = self._library.current().render(intent.kind, channel, intent.language, **context)
        quick_reply = (
            csat_options(intent.case_number, intent.language)
            if intent.kind == "resolved" and channel == "line"
            else ()
        )
        return OutboundMessage(
            notification_id=notification_id_for(intent.event_id, channel),
            case_number=intent.case_number,
            kind=intent.kind,
            address=address,
            language=intent.language,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            quick_reply=quick_reply,
            survey_url=link,
        )


def _provider_down(channel: DeliveryChannel, until: datetime, rate_counted: bool) -> Outcome:
    return Outcome(
        "deferred",
        f"{channel} provider unavailable (circuit open)",
        channel=channel,
        until=until,
        rate_counted=rate_counted,
    )


def _verdict(result: DeliveryResult) -> Verdict:
    if result.sent:
        return "sent"
    if result.status == "callback_task":
        return "callback_task"
    return "retry" if result.retryable else "failed"
