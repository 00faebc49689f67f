"""Customers' sealed data in the store: subjects with their data keys, and vaulted contacts.

Every clear value privacy keeps is encrypted under the customer's own data key
(``vault.py``); this module is the one place that reads or writes those keys
(through ``store/subjects.py`` and ``store/contacts.py``).
Destroying a subject removes its key, its identity and its blind indexes, and
strips the sealed part of its contacts, so nothing of it can be recovered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from services.privacy.store.contacts import strip_contacts, strip_subject_contacts
from services.privacy.store.subjects import (
    delete_subjects,
    drop_indexes,
    erase_subject,
    insert_subjects,
    set_identities,
    subject_doc,
    subject_docs,
)
from services.privacy.vault import (
    KeyDestroyed,
    KeyRing,
    WrappedKey,
    decrypt_identity,
    encrypt_identity,
)
from shared.errors import NotFound
from shared.ids import new_id
from shared.store import Store

Clear = dict[str, Any]
# A customer drafted by ``SubjectVault.draft``: ref, wrapped key, clear key, identity.
Drafted = tuple[str, dict[str, Any], bytes, Mapping[str, str | None]]


class SubjectVault:
    """Seal and open one customer's data with their data key, wrapped by the key ring."""

    def __init__(self, store: Store, ring: KeyRing) -> None:
        self._store = store
        self._ring = ring

    def draft(self) -> tuple[str, dict[str, Any], bytes]:
        """Return a new customer's ref and data key, wrapped and clear; write nothing."""
        wrapped = self._ring.new_data_key()
        return f"sub_{new_id()}", wrapped.model_dump(), self._ring.unwrap(wrapped)

    async def create(self, drafts: Sequence[Drafted], *, at: datetime) -> None:
        """Create drafted customers (ref, wrapped key, clear key, identity) in one write."""
        await insert_subjects(
            self._store,
            [
                {
                    "_id": ref,
                    "data_key": wrapped,
                    "identity": encrypt_identity(identity, key, aad=ref.encode()),
                    "created_at": at,
                    "updated_at": at,
                }
                for ref, wrapped, key, identity in drafts
            ],
        )

    async def discard(self, subject_refs: Sequence[str]) -> None:
        """Delete customers drafted for nothing (another writer recognised them first)."""
        await delete_subjects(self._store, subject_refs)

    async def subjects(self, subject_refs: set[str]) -> dict[str, dict[str, Any]]:
        """Return the subject documents of ``subject_refs`` there are (erased ones too), by id."""
        return await subject_docs(self._store, subject_refs)

    def opened(self, doc: Mapping[str, Any]) -> tuple[dict[str, str | None], bytes]:
        """Return a subject document's clear identity and data key; raise ``KeyDestroyed``."""
        key = self._unwrap(doc)
        if not doc.get("identity"):
            return {}, key
        return decrypt_identity(doc["identity"], key, aad=str(doc["_id"]).encode()), key

    async def store_identities(
        self, identities: Mapping[str, tuple[Mapping[str, str | None], bytes]], *, at: datetime
    ) -> None:
        """Replace the identities (clear, with their keys) of customers not erased, in one write."""
        await set_identities(
            self._store,
            {
                ref: encrypt_identity(identity, key, aad=ref.encode())
                for ref, (identity, key) in identities.items()
            },
            at=at,
        )

    async def data_key(self, subject_ref: str) -> bytes:
        """Return the customer's clear data key; raise ``KeyDestroyed`` if they were erased."""
        doc = await self._subject(subject_ref)
        return self._unwrap(doc)

    async def identity(self, subject_ref: str) -> dict[str, str | None]:
        """Return the customer's identity in clear (empty if none is held yet)."""
        doc = await self._subject(subject_ref)
        key = self._unwrap(doc)
        if not doc.get("identity"):
            return {}
        return decrypt_identity(doc["identity"], key, aad=subject_ref.encode())

    def seal(self, clear: Clear, data_key: bytes, *, subject_ref: str) -> dict[str, Any]:
        """Return ``clear`` encrypted for storage beside a contact of ``subject_ref``."""
        # The vault encrypts a flat mapping of strings; nested values go as JSON.
        flat = {k: json.dumps(v, ensure_ascii=False, default=str) for k, v in clear.items()}
        return encrypt_identity(flat, data_key, aad=subject_ref.encode())

    def service_key(self) -> tuple[dict[str, Any], bytes]:
        """Return a fresh data key wrapped by the key ring (to store) and in clear (to use)."""
        wrapped = self._ring.new_data_key()
        return wrapped.model_dump(), self._ring.unwrap(wrapped)

    def open_key(self, wrapped: Mapping[str, Any]) -> bytes:
        """Return the clear data key of a ``service_key`` stored beside what it seals."""
        return self._ring.unwrap(WrappedKey.model_validate(wrapped))

    async def open_contact(self, contact: Mapping[str, Any]) -> Clear:
        """Return what was sealed with a contact; raise ``KeyDestroyed`` if it is gone."""
        if not contact.get("vault"):
            raise KeyDestroyed("the contact's clear data was purged")
        return self._open(contact, await self.data_key(str(contact["subject_ref"])))

    def open_contact_with(
        self, contact: Mapping[str, Any], subject: Mapping[str, Any] | None
    ) -> Clear:
        """Return what was sealed with a contact, opened with its ``subject`` document read with it.

        Raise ``KeyDestroyed`` if the clear part or the key is gone, ``NotFound``
        if there is no such subject.
        """
        if not contact.get("vault"):
            raise KeyDestroyed("the contact's clear data was purged")
        if subject is None or subject.get("_id") != contact["subject_ref"]:
            raise NotFound(f"no subject {contact['subject_ref']}")
        return self._open(contact, self._unwrap(subject))

    def _open(self, contact: Mapping[str, Any], key: bytes) -> Clear:
        subject_ref = str(contact["subject_ref"])
        flat = decrypt_identity(contact["vault"], key, aad=subject_ref.encode())
        return {k: json.loads(v) if v is not None else None for k, v in flat.items()}

    async def purge_contacts(self, contact_ids: list[str], *, at: datetime) -> int:
        """Strip the sealed clear data from contacts; their masked copy stays."""
        if not contact_ids:
            return 0
        return await strip_contacts(self._store, contact_ids, at=at)

    async def destroy(self, subject_ref: str, *, at: datetime) -> bool:
        """Destroy the customer's key, identity, blind indexes and contacts' clear data."""
        erased = await erase_subject(self._store, subject_ref, at=at)
        # Indexes and sealed contacts go even if the key was already gone, so an
        # erasure interrupted half-way finishes when it is asked again.
        await drop_indexes(self._store, subject_ref)
        await strip_subject_contacts(self._store, subject_ref, at=at)
        return erased

    async def _subject(self, subject_ref: str) -> dict[str, Any]:
        doc = await subject_doc(self._store, subject_ref)
        if doc is None:
            raise NotFound(f"no subject {subject_ref}")
        return doc

    def _unwrap(self, doc: Mapping[str, Any]) -> bytes:
        wrapped = WrappedKey.model_validate(doc["data_key"]) if doc.get("data_key") else None
        return self._ring.unwrap(wrapped)
