"""An in-memory stand-in for privacy's consent repository, for unit tests of the consent book.

``MemoryConsents`` answers as ``MongoConsents`` (``services/privacy/store/consent.py``)
does: a record is written only over the version it was read at, a new one
starts with an empty outbox unless the write announces a change, the
customers a record concerns only grow, a published message leaves the
outbox once, the contacts come back without their sealed part, and the audit
log chains and masks its entries as the store's does. Documents go in and
come out as copies, with datetimes cut to milliseconds in UTC as BSON stores
them. ``tests/integration/test_privacy_repositories.py`` runs the same
scenarios against this and against MongoDB. ``recording_bus.RecordingBus`` keeps what the
relay publishes, or refuses it as an unreachable broker would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from services.privacy.audit import AuditEntry, chain_entry
from services.privacy.consent import ConsentRecord, ConsentSource
from services.privacy.masking import mask
from services.privacy.store import HeldConsent, PendingConsent
from services.privacy.store.consent import consent_record, held_consent
from shared.ids import new_id
from shared.messages import Consent
from tests.support.stored_copies import stored


def screened_contact(
    subject_ref: str,
    *,
    at: datetime,
    contact_id: str | None = None,
    consent: Consent = "withheld",
    source: ConsentSource | None = "app_form",
    case_id: str | None = None,
) -> dict[str, Any]:
    """Return a screened contact as screening stores it, its sealed part a stand-in."""
    return {
        "_id": contact_id or f"c-{new_id()}",
        "subject_ref": subject_ref,
        "channel": "app",
        "received_at": at,
        "consent": consent,
        "consent_source": source,
        "case_id": case_id,
        "reply_handle": f"rh_{new_id()}",
        "vault": {"sealed": "clear text"},
        "screened": {"text": "masked"},
    }


class MemoryConsents:
    """``ConsentRepository`` in dicts: consent records, screened contacts, subjects, audit log."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.contact_docs: dict[str, dict[str, Any]] = {}
        self.subjects: set[str] = set()
        self.audit: list[AuditEntry] = []

    def add_contact(self, doc: Mapping[str, Any]) -> None:
        """Hold a screened contact as screening stores it."""
        self.contact_docs[str(doc["_id"])] = stored(doc)

    def add_subject(self, subject_ref: str) -> None:
        """Know the customer ``subject_ref``."""
        self.subjects.add(subject_ref)

    async def held(self, case_id: str) -> HeldConsent | None:
        """Return the case's record with its version, or None if there is none."""
        doc = self.records.get(case_id)
        return held_consent(case_id, stored(doc)) if doc else None

    async def for_subject(self, subject_ref: str) -> list[ConsentRecord]:
        """Return the records of every case that concerns ``subject_ref``."""
        return [
            consent_record(case_id, stored(doc))
            for case_id, doc in self.records.items()
            if subject_ref in doc["subject_refs"]
        ]

    async def customer_of(self, case_id: str) -> str | None:
        """Return the customer the case's record is kept for, if it names one."""
        return (self.records.get(case_id) or {}).get("customer_ref")

    async def write(
        self,
        case_id: str,
        *,
        version: int,
        record: ConsentRecord,
        subjects: set[str],
        customer: str | None,
        announce: dict[str, Any] | None,
    ) -> bool:
        """Write ``record`` as version ``version + 1``; False if ``version`` is no longer held."""
        doc = self.records.get(case_id)
        if doc is not None and doc["version"] != version:
            return False  # the upsert's insert would meet the case id already taken
        if doc is None:
            doc = {"_id": case_id, "subject_refs": []}
            if announce is None:
                doc.update(outbox=[], pending=0)
        doc.update(
            history=stored([c.model_dump() for c in record.history]),
            state=record.state,
            version=version + 1,
        )
        doc["subject_refs"] += [s for s in sorted(subjects) if s not in doc["subject_refs"]]
        if customer is not None:
            doc["customer_ref"] = customer
        if announce is not None:
            doc["outbox"] = [*doc.get("outbox", []), stored(announce)]
            doc["pending"] = doc.get("pending", 0) + 1
        self.records[case_id] = doc
        return True

    async def pending(self, case_id: str | None = None) -> AsyncIterator[PendingConsent]:
        """Yield the records (of ``case_id`` or all) with messages still to publish."""
        due = [
            (key, stored(doc["outbox"]))
            for key, doc in self.records.items()
            if doc.get("pending", 0) > 0 and case_id in (None, key)
        ]
        for key, outbox in due:
            yield PendingConsent(case_id=key, outbox=tuple(outbox))

    async def delivered(self, case_id: str, message_id: str) -> None:
        """Take a published message out of the case's outbox."""
        doc = self.records.get(case_id)
        if doc is None or not any(m["id"] == message_id for m in doc["outbox"]):
            return
        doc["outbox"] = [m for m in doc["outbox"] if m["id"] != message_id]
        doc["pending"] -= 1

    async def opener(self, case_id: str) -> dict[str, Any] | None:
        """Return the earliest contact tied to the case (without its sealed part), if any."""
        tied = [d for d in self.contact_docs.values() if d.get("case_id") == case_id]
        if not tied:
            return None
        return _unsealed(min(tied, key=lambda d: d["received_at"]))

    async def contacts(self, contact_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Return the screened contacts among ``contact_ids`` (without their sealed part)."""
        wanted = set(contact_ids)
        return [_unsealed(d) for key, d in self.contact_docs.items() if key in wanted]

    async def tie(
        self, contact_ids: Sequence[str], *, case_id: str, free: Sequence[str | None]
    ) -> None:
        """Tie those of ``contact_ids`` whose case is one of ``free`` to ``case_id``."""
        for contact_id in contact_ids:
            doc = self.contact_docs.get(contact_id)
            if doc is not None and doc.get("case_id") in free:
                doc["case_id"] = case_id

    async def subject_exists(self, subject_ref: str) -> bool:
        """Return True if privacy knows the customer ``subject_ref``."""
        return subject_ref in self.subjects

    async def append_audit(self, *, at: datetime, **fields: Any) -> AuditEntry:
        """Append an entry to the audit log, masking its reason, and return it."""
        if fields.get("reason"):
            fields["reason"] = mask(str(fields["reason"]))
        entry = chain_entry(self.audit[-1] if self.audit else None, at=at, **fields)
        self.audit.append(entry)
        return entry


def _unsealed(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {key: stored(value) for key, value in doc.items() if key != "vault"}
