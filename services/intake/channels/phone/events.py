"""Normalise phone numbers and fold CTI or Asterisk AMI events into one record per call.

The CTI webhook is our own generic format (``newCall`` / ``answer`` /
``hangup``, keyed by the PBX linkedid). ``ami_to_cti`` translates raw Asterisk
AMI events into it, so both sources share one folding rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from services.intake.payloads import parse_payload
from shared.errors import Invalid
from shared.instants import plausible, written
from shared.messages.base import Frozen

Cause = Literal["normalClearing", "busy", "cancel", "noAnswer", "failed"]

# What PBXs put in the caller id when the caller withheld it; never a customer key.
_WITHHELD = frozenset(
    {"anonymous", "withheld", "private", "restricted", "unknown", "unavailable", "<unknown>"}
)
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_SEPARATORS = re.compile(r"[\s\-.()/]")
_SHORT_CODE = re.compile(r"[0-9]{3,5}")  # hotlines such as 1129, 1365, 1204, 191
# Timestamps are held to ``instants.plausible`` (2000 to 2100), which also keeps
# call arithmetic (start = hangup - duration, UTC keys) inside the calendar.
MAX_CALL_S = 7 * 24 * 3600


def normalise_number(raw: str | None) -> str | None:
    """Return ``raw`` in E.164, a short code as-is, or None when withheld or unusable."""
    if raw is None or raw.strip().lower() in _WITHHELD:
        return None
    compact = _SEPARATORS.sub("", raw.translate(_THAI_DIGITS))
    if _SHORT_CODE.fullmatch(compact):
        return compact
    try:
        number = phonenumbers.parse(compact, "TH")
    except phonenumbers.NumberParseException:
        return None
    # Valid, not merely possible, as privacy's blind index requires: filler such
    # as 0000000000 must not become a key that joins unrelated callers.
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class IvrStep(Frozen):
    """One IVR menu choice, written ``menu:key:meaning`` (``lang:th`` has no meaning)."""

    menu: str
    key: str
    meaning: str | None = None


_IVR_STEP_SCHEMA = {
    "type": "object",
    "required": ["menu", "key"],
    "additionalProperties": False,
    "properties": {
        "menu": {"type": "string"},
        "key": {"type": "string"},
        "meaning": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
}
# What the PBX may send: nothing, "menu:key[:meaning]" steps joined by "," "|"
# or ">", or a list of such steps or of step objects.
_IVR_PATH_SCHEMA = {
    "anyOf": [
        {"type": "null"},
        {"type": "string"},
        {"type": "array", "items": {"anyOf": [{"type": "string"}, _IVR_STEP_SCHEMA]}},
    ]
}


class CtiEvent(BaseModel):
    """One event of the generic CTI webhook."""

    # Extra fields are ignored: a PBX adding its own fields must not break intake.
    model_config = ConfigDict(frozen=True, extra="ignore")

    event: Literal["newCall", "answer", "hangup"]
    call_id: str = Field(alias="callId", min_length=1)
    timestamp: AwareDatetime
    direction: Literal["in", "out"]
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    user: str | None = None
    queue: str | None = None
    ivr_path: Annotated[tuple[IvrStep, ...], WithJsonSchema(_IVR_PATH_SCHEMA)] = ()
    cause: Cause | None = None
    duration_s: StrictInt | None = Field(default=None, ge=0, le=MAX_CALL_S)
    talk_s: StrictInt | None = Field(default=None, ge=0, le=MAX_CALL_S)
    recording_url: str | None = None

    _written = field_validator("timestamp", mode="before")(written)

    @field_validator("timestamp")
    @classmethod
    def _plausible_instant(cls, value: datetime) -> datetime:
        return plausible(value)

    @field_validator("ivr_path", mode="before")
    @classmethod
    def _split_ivr_path(cls, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str):  # one string may hold several steps: "a:1:x,b:2:y"
            value = [part for part in re.split(r"[,|>]", value) if part.strip()]
        if not isinstance(value, list | tuple):
            return value
        return [_ivr_step(step) if isinstance(step, str) else step for step in value]

    @model_validator(mode="after")
    def _hangup_fields(self) -> CtiEvent:
        if (self.event == "hangup") != (self.cause is not None):
            raise ValueError("a hangup event needs a cause, and only a hangup has one")
        if (
            self.talk_s is not None
            and self.duration_s is not None
            and self.talk_s > self.duration_s
        ):
            raise ValueError("talk_s cannot exceed duration_s")
        return self


def _ivr_step(text: str) -> dict[str, str | None]:
    parts = [part.strip() for part in text.split(":", 2)]
    if len(parts) < 2 or not all(parts):
        raise ValueError(f"IVR step {text!r} is not menu:key or menu:key:meaning")
    return {"menu": parts[0], "key": parts[1], "meaning": parts[2] if len(parts) == 3 else None}


def parse_cti_event(payload: bytes | str | Mapping[str, Any]) -> CtiEvent:
    """Validate one CTI webhook payload, raising Invalid that names the bad field."""
    return parse_payload(CtiEvent, payload, what="CTI event")


class CallRecord(Frozen):
    """Everything known about one call, folded from its events."""

    call_id: str
    direction: Literal["in", "out"]
    caller: str | None = None
    dialled: str | None = None
    started_at: AwareDatetime
    answered_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    agent: str | None = None
    queue: str | None = None
    ivr_path: Annotated[tuple[IvrStep, ...], WithJsonSchema(_IVR_PATH_SCHEMA)] = ()
    cause: Cause | None = None
    duration_s: int | None = None
    talk_s: int | None = None
    recording_url: str | None = None

    @property
    def complete(self) -> bool:
        """Return True once the call has hung up."""
        return self.ended_at is not None

    @property
    def answered(self) -> bool:
        """Return True once someone answered: an answer was seen or the hangup reports talk."""
        # Talk time proves an answer even when the hangup is the only event seen
        # (events may arrive out of order, and the call is published at hangup).
        return self.answered_at is not None or bool(self.talk_s)

    @property
    def abandoned(self) -> bool:
        """Return True for an inbound call that hung up before anyone answered."""
        return (
            self.direction == "in"
            and self.complete
            and (self.cause == "cancel" or not self.answered)
        )


def fold(record: CallRecord | None, event: CtiEvent) -> CallRecord:
    """Return ``record`` updated with ``event``; folding is order-free and idempotent."""
    if record is not None and record.call_id != event.call_id:
        raise Invalid(
            f"event of call {event.call_id} folded into call {record.call_id}", field="callId"
        )
    start = event.timestamp - timedelta(seconds=event.duration_s or 0)  # a late first event
    known: dict[str, Any] = record.model_dump() if record else {"call_id": event.call_id}
    update: dict[str, Any] = {
        "direction": known.get("direction", event.direction),
        "started_at": min(known.get("started_at", start), start),
        "caller": known.get("caller") or normalise_number(event.from_),
        "dialled": known.get("dialled") or normalise_number(event.to),
        "agent": event.user or known.get("agent"),
        "queue": event.queue or known.get("queue"),
        "ivr_path": event.ivr_path or known.get("ivr_path", ()),
    }
    if event.event == "answer":
        answered = known.get("answered_at")
        update["answered_at"] = min(answered, event.timestamp) if answered else event.timestamp
    if event.event == "hangup":
        update |= {
            "ended_at": event.timestamp,
            "cause": event.cause,
            "duration_s": event.duration_s,
            "talk_s": event.talk_s,
            "recording_url": event.recording_url,
        }
    return CallRecord.model_validate(known | update)


def fold_calls(events: Iterable[CtiEvent]) -> dict[str, CallRecord]:
    """Fold a stream of events into one record per call id."""
    records: dict[str, CallRecord] = {}
    for event in events:
        records[event.call_id] = fold(records.get(event.call_id), event)
    return records


def callback_of(record: CallRecord) -> str | None:
    """Return the number an outbound call tried, to find the abandoned call it answers."""
    # Any outbound call to a number with an open abandoned inbound call counts
    # as an attempt on that callback; the caller holds the abandoned calls.
    if record.direction != "out":
        return None
    return record.dialled


def topic_hint(ivr_path: Iterable[IvrStep]) -> str | None:
    """Return the meaning of the deepest IVR choice, a hint for the case topic."""
    # A hint, not a taxonomy key: routing maps it onto the organisation's topics.
    meanings = [step.meaning for step in ivr_path if step.meaning]
    return meanings[-1] if meanings else None


def parse_ami(text: str) -> list[dict[str, str]]:
    """Split raw AMI text (CRLF lines, blank line between events) into one dict per block."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in re.split(r"\r?\n", text):
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, colon, value = line.partition(":")
        if colon:  # the "Asterisk Call Manager/x.y" greeting has none
            current[key.strip()] = value.strip()  # a repeated key keeps its last value
    if current:
        blocks.append(current)
    return blocks


