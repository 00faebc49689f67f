"""Each case's consent record with its outbox, and what the consent book reads of contacts.

``ConsentRepository`` is what ``services/privacy/consent_book.py`` needs: the
case's record read with its version and written over that version only, the
records of a customer, the outbox of ``consent.changed`` messages, the
screened contacts a case is made of, and the audit log. ``MongoConsents``
keeps it in MongoDB; the fake for unit tests is
``tests/support/privacy_memory.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pymongo.errors import DuplicateKeyError

from services.privacy.audit import AuditEntry
from services.privacy.consent import ConsentRecord
from services.privacy.store.audit import append_audit
from services.privacy.store.collections import CONSENTS, CONTACTS
from services.privacy.store.subjects import subject_exists
from shared.store import Store


@dataclass(frozen=True)
class HeldConsent:
    """A case's consent record as stored: the record, its version, the customers it concerns."""

    record: ConsentRecord
    version: int
    subject_refs: frozenset[str]


@dataclass(frozen=True)
class PendingConsent:
    """A case's ``consent.changed`` messages not yet published, oldest first."""

    case_id: str
    outbox: tuple[dict[str, Any], ...]


class ConsentRepository(Protocol):
    """Where the consent book keeps records, their outbox, and reads the case's contacts."""

    async def held(self, case_id: str) -> HeldConsent | None:
        """Return the case's record with its version, or None if there is none."""
        ...

    async def for_subject(self, subject_ref: str) -> list[ConsentRecord]:
        """Return the records of every case that concerns ``subject_ref``."""
        ...

    async def customer_of(self, case_id: str) -> str | None:
        """Return the customer the case's record is kept for, if it names one."""
        ...

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
        """Write ``record`` as version ``version + 1``; False if ``version`` is no longer held.

        ``subjects`` join the customers the record concerns, ``customer`` (if
        given) becomes the record's customer, ``announce`` joins the outbox.
        """
        ...

    def pending(self, case_id: str | None = None) -> AsyncIterator[PendingConsent]:
        """Yield the records (of ``case_id`` or all) with messages still to publish."""
        ...

    async def delivered(self, case_id: str, message_id: str) -> None:
        """Take a published message out of the case's outbox."""
        ...

    async def opener(self, case_id: str) -> dict[str, Any] | None:
        """Return the earliest contact tied to the case (without its sealed part), if any."""
        ...

    async def contacts(self, contact_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Return the screened contacts among ``contact_ids`` (without their sealed part)."""
        ...

    async def tie(
        self, contact_ids: Sequence[str], *, case_id: str, free: Sequence[str | None]
    ) -> None:
        """Tie those of ``contact_ids`` whose case is one of ``free`` to ``case_id``."""
        ...

    async def subject_exists(self, subject_ref: str) -> bool:
        """Return True if privacy knows the customer ``subject_ref``."""
        ...

    async def append_audit(self, *, at: datetime, **fields: Any) -> AuditEntry:
        """Append an entry to the audit log and return it once it is stored."""
        ...


class MongoConsents:
    """``ConsentRepository`` on privacy's consents, contacts, subjects and audit log."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def held(self, case_id: str) -> HeldConsent | None:
        """Return the case's record with its version, or None if there is none."""
        doc = await self._store[CONSENTS].find_one({"_id": case_id})
        return held_consent(case_id, doc) if doc else None

    async def for_subject(self, subject_ref: str) -> list[ConsentRecord]:
        """Return the records of every case that concerns ``subject_ref``."""
        cursor = self._store[CONSENTS].find({"subject_refs": subject_ref})
        return [consent_record(doc["_id"], doc) async for doc in cursor]

    async def customer_of(self, case_id: str) -> str | None:
        """Return the customer the case's record is kept for, if it names one."""
        held = await self._store[CONSENTS].find_one({"_id": case_id}, {"customer_ref": 1})
        return (held or {}).get("customer_ref")

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
        changes: dict[str, Any] = {
            "$set": {
                "history": [c.model_dump() for c in record.history],
                "state": record.state,
                "version": version + 1,
            },
            "$addToSet": {"subject_refs": {"$each": sorted(subjects)}},
        }
        if customer is not None:
            changes["$set"]["customer_ref"] = customer
        if announce is not None:
            changes["$push"] = {"outbox": announce}
            changes["$inc"] = {"pending": 1}
        else:
            changes["$setOnInsert"] = {"outbox": [], "pending": 0}
        try:
            await self._store[CONSENTS].update_one(
                {"_id": case_id, "version": version}, changes, upsert=True
            )
        except DuplicateKeyError:
            return False  # another writer changed the record since it was read
        return True

    async def pending(self, case_id: str | None = None) -> AsyncIterator[PendingConsent]:
        """Yield the records (of ``case_id`` or all) with messages still to publish."""
        query: dict[str, Any] = {"pending": {"$gt": 0}}
        if case_id is not None:
            query["_id"] = case_id
        async for doc in self._store[CONSENTS].find(query):
            yield PendingConsent(case_id=doc["_id"], outbox=tuple(doc["outbox"]))

    async def delivered(self, case_id: str, message_id: str) -> None:
        """Take a published message out of the case's outbox."""
        await self._store[CONSENTS].update_one(
            {"_id": case_id, "outbox.id": message_id},
            {"$pull": {"outbox": {"id": message_id}}, "$inc": {"pending": -1}},
        )

    async def opener(self, case_id: str) -> dict[str, Any] | None:
        """Return the earliest contact tied to the case (without its sealed part), if any."""
        cursor = (
            self._store[CONTACTS]
            .find({"case_id": case_id}, {"vault": 0})
            .sort("received_at", 1)
            .limit(1)
        )
        first = [doc async for doc in cursor]
        return first[0] if first else None

    async def contacts(self, contact_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Return the screened contacts among ``contact_ids`` (without their sealed part)."""
        cursor = self._store[CONTACTS].find({"_id": {"$in": list(contact_ids)}}, {"vault": 0})
        return [doc async for doc in cursor]

    async def tie(
        self, contact_ids: Sequence[str], *, case_id: str, free: Sequence[str | None]
    ) -> None:
        """Tie those of ``contact_ids`` whose case is one of ``free`` to ``case_id``."""
        await self._store[CONTACTS].update_many(
            {"_id": {"$in": list(contact_ids)}, "case_id": {"$in": list(free)}},
            {"$set": {"case_id": case_id}},
        )

    async def subject_exists(self, subject_ref: str) -> bool:
        """Return True if privacy knows the customer ``subject_ref``."""
        return await subject_exists(self._store, subject_ref)

    async def append_audit(self, *, at: datetime, **fields: Any) -> AuditEntry:
        """Append an entry to the audit log and return it once it is stored."""
        return await append_audit(self._store, at=at, **fields)


def consent_record(case_id: str, doc: dict[str, Any] | None) -> ConsentRecord:
    """Return the record a stored consent document holds (an empty one for None)."""
    history = doc.get("history", []) if doc else []
    customer = doc.get("customer_ref") if doc else None
    return ConsentRecord.model_validate(
        {"case_id": case_id, "history": history, "customer_ref": customer}
    )


def held_consent(case_id: str, doc: dict[str, Any]) -> HeldConsent:
    """Return a stored consent document as the record, its version and its customers."""
    return HeldConsent(
        record=consent_record(case_id, doc),
        version=int(doc["version"]),
        subject_refs=frozenset(doc["subject_refs"]),
    )
