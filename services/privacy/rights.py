"""The data subject's rights under the PDPA: find the customer, export what is held, erase it.

Each request is audited before it is answered, so an export lists itself.
Cases belong to routing: an export names the cases privacy has seen the
contacts joined to, and lists the others by contact id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from services.privacy.audit import AuditAction, Purpose
from services.privacy.consent_book import ConsentBook
from services.privacy.identifiers import BlindIndexer, IdentifierKind
from services.privacy.store.audit import append_audit, audit_entries
from services.privacy.store.contacts import contacts_of, count_contacts
from services.privacy.store.subjects import (
    identifier_kinds,
    subject_doc,
    subjects_for,
    subjects_named,
)
from services.privacy.vault import KeyDestroyed
from services.privacy.vaulting import SubjectVault
from shared.clock import Clock
from shared.errors import Invalid, NotFound
from shared.store import Store

EXPORT_FORMAT = 1


class Rights:
    """Answer access and erasure requests, and help the officer find the customer."""

    def __init__(
        self,
        store: Store,
        *,
        vault: SubjectVault,
        indexer: BlindIndexer,
        consents: ConsentBook,
        clock: Clock,
    ) -> None:
        self._store = store
        self._vault = vault
        self._indexer = indexer
        self._consents = consents
        self._clock = clock

    async def lookup(
        self, identifiers: Mapping[IdentifierKind, str], *, reason: str, actor: str, role: str
    ) -> dict[str, Any]:
        """Return the customer known by any of ``identifiers``; every lookup is audited."""
        if not identifiers:
            raise Invalid("give a phone, email, national ID or LINE user id", field="body")
        indexes = {self._indexer.index(kind, value): kind for kind, value in identifiers.items()}
        entries = await subjects_for(self._store, list(indexes))
        matches = sorted(
            ({"kind": indexes[e["_id"]], "subject_ref": e["subject_ref"]} for e in entries),
            key=lambda m: (m["kind"], m["subject_ref"]),
        )
        refs = sorted({m["subject_ref"] for m in matches})
        for ref in refs or [None]:
            await self._audit("lookup", ref, "access_request", reason, actor=actor, role=role)
        if not refs:
            raise NotFound("no customer is known by these identifiers")
        return {"subject_ref": refs[0], "conflict": len(refs) > 1, "matches": matches}

    async def search(
        self,
        identifiers: Mapping[IdentifierKind, str],
        name: str | None,
        *,
        reason: str,
        actor: str,
        role: str,
        limit: int = 20,
    ) -> dict[str, Any]:
        """Return the customers known by ``identifiers`` or by ``name`` (audited, no identity).

        Staff find a customer's cases this way: the answer holds references
        only, never what privacy holds about them.
        """
        indexes = []
        for kind, value in identifiers.items():
            try:
                indexes.append(self._indexer.index(kind, value))
            except Invalid:
                continue  # a name typed into the box is not a phone: no hit, no error
        refs = {str(e["subject_ref"]) for e in await subjects_for(self._store, indexes)}
        name_index = self._indexer.name_index(name)
        if name_index:
            refs |= set(await subjects_named(self._store, name_index, limit=limit))
        found = sorted(refs)[:limit]
        audited: list[str | None] = [*found] or [None]
        for ref in audited:
            await self._audit("lookup", ref, "handle_case", reason, actor=actor, role=role)
        return {"subject_refs": found}

    async def export(
        self, subject_ref: str, *, reason: str, actor: str, role: str
    ) -> dict[str, Any]:
        """Return everything privacy holds about the customer, in clear, as JSON-ready data."""
        subject = await self._subject(subject_ref)
        await self._audit("export", subject_ref, "access_request", reason, actor=actor, role=role)
        erased = subject.get("data_key") is None
        contacts = [c async for c in self._contacts(subject_ref)]
        cases: dict[str, dict[str, Any]] = {}
        for contact in contacts:
            if contact["case_id"]:
                case = cases.setdefault(
                    contact["case_id"],
                    {"case_id": contact["case_id"], "number": None, "contact_ids": []},
                )
                case["number"] = case["number"] or contact["case_number"]
                case["contact_ids"].append(contact["id"])
        return {
            "format": EXPORT_FORMAT,
            "subject_ref": subject_ref,
            "exported_at": self._clock.now().isoformat(),
            "erased": erased,
            "first_seen": subject["created_at"].isoformat(),
            "last_seen": subject["updated_at"].isoformat(),
            "identity": None if erased else await self._vault.identity(subject_ref),
            "identifiers_known": await identifier_kinds(self._store, subject_ref),
            "contacts": contacts,
            "cases": list(cases.values()),
            "contacts_without_known_case": [c["id"] for c in contacts if not c["case_id"]],
            "consents": [
                {"state": r.state, **r.model_dump(mode="json")}
                for r in await self._consents.for_subject(subject_ref)
            ],
            "audit": [
                e.model_dump(mode="json")
                for e in await audit_entries(self._store, subject_ref=subject_ref)
            ],
        }

    async def erase(
        self, subject_ref: str, *, reason: str, actor: str, role: str
    ) -> dict[str, Any]:
        """Destroy the customer's data key, identity and blind indexes; masked text stays."""
        await self._subject(subject_ref)
        at = self._clock.now()
        destroyed = await self._vault.destroy(subject_ref, at=at)
        await self._audit("erase", subject_ref, "erasure_request", reason, actor=actor, role=role)
        contacts = await count_contacts(self._store, subject_ref)
        return {
            "subject_ref": subject_ref,
            "erased": True,
            "already_erased": not destroyed,
            "contacts_kept_masked": contacts,
        }

    async def _contacts(self, subject_ref: str) -> AsyncIterator[dict[str, Any]]:
        async for doc in contacts_of(self._store, subject_ref):
            try:
                clear: dict[str, Any] | None = await self._vault.open_contact(doc)
            except KeyDestroyed:
                clear = None
            yield {
                "id": doc["_id"],
                "channel": doc["channel"],
                "received_at": doc["received_at"].isoformat(),
                "case_id": doc.get("case_id"),
                "case_number": doc.get("case_number"),
                "consent": doc["consent"],
                "consent_source": doc.get("consent_source"),
                "masked_text": doc["screened"]["text"],
                "clear": clear,
                "purged": clear is None,
            }

    async def _subject(self, subject_ref: str) -> dict[str, Any]:
        doc = await subject_doc(self._store, subject_ref)
        if doc is None:
            raise NotFound(f"no subject {subject_ref}")
        return doc

    async def _audit(
        self,
        action: AuditAction,
        subject_ref: str | None,
        purpose: Purpose,
        reason: str,
        *,
        actor: str,
        role: str,
    ) -> None:
        await append_audit(
            self._store,
            at=self._clock.now(),
            actor=actor,
            role=role,
            action=action,
            subject_ref=subject_ref,
            purpose=purpose,
            reason=reason,
        )