INBOUND_CONTEXTS = frozenset({"from-trunk", "from-pstn", "from-external", "from-did"})
_DIAL_STATUS: dict[str, Cause] = {
    "BUSY": "busy",
    "NOANSWER": "noAnswer",
    "CANCEL": "cancel",
    "CONGESTION": "failed",
    "CHANUNAVAIL": "failed",
}
# Q.850 causes; 16 (normal clearing) or 0 before any answer means the caller gave up.
_Q850: dict[str, Cause] = {
    "0": "cancel",
    "16": "cancel",
    "17": "busy",
    "21": "busy",
    "18": "noAnswer",
    "19": "noAnswer",
}


def ami_to_cti(
    blocks: Iterable[Mapping[str, str]],
    *,
    agents: Mapping[str, str] | None = None,
    inbound_contexts: frozenset[str] = INBOUND_CONTEXTS,
) -> list[CtiEvent]:
    """Translate AMI Newchannel, DialEnd (ANSWER) and Hangup into CTI events per Linkedid."""
    blocks = list(blocks)
    agents = agents or {}
    queues = _ami_queues(blocks)
    calls: dict[str, dict[str, Any]] = {}
    events: list[CtiEvent] = []
    for block in blocks:
        name, linked = block.get("Event"), block.get("Linkedid", "")
        # Only the originating channel speaks for the call; agent legs would repeat it.
        if name not in {"Newchannel", "DialEnd", "Hangup"} or block.get("Uniqueid") != linked:
            continue
        at = _ami_time(block)
        call = calls.get(linked)
        if call is None:
            inbound = block.get("Context") in inbound_contexts
            call = calls[linked] = {
                "callId": linked,
                "direction": "in" if inbound else "out",
                "from": block.get("CallerIDNum"),
                "to": block.get("Exten"),
                "user": None if inbound else _agent(block.get("Channel"), agents),
                "started": at,
                "answered": None,
                "dial_status": None,
            }
        base = {key: call[key] for key in ("callId", "direction", "from", "to", "user")}
        base |= {"timestamp": at, "queue": queues.get(linked)}
        if name == "Newchannel":
            events.append(CtiEvent.model_validate(base | {"event": "newCall", "queue": None}))
        elif name == "DialEnd":
            call["dial_status"] = block.get("DialStatus")
            if call["dial_status"] == "ANSWER" and call["answered"] is None:
                call["answered"] = at
                if call["direction"] == "in":
                    call["user"] = base["user"] = _agent(block.get("DestChannel"), agents)
                events.append(CtiEvent.model_validate(base | {"event": "answer"}))
        else:
            events.append(CtiEvent.model_validate(base | _ami_hangup(block, call, at)))
    return events


