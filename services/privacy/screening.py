"""Screening a received contact: vault the identity, recognise the customer, mask the text."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.privacy import store as pstore
from services.privacy.identifiers import BlindIndexer
from services.privacy.masking import mask
from services.privacy.vault import (
    KeyRing,
    WrappedKey,
    decrypt_identity,
    derive_key,
    encrypt_identity,
)
from shared.ids import new_id
from shared.messages import Contact, ContactScreened, ScreenedAttachment
from shared.settings import Settings
from shared.store import Store

log = logging.getLogger(__name__)

# Which identifier decides when several customers match: the most specific first.
_STRENGTH = ("national_id", "phone", "email", "line_user_id", "app_user_id")
# Channel metadata that addresses the customer travels in the vault, not on the bus.
_REPLY_META_PREFIX = "reply_"


def blind_indexer(settings: Settings) -> BlindIndexer:
    """Return the blind indexer keyed from settings."""
    secret = settings.blind_index_key.get_secret_value()
    return BlindIndexer(derive_key(secret, purpose=b"vocdesk blind index v1"))


def key_ring(settings: Settings) -> KeyRing:
    """Return the key ring of key-encryption keys from settings."""
    return KeyRing.from_setting(settings.vault_kek.get_secret_value())


class Screener:
    """Turn ``contact.received`` into ``contact.screened`` and vault what it must not carry."""

    def __init__(self, store: Store, *, ring: KeyRing, indexer: BlindIndexer) -> None:
        self._store = store
        self._ring = ring
        self._indexer = indexer

    async def screen(self, contact: Contact, *, at: datetime) -> ContactScreened:
        """Vault and mask ``contact``; idempotent per contact id."""
        existing = await self._store[pstore.CONTACTS].find_one({"_id": contact.id})
        if existing is not None:
            return ContactScreened.model_validate(existing["screened"])
        subject_ref, flags = await self._resolve(contact, at=at)
        data_key = await self._data_key(subject_ref)
        names = [contact.customer.name] if contact.customer.name else []
        reply_handle = f"rh_{new_id()}"
        screened = ContactScreened(
            contact_id=contact.id,
            channel=contact.channel,
            org=contact.org,
            received_at=contact.received_at,
            subject_ref=subject_ref,
            reply_handle=reply_handle,
            consent=contact.consent,
            language=contact.language,
            text=mask(contact.text, known_names=names),
            subject=mask(contact.subject, known_names=names) if contact.subject else None,
            attachments=tuple(
                ScreenedAttachment(
                    **{
                        **a.model_dump(),
                        "text": mask(a.text, known_names=names) if a.text else None,
                    }
                )
                for a in contact.attachments
            ),
            location=contact.location,
            thread=contact.thread,
            flags=tuple(contact.flags) + tuple(flags),
            meta={
                k: (mask(v, known_names=names) if isinstance(v, str) else v)
                for k, v in contact.meta.items()
                if not k.startswith(_REPLY_META_PREFIX)
            },
        )
        aad = subject_ref.encode()
        clear = {
            "text": contact.text,
            "subject": contact.subject,
            "identity": contact.customer.model_dump(),
            "attachments": {a.ref: a.text for a in contact.attachments if a.text},
            "reply": _reply_target(contact),
        }
        try:
            await self._store[pstore.CONTACTS].insert_one(
                {
                    "_id": contact.id,
                    "subject_ref": subject_ref,
                    "channel": contact.channel,
                    "received_at": contact.received_at,
                    "consent": contact.consent,
                    "reply_handle": reply_handle,
                    "vault": encrypt_identity(_flatten(clear), data_key, aad=aad),
                    "screened": screened.model_dump(mode="json"),
                }
            )
        except DuplicateKeyError:
            existing = await self._store[pstore.CONTACTS].find_one({"_id": contact.id})
            assert existing is not None
            return ContactScreened.model_validate(existing["screened"])
        return screened

    async def _resolve(self, contact: Contact, *, at: datetime) -> tuple[str, list[str]]:
        indexes: dict[str, str] = {
            str(k): v for k, v in self._indexer.indexes(contact.customer).items()
        }
        matches = await pstore.subjects_for(self._store, list(indexes.values()))
        refs = {m["subject_ref"] for m in matches}
        flags: list[str] = []
        if not refs:
            subject_ref = await self._new_subject(at)
        else:
            by_kind = {m["kind"]: m["subject_ref"] for m in matches}
            subject_ref = next(by_kind[k] for k in _STRENGTH if k in by_kind)
            if len(refs) > 1:
                # Identifiers point at different customers: keep them apart and
                # let an agent decide rather than merging identities by guess.
                flags.append("identity_conflict")
                log.warning("identity conflict", extra={"contact_id": contact.id})
        await pstore.add_indexes(self._store, subject_ref, indexes)
        await self._merge_identity(subject_ref, contact, at=at)
        return subject_ref, flags

    async def _new_subject(self, at: datetime) -> str:
        subject_ref = f"sub_{new_id()}"
        await self._store[pstore.SUBJECTS].insert_one(
            {
                "_id": subject_ref,
                "data_key": self._ring.new_data_key().model_dump(),
                "identity": None,
                "created_at": at,
                "updated_at": at,
            }
        )
        return subject_ref

    async def _data_key(self, subject_ref: str) -> bytes:
        doc = await self._store[pstore.SUBJECTS].find_one({"_id": subject_ref})
        assert doc is not None
        wrapped = WrappedKey.model_validate(doc["data_key"]) if doc.get("data_key") else None
        return self._ring.unwrap(wrapped)

    async def _merge_identity(self, subject_ref: str, contact: Contact, *, at: datetime) -> None:
        doc = await self._store[pstore.SUBJECTS].find_one({"_id": subject_ref})
        assert doc is not None
        if doc.get("data_key") is None:
            return  # erased: keep nothing new about this customer
        key = self._ring.unwrap(WrappedKey.model_validate(doc["data_key"]))
        aad = subject_ref.encode()
        held = decrypt_identity(doc["identity"], key, aad=aad) if doc.get("identity") else {}
        given = {k: v for k, v in contact.customer.model_dump().items() if v}
        merged = {**held, **given}
        await self._store[pstore.SUBJECTS].update_one(
            {"_id": subject_ref},
            {"$set": {"identity": encrypt_identity(merged, key, aad=aad), "updated_at": at}},
        )


def _reply_target(contact: Contact) -> dict[str, Any]:
    reply = {k: v for k, v in contact.meta.items() if k.startswith(_REPLY_META_PREFIX)}
    return {
        "channel": contact.channel,
        "line_user_id": contact.customer.line_user_id,
        "email": contact.customer.email,
        "phone": contact.customer.phone,
        "app_user_id": contact.customer.app_user_id,
        "message_id": contact.thread.message_id,
        "references": list(contact.thread.references),
        "conversation": contact.thread.conversation,
        **reply,
    }


def _flatten(clear: dict[str, Any]) -> dict[str, str | None]:
    # The vault encrypts a flat mapping of strings; nested values go as JSON.
    import json

    return {k: json.dumps(v, ensure_ascii=False, default=str) for k, v in clear.items()}
