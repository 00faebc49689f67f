"""Threading: does a contact open a case, join one, reopen one, rate one, or none of these? No I/O.

Explicit references come first: an email's In-Reply-To/References naming a
stored Message-ID, a case number in the thread keys (an email's case tag, a
walk-in naming a case) or in an email subject. Then the same customer: a LINE
message, a repeat call or an app report from a ``subject_ref`` with an open
case joins it within the channel's window. A follow-up soon after resolution
reopens the case. Events that are not complaints never open one.

A contact naming a case joins (or reopens) it only if it comes from the case's
own customer (the same ``subject_ref``, found by blind index) or was recorded
by staff who may work the case; anyone else's becomes a new case linked to it
as related. A LINE consent postback from the case's customer is their own
decision on disclosure; nothing else a later contact says changes consent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.routing.cases.access import Actor
from services.routing.cases.domain import Case, case_numbers_in
from services.routing.org.config import Threading
from shared.messages import ContactScreened
from shared.messages.contacts import RECORDED_BY, RECORDED_ROLE, RECORDED_UNIT, Consent

# Contacts that are never a complaint by themselves.
NEVER_OPEN = frozenset(
    {
        "follow",
        "unfollow",
        "sticker",
        "location",
        "abandoned",
        "callback_attempt",
        "auto_reply",
        "bounce",
        "bulk",
        "unsend",
        "unknown_event",
        "postback",
        "join",
        "leave",
        "member_joined",
        "member_left",
        "beacon",
        "account_link",
        "things",
    }
)
# Of those, what adds to the customer's open case (the place of the fault, a reaction).
JOINS_OPEN_CASE = frozenset({"sticker", "location"})
# Machine mail naming a case is logged on it and changes nothing.
MACHINE_MAIL = frozenset({"auto_reply", "bounce"})
# The subject may be two customers merged by mistake: never thread on it.
UNSURE_SUBJECT = "identity_conflict"

Action = Literal[
    "open", "join", "reopen", "ignore", "rate", "consent", "callback", "callback_attempt"
]
# Channels where a recorder's identity in meta comes from intake's authenticated caller.
_RECORDED_CHANNELS = frozenset({"walk_in"})


@dataclass(frozen=True)
class Decision:
    """What to do with a contact, and why."""

    action: Action
    reason: str
    case_id: str | None = None
    passive: bool = False
    related_case: str | None = None
    consent: Consent | None = None


@dataclass(frozen=True)
class Rating:
    """A customer's rating carried by a LINE postback."""

    case_number: str
    score: int | None
    comment: str | None


def rating_of(message: ContactScreened) -> Rating | None:
    """Return the csat postback's rating (``action=csat&case=…&score=N``), if it is one."""
    meta = message.meta
    if "postback" not in message.flags or meta.get("postback_action") != "csat":
        return None
    number = str(meta.get("postback_case") or "")
    raw = meta.get("postback_score")
    score = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if isinstance(raw, str) and raw.isdigit():
        score = int(raw)
    comment = meta.get("postback_comment")
    return Rating(number, score, str(comment) if comment else None)


def consent_choice_of(message: ContactScreened) -> tuple[Consent, str] | None:
    """Return a LINE consent postback's choice and the case number it names (may be empty)."""
    meta = message.meta
    if message.channel != "line" or "postback" not in message.flags:
        return None
    if meta.get("postback_action") != "consent":
        return None
    choice = meta.get("postback_choice")
    if choice not in ("granted", "withheld"):
        return None
    state: Consent = "granted" if choice == "granted" else "withheld"
    return state, str(meta.get("postback_case") or "")


def recorder_of(message: ContactScreened) -> Actor | None:
    """Return the staff member who recorded the contact (a walk-in), if intake said so."""
    if message.channel not in _RECORDED_CHANNELS:
        return None
    user, role = message.meta.get(RECORDED_BY), message.meta.get(RECORDED_ROLE)
    if not isinstance(user, str) or not isinstance(role, str) or not user or not role:
        return None
    unit = message.meta.get(RECORDED_UNIT)
    return Actor(user=user, role=role, unit=unit if isinstance(unit, str) and unit else None)


def from_the_customer(case: Case, message: ContactScreened) -> bool:
    """Say whether the contact comes from the case's own customer (same blind-indexed subject)."""
    if UNSURE_SUBJECT in message.flags:
        return False
    return message.subject_ref is not None and message.subject_ref == case.subject_ref


def may_join(case: Case, message: ContactScreened) -> bool:
    """Say whether a contact naming ``case`` may be added to it.

    The case's customer may; so may staff allowed to work the case recording a
    visit (a neighbour at the counter), but a unit member never adds to
    another unit's case.
    """
    recorder = recorder_of(message)
    if recorder is not None:
        # Whoever the visitor is, the recorder must be allowed to work the case.
        return recorder.may_act_on(case)
    return from_the_customer(case, message)


def references(message: ContactScreened) -> tuple[list[str], list[str]]:
    """Return the case numbers and Message-IDs the contact points at, strongest first."""
    thread = message.thread
    numbers = case_numbers_in(thread.case_number)
    if message.channel == "email":
        numbers += case_numbers_in(message.subject, thread.in_reply_to, *thread.references)
    ids = [i for i in (thread.in_reply_to, *reversed(thread.references)) if i]
    return list(dict.fromkeys(numbers)), list(dict.fromkeys(ids))


