"""Routing's case answers that the console passes on: cases, their pages, units, counts, overview.

Routing builds them (``services/routing``) and the console forwards them, adding
what it alone knows (a contact's revealed text, a queue's unread markers). Both
declare these models, so ``/openapi.json`` of both documents one shape. The
fields routing sends are declared; every model keeps what it does not declare
(``extra="allow"``), so a field routing adds later still reaches the caller.
Routes that answer with them leave unset fields out
(``response_model_exclude_unset``): a key is on the wire exactly when routing or
the console put it there. Times are ISO 8601 strings as routing writes them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.kinds import Urgency
from shared.messages.cases import CaseStatus

Instant = Annotated[str, Field(description="an instant, ISO 8601 with its UTC offset")]
SlaState = Literal["ok", "warning", "breached"]
CaseConsent = Literal["granted", "withheld", "unknown"]


class OpenAnswer(BaseModel):
    """An answer that passes through: the fields it documents, and any other kept as it came."""

    model_config = ConfigDict(extra="allow")


class ContactRead(OpenAnswer):
    """A customer's contact in a case: its text masked, or clear where the caller may see it."""

    id: str = Field(description="the contact's id")
    channel: str = Field(description="where it came in: line, phone, app, mail, fax, walk_in")
    text: str = Field(
        description="what the customer wrote or said, as the caller may see it (masked unless "
        "revealed)"
    )
    subject: str | None = Field(description="a mail's subject, as the caller may see it")
    received_at: Instant
    attachments: list[dict[str, Any]] = Field(description="what came with the contact")
    location: dict[str, Any] | None = Field(description="where the customer said they were")
    flags: list[str] = Field(description="what intake noticed (e.g. a national id in the text)")
    identity: dict[str, Any] | None = Field(
        default=None,
        description="the console only: who the customer is, where the caller may see it",
    )
    revealed: bool = Field(
        default=False, description="the console only: whether ``text`` is shown in clear"
    )


class ClassificationRead(OpenAnswer):
    """What the case is about and how that was decided."""

    category: str | None
    topic: str | None
    urgency: Urgency
    confidence: float | None
    confident: bool
    source: str = Field(description="hazard_rule, model, agent or none")
    hazards: list[str]
    model_version: str | None


class SlaRead(OpenAnswer):
    """The case's service levels: the policy, each target's due time and state.

    A case no policy matched has only ``policy`` (None), ``due``, ``state``,
    ``paused`` and ``next_due``; the other fields come with a policy.
    """

    policy: str | None = Field(description="the SLA policy in force, None if none matched")
    calendar: str | None = Field(default=None, description="the calendar the clock counts on")
    targets: dict[str, float] = Field(
        default_factory=dict, description="each target's span, in seconds"
    )
    due: dict[str, Instant] = Field(description="when each target falls due")
    met: dict[str, Instant] = Field(
        default_factory=dict, description="when each target met so far was met"
    )
    state: dict[str, SlaState] = Field(
        description="each target (first_response, unit_ack, resolution): ok, warning or breached"
    )
    paused: bool = Field(description="whether the clock waits (for the customer)")
    next_due: Instant | None = Field(description="the next due time of an unmet target")
    fired: list[str] = Field(
        default_factory=list, description="the escalation steps fired, in order"
    )
    breached: list[str] = Field(
        default_factory=list, description="the targets whose breach was reported"
    )


class ClosureRead(OpenAnswer):
    """How the customer acknowledged the outcome: a rating, or an agent on their behalf."""

    acknowledged_at: Instant
    channel: str
    score: int | None
    comment: str | None
    on_behalf: bool
    recorded_by: str | None
    certified_by: str | None


class TimelineEntryRead(OpenAnswer):
    """One event of the case's history."""

    seq: int
    type: str = Field(description="the case event, e.g. case.routed, case.resolved")
    at: Instant
    actor: str | None
    detail: dict[str, Any]
    role: str | None = Field(default=None, description="the role the actor acted in")


class CaseRead(OpenAnswer):
    """A case as the caller may see it."""

    id: str = Field(description="the case's id (a ULID)")
    number: str = Field(description="the case number people read aloud, VOC-YYYY-NNNNNN")
    org: str
    status: CaseStatus
    category: str | None
    topic: str | None
    urgency: Urgency
    classification: ClassificationRead
    unit: str | None = Field(description="the unit handling the case")
    assignee: str | None = Field(description="the member working the case")
    tier: str = Field(description="the customer's tier")
    area: dict[str, str | None] = Field(description="province, district, branch code")
    channel: str = Field(description="the channel of the first contact")
    channels: list[str] = Field(description="every channel the customer used on the case")
    consent: CaseConsent = Field(description="whether the customer consents to disclosure")
    subject_ref: str | None = Field(description="the customer's pseudonymous reference")
    sla: SlaRead
    resolution: dict[str, Any] | None = Field(description="the outcome told to the customer")
    closure: ClosureRead | None
    pending_closure: ClosureRead | None = Field(
        description="an acknowledgement on the customer's behalf awaiting certification"
    )
    reopen_count: int
    related_case: str | None
    related_cases: list[str]
    merged_into: str | None
    merged_cases: list[str]
    split_from: str | None
    version: int = Field(description="the case's version, for If-Match")
    created_at: Instant
    updated_at: Instant
    last_contact_at: Instant
    contacts: list[ContactRead]
    timeline: list[TimelineEntryRead] | None = Field(
        default=None, description="the case's history; one case's answer only, not a list's"
    )
    unread: bool | None = Field(
        default=None,
        description="the console's lists only: a customer contact newer than the caller's "
        "last look",
    )


