"""The contact family: ``contact.received`` (identity in clear) and ``contact.screened``."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from shared.kinds import OrgId
from shared.messages.base import Frozen, Message, register

Channel = Literal["line", "email", "app", "phone", "fax", "walk_in"]
Consent = Literal["granted", "withheld", "unknown"]
MetaValue = str | int | float | bool | None
# Meta keys intake sets on a contact staff recorded (a walk-in): who, in which
# role, for which unit. Only intake writes them, from the authenticated caller.
RECORDED_BY, RECORDED_ROLE, RECORDED_UNIT = "recorded_by", "recorded_role", "recorded_unit"


class Identity(Frozen):
    """Who the customer said they are, as given on the channel (personal data)."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    national_id: str | None = None
    line_user_id: str | None = None
    app_user_id: str | None = None
    address: str | None = None

    def is_empty(self) -> bool:
        """Return True if nothing identifies the customer."""
        return not any(self.model_dump().values())


class Attachment(Frozen):
    """A file that came with the contact, stored by intake under ``ref``."""

    name: str
    content_type: str
    size: int = Field(ge=0)
    sha256: str
    ref: str
    text: str | None = None  # OCR or extracted text, may hold personal data


class ScreenedAttachment(Frozen):
    """An attachment after privacy: its text masked."""

    name: str
    content_type: str
    size: int
    sha256: str
    ref: str
    text: str | None = None


class Location(Frozen):
    """Where the customer says the problem is."""

    lat: float = Field(ge=-90, le=90)
    long: float = Field(ge=-180, le=180)
    accuracy_m: float | None = None


class ThreadKeys(Frozen):
    """Keys that let routing join a contact to an existing case (no personal data)."""

    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    case_number: str | None = None
    call_id: str | None = None
    conversation: str | None = None  # e.g. a LINE group id


class Contact(Frozen):
    """The canonical contact every channel is normalised into."""

    id: str
    channel: Channel
    org: OrgId
    received_at: AwareDatetime
    dedupe_key: str
    text: str = ""
    subject: str | None = None
    language: Literal["th", "en"] = "th"
    customer: Identity = Identity()
    consent: Consent = "unknown"
    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    thread: ThreadKeys = ThreadKeys()
    flags: tuple[str, ...] = ()
    meta: dict[str, MetaValue] = Field(default_factory=dict)
    raw_ref: str | None = None


@register("contact.received", version=1)
class ContactReceived(Message):
    """A contact as intake received it; only privacy may consume it."""

    type: Literal["contact.received"] = "contact.received"
    version: Literal[1] = 1
    contact: Contact

    def routing_key(self) -> str:
        """Publish under ``contact.received.<channel>``."""
        return f"contact.received.{self.contact.channel}"


@register("contact.screened", version=1)
class ContactScreened(Message):
    """A contact after privacy: no personal data in clear."""

    type: Literal["contact.screened"] = "contact.screened"
    version: Literal[1] = 1
    contact_id: str
    channel: Channel
    org: OrgId
    received_at: AwareDatetime
    subject_ref: str | None
    reply_handle: str | None
    consent: Consent
    language: Literal["th", "en"] = "th"
    text: str
    subject: str | None = None
    attachments: tuple[ScreenedAttachment, ...] = ()
    location: Location | None = None
    thread: ThreadKeys = ThreadKeys()
    flags: tuple[str, ...] = ()
    meta: dict[str, MetaValue] = Field(default_factory=dict)