def decide(
    message: ContactScreened,
    *,
    referenced: Case | None,
    subject_cases: Sequence[Case],
    policy: Threading,
    now: datetime,
) -> Decision:
    """Decide what the contact does; ``subject_cases`` are the customer's recent cases."""
    flags = set(message.flags)
    choice = consent_choice_of(message)
    if choice is not None:
        return _consent_decision(message, choice[0], referenced, subject_cases)
    if "postback" in flags:
        return _rating_decision(message, referenced)
    if "abandoned" in flags:
        return Decision("callback", "abandoned call: a callback to make")
    if "callback_attempt" in flags:
        return Decision("callback_attempt", "our callback of an abandoned call")
    if "bulk" in flags:
        return Decision("ignore", "bulk mail")
    if flags & MACHINE_MAIL:
        if referenced is not None and (from_the_customer(referenced, message) or "bounce" in flags):
            # A bounce comes from the mail system, not a person: kept, changes nothing.
            return Decision("join", "machine mail about the case", referenced.id, passive=True)
        return Decision("ignore", "machine mail")
    never_open = bool(flags & NEVER_OPEN)
    if referenced is not None and not may_join(referenced, message):
        why = f"names {referenced.number} but is not its customer's"
        if never_open:
            return Decision("ignore", why)
        return Decision("open", why, related_case=referenced.id)
    if referenced is not None:
        decision = _by_reference(referenced, message, policy=policy, never_open=never_open)
        if decision is not None:
            return decision
    recorder = recorder_of(message)
    if recorder is not None and recorder.unit_bound:
        # A unit member's entry never lands on another unit's case.
        subject_cases = [c for c in subject_cases if recorder.may_act_on(c)]
    if message.subject_ref and UNSURE_SUBJECT not in flags:
        decision = _by_subject(subject_cases, message, policy=policy, flags=flags, now=now)
        if decision is not None:
            return decision
    if never_open:
        return Decision("ignore", f"not a complaint ({', '.join(sorted(flags & NEVER_OPEN))})")
    related = referenced.id if referenced is not None else None
    return Decision("open", "new matter", related_case=related)


def _consent_decision(
    message: ContactScreened, state: Consent, named: Case | None, cases: Sequence[Case]
) -> Decision:
    """The customer's own answer to the consent question: for the case named, else their newest."""
    if named is None:
        mine = sorted((c for c in cases if c.is_open), key=lambda c: c.last_contact_at)
        named = mine[-1] if mine else None
    if named is None:
        return Decision("ignore", "consent answer with no case of the customer's")
    if not from_the_customer(named, message):
        return Decision("ignore", f"consent for {named.number} from someone else's account")
    return Decision("consent", "customer's own consent answer", named.id, consent=state)


def _rating_decision(message: ContactScreened, case: Case | None) -> Decision:
    rating = rating_of(message)
    if rating is None:
        return Decision("ignore", "postback that is not a rating")
    if case is None:
        return Decision("ignore", f"rating for unknown case {rating.case_number!r}")
    if not message.subject_ref or case.subject_ref != message.subject_ref:
        return Decision("ignore", f"rating for {case.number} from someone else's account")
    if rating.score is None or not 1 <= rating.score <= 5:
        return Decision("ignore", f"rating {rating.score!r} is not 1-5")
    if case.status != "resolved":
        return Decision("ignore", f"{case.number} is {case.status}, not awaiting a rating")
    return Decision("rate", "customer's rating", case.id)


def _by_reference(
    case: Case, message: ContactScreened, *, policy: Threading, never_open: bool
) -> Decision | None:
    if case.is_open:
        return Decision("join", "refers to the case", case.id)
    if never_open:
        return None
    if _recently_resolved(case, message.received_at, policy):
        return Decision("reopen", "follow-up on a recently resolved case", case.id)
    return None  # too old to reopen: a new case, linked to the old one


def _by_subject(
    cases: Sequence[Case],
    message: ContactScreened,
    *,
    policy: Threading,
    flags: set[str],
    now: datetime,
) -> Decision | None:
    window = policy.join_window.get(message.channel)
    open_cases = sorted(
        (c for c in cases if c.is_open), key=lambda c: c.last_contact_at, reverse=True
    )
    if open_cases:
        latest = open_cases[0]
        if flags & JOINS_OPEN_CASE:
            return Decision(
                "join", f"{'/'.join(sorted(flags & JOINS_OPEN_CASE))} from the customer", latest.id
            )
        if window is not None and now - latest.last_contact_at <= window:
            return Decision(
                "join", f"same customer on {message.channel} within {window}", latest.id
            )
    if window is None or flags & NEVER_OPEN:
        return None
    resolved = [c for c in cases if c.status == "resolved"]
    for case in sorted(resolved, key=lambda c: c.updated_at, reverse=True):
        if _recently_resolved(case, message.received_at, policy):
            return Decision("reopen", "customer came back soon after resolution", case.id)
    return None


def _recently_resolved(case: Case, at: datetime, policy: Threading) -> bool:
    resolved_at = (case.resolution or {}).get("at")
    return isinstance(resolved_at, datetime) and at - resolved_at <= policy.reopen_within