class CasePage(OpenAnswer):
    """A page of cases, newest first unless sorted otherwise."""

    items: list[CaseRead]
    total: int = Field(description="how many cases match (at least, unless ``total_exact``)")
    total_exact: bool = Field(
        default=True, description="whether ``total`` is the exact count or a lower bound"
    )
    page: int
    per_page: int
    next: str | None = Field(
        default=None, description="the cursor of the next page (``after``), None on the last"
    )


class ReplyQueuedRead(OpenAnswer):
    """A reply handed to notify for delivery, and the case it was written to."""

    request_id: str
    status: Literal["queued"]
    case: CaseRead


class PullRead(OpenAnswer):
    """The case a member pulled from the unit's queue, None if the queue was empty."""

    case: CaseRead | None


class CaseCountsRead(OpenAnswer):
    """How many cases each queue view holds for the caller."""

    all: int
    mine: int
    unassigned: int
    unit: int
    at_risk: int
    breached: int


class MemberRead(OpenAnswer):
    """A unit's member; ``capacity`` overrides the unit's when set."""

    user: str
    capacity: int | None = None


class AreasRead(OpenAnswer):
    """The places a unit serves."""

    provinces: list[str]
    districts: list[str]
    branch_codes: list[str]


class UnitRead(OpenAnswer):
    """A unit that handles cases."""

    id: str = Field(description="the unit's id, as cases and filters name it")
    name: str
    kind: str = Field(
        description="branch, region, department, key_account, triage or contact_center"
    )
    calendar: str
    assignment: str = Field(description="pull, round_robin or least_loaded")
    capacity: int = Field(description="open cases per member at most")
    supervisor: str | None
    escalation_unit: str | None
    members: list[MemberRead]
    areas: AreasRead


class OverviewMemberRead(OpenAnswer):
    """A member in the supervisor overview: online or not, and how many open cases they hold."""

    user: str
    online: bool
    open: int


class OverviewUnitRead(OpenAnswer):
    """A unit's queue and people in the supervisor overview."""

    unit: str
    name: str
    open: int
    unassigned: int
    at_risk: int
    breached: int
    members: list[OverviewMemberRead]


class OverviewCaseRead(CaseRead):
    """A case needing attention, with the last escalation step fired on it."""

    escalation: str | None


class OverviewRead(OpenAnswer):
    """Each unit's queue and people, and the cases needing attention, most urgent first."""

    units: list[OverviewUnitRead]
    at_risk: list[OverviewCaseRead]
    breached: list[OverviewCaseRead]
    pending_closures: list[OverviewCaseRead]


class PresenceRead(OpenAnswer):
    """A member set online or offline in a unit, and the cases that moved because of it."""

    unit: str
    user: str
    online: bool
    returned: list[str] | None = Field(
        default=None, description="going offline: the unstarted cases given back to the queue"
    )
    assigned: int | None = Field(
        default=None, description="coming online: how many waiting cases the unit handed out"
    )


class CallbackAttemptRead(OpenAnswer):
    """One try at ringing a caller back."""

    contact_id: str
    at: Instant
    cause: Any = Field(description="the call's end cause, as the phone system said it")
    agent: Any = Field(description="who rang, as the phone system named them")
    reached: bool


class CallbackRead(OpenAnswer):
    """A caller waiting to be rung back (an abandoned or missed call), and the tries so far.

    The call's details the phone system gave (queue, IVR path, topic hint,
    hotline, duration, cause) come beside these fields.
    """

    id: str = Field(description="the missed call's contact id")
    org: str
    status: Literal["open", "done"]
    received_at: Instant
    subject_ref: str | None
    number_ref: str | None = Field(description="the vaulted number to ring")
    attempts: list[CallbackAttemptRead]
    done_at: Instant | None = Field(default=None, description="when the caller was reached")


class CallbackPage(OpenAnswer):
    """Callbacks, oldest first: the longest-waiting caller is rung first."""

    items: list[CallbackRead]


class TierRead(OpenAnswer):
    """A customer's tier, as an admin set it."""

    subject_ref: str
    tier: str