def _ami_hangup(block: Mapping[str, str], call: dict[str, Any], at: datetime) -> dict[str, Any]:
    answered: datetime | None = call["answered"]
    cause: Cause | None = "normalClearing" if answered else None
    if cause is None and call["direction"] == "out":
        # DialStatus is the far end's answer; on an inbound call it is only an
        # agent's phone in the queue, and the caller's own hangup is what counts.
        cause = _DIAL_STATUS.get(call["dial_status"] or "")
    cause = cause or _Q850.get(block.get("Cause", ""), "failed")
    return {
        "event": "hangup",
        "cause": cause,
        "duration_s": round((at - call["started"]).total_seconds()),
        "talk_s": round((at - answered).total_seconds()) if answered else 0,
        "recording_url": None,  # AMI does not carry it; MixMonitor paths are site-specific
    }


def _ami_queues(blocks: list[Mapping[str, str]]) -> dict[str, str]:
    """Map each Linkedid to its queue, from QueueCallerJoin or the Cdr's Queue application."""
    queues: dict[str, str] = {}
    for block in blocks:
        if block.get("Event") == "QueueCallerJoin" and block.get("Queue"):
            queues[block.get("Linkedid", "")] = block["Queue"]
        elif block.get("Event") == "Cdr" and block.get("LastApplication") == "Queue":
            queues.setdefault(block.get("UniqueID", ""), block.get("LastData", "").split(",")[0])
    return queues


def _ami_time(block: Mapping[str, str]) -> datetime:
    try:
        return plausible(datetime.fromtimestamp(float(block["Timestamp"]), UTC))
    except (KeyError, ValueError, OverflowError, OSError) as exc:
        raise Invalid(
            f"AMI {block.get('Event')} has no usable Timestamp; enable timestampevents=yes",
            field="Timestamp",
        ) from exc


def _agent(channel: str | None, agents: Mapping[str, str]) -> str | None:
    """Return the agent behind a channel such as ``PJSIP/1023-00000a20``."""
    found = re.search(r"/([^-;@/]+)", channel or "")
    if found is None:
        return None
    return agents.get(found.group(1), found.group(1))
