"""The append-only, hash-chained audit log of access to personal data.

Each entry's hash covers its own fields and the previous entry's hash, so
editing, deleting or reordering entries breaks the chain at that point.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime

from shared.errors import Invalid
from shared.messages.base import Frozen

AuditAction = Literal["reveal", "export", "erase", "consent_change", "purge", "lookup"]
Purpose = Literal[
    "handle_case",
    "notify_customer",
    "access_request",
    "erasure_request",
    "retention",
    "legal_obligation",
]
GENESIS_HASH = "0" * 64
FIRST_SEQ = 1
# Access to clear data has to say why; the other actions are explained by their case.
_NEEDS_PURPOSE: frozenset[AuditAction] = frozenset({"reveal", "export", "lookup"})


class AuditEntry(Frozen):
    """One access to personal data, chained to the entry before it."""

    seq: int
    at: AwareDatetime
    actor: str
    role: str
    action: AuditAction
    subject_ref: str | None = None
    case_id: str | None = None
    purpose: Purpose | None = None
    reason: str = ""
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking a chain: ok, or where and why it first breaks."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def chain_entry(
    prev: AuditEntry | None,
    *,
    at: datetime,
    actor: str,
    role: str,
    action: AuditAction,
    subject_ref: str | None = None,
    case_id: str | None = None,
    purpose: Purpose | None = None,
    reason: str = "",
) -> AuditEntry:
    """Return the entry that follows ``prev`` (or starts the log), with its hash."""
    if at.tzinfo is None:
        raise Invalid("audit time must be timezone-aware", field="at")
    if action in _NEEDS_PURPOSE and (purpose is None or not reason.strip()):
        raise Invalid(f"a {action} must name a purpose and a reason", field="reason")
    # MongoDB keeps milliseconds; truncating here keeps the hash valid after a round-trip.
    at = at.astimezone(UTC)
    at = at.replace(microsecond=at.microsecond // 1000 * 1000)
    draft = AuditEntry(
        seq=prev.seq + 1 if prev else FIRST_SEQ,
        at=at,
        actor=actor,
        role=role,
        action=action,
        subject_ref=subject_ref,
        case_id=case_id,
        purpose=purpose,
        reason=reason,
        prev_hash=prev.hash if prev else GENESIS_HASH,
        hash="",
    )
    return draft.model_copy(update={"hash": entry_hash(draft)})


def entry_hash(entry: AuditEntry) -> str:
    """Return the SHA-256 of the entry's canonical JSON, every field but ``hash``."""
    fields = {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="milliseconds"),
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "subject_ref": entry.subject_ref,
        "case_id": entry.case_id,
        "purpose": entry.purpose,
        "reason": entry.reason,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verify_chain(entries: Iterable[AuditEntry]) -> VerifyResult:
    """Check a log from its first entry, in order; report the first entry that breaks it."""
    expected_seq = FIRST_SEQ
    expected_prev = GENESIS_HASH
    checked = 0
    for entry in entries:
        if entry_hash(entry) != entry.hash:
            return _broken(checked, entry, "entry altered: its hash does not match its fields")
        if entry.seq != expected_seq:
            return _broken(
                checked,
                entry,
                f"expected seq {expected_seq}, found {entry.seq}: entries deleted or reordered",
            )
        if entry.prev_hash != expected_prev:
            return _broken(checked, entry, "prev_hash does not match the entry before it")
        checked += 1
        expected_seq += 1
        expected_prev = entry.hash
    return VerifyResult(ok=True, checked=checked)


def _broken(checked: int, entry: AuditEntry, reason: str) -> VerifyResult:
    return VerifyResult(ok=False, checked=checked, first_bad_seq=entry.seq, reason=reason)
