"""Screening a received contact: vault the identity, recognise the customer, mask the text.

Recognition uses blind indexes of the identifiers the channel gave (explicit)
and, for kinds the channel did not give, of the one phone, email or national
ID the customer wrote in the text (stated): on LINE the number typed into the
chat is how the same person is found again when they call. When identifiers
point at different customers nothing is merged: the contact is flagged
``identity_conflict`` and the conflict recorded for an agent to settle.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.privacy.consent import captured
from services.privacy.detect import Span
from services.privacy.identifiers import NORMALISERS, BlindIndexer, IdentifierKind
from services.privacy.masking import mask_text
from services.privacy.recognition import STRENGTH, Recognition
from services.privacy.redaction import (
    REPLY_META_PREFIX,
    nfc,
    redact,
    redact_file_name,
    redact_meta,
    scan,
)
from services.privacy.store.contacts import (
    contacts_by_id,
    insert_contacts,
    record_conflict,
    screened_and_known,
)
from services.privacy.vault import KeyRing, derive_key
from services.privacy.vaulting import SubjectVault
from shared.bus.base import transient
from shared.ids import new_id
from shared.messages import Contact, ContactScreened, ScreenedAttachment
from shared.messages.contacts import Consent
from shared.settings import Settings
from shared.store import Store
from shared.thai_ids import normalise_national_id

log = logging.getLogger(__name__)

# What a customer may state about themselves in free text and be recognised by.
_STATED: tuple[IdentifierKind, ...] = ("national_id", "phone", "email")


def blind_indexer(settings: Settings) -> BlindIndexer:
    """Return the blind indexer keyed from settings."""
    secret = settings.blind_index_key.get_secret_value()
    return BlindIndexer(derive_key(secret, purpose=b"vocdesk blind index v1"))


def key_ring(settings: Settings) -> KeyRing:
    """Return the key ring of key-encryption keys from settings."""
    return KeyRing.from_setting(settings.vault_kek.get_secret_value())


def stated_identifiers(text: str, spans: Sequence[Span]) -> dict[IdentifierKind, str]:
    """Return the identifiers stated in ``text``, one per kind; a kind stated twice is dropped."""
    found: dict[IdentifierKind, str] = {}
    for kind in _STATED:
        normalise = NORMALISERS[kind]
        values = {normalise(text[s.start : s.end]) for s in spans if s.kind == kind} - {None}
        # Two numbers in one message may be the customer's and a neighbour's: neither is used.
        if len(values) == 1:
            found[kind] = str(values.pop())
    return found


@dataclass(frozen=True)
class Resolution:
    """Who the contact's customer is, what screening noticed, and the names to mask."""

    subject_ref: str
    flags: tuple[str, ...]
    names: tuple[str, ...]
    # The customer's clear data key, which seals the contact's clear part.
    data_key: bytes


class Screener:
    """Turn ``contact.received`` into ``contact.screened`` and vault what it must not carry."""

    def __init__(self, store: Store, *, vault: SubjectVault, indexer: BlindIndexer) -> None:
        self._store = store
        self._vault = vault
        self._indexer = indexer

    async def screen(self, contact: Contact, *, at: datetime) -> ContactScreened:
        """Vault and mask ``contact``; idempotent per contact id."""
        (screened,) = await self.screen_many([contact], at=at)
        if isinstance(screened, BaseException):
            raise screened
        return screened

    async def screen_many(
        self, contacts: Sequence[Contact], *, at: datetime
    ) -> list[ContactScreened | Exception]:
        """Vault and mask each of ``contacts`` in order; idempotent per contact id.

        One read finds those screened before and the customers the batch's
        identifiers point at, and one write stores the new contacts; the
        customers are recognised with a few writes for all of them
        (``recognition.py``), one contact after the other, so
        two contacts of one customer find the same one. A contact that fails
        gives its exception in its place; a failing read or write fails them all.
        """
        read: dict[str, _Read] = {}
        failed: dict[str, Exception] = {}
        for contact in contacts:
            if contact.id in read or contact.id in failed:
                continue
            try:
                read[contact.id] = _read(contact, self._indexer)
            except Exception as exc:
                failed[contact.id] = exc
        done, entries = await screened_and_known(
            self._store,
            [c.id for c in contacts],
            sorted({ix for r in read.values() for ix in r.indexes()}),
        )
        for contact_id in done:
            read.pop(contact_id, None)
            failed.pop(contact_id, None)
        recognition = Recognition(self._store, vault=self._vault)
        recognition.know(entries)
        resolved: dict[str, Resolution] = {}
        for contact_id, seen in read.items():
            try:
                resolved[contact_id] = await self._resolve(seen, recognition, at=at)
            except Exception as exc:
                if transient(exc):
                    raise
                failed[contact_id] = exc
        replaced = await recognition.save(at=at)
        prepared: dict[str, tuple[ContactScreened, dict[str, Any]]] = {}
        for contact_id, resolution in resolved.items():
            seen = read[contact_id]
            winner = replaced.get(resolution.subject_ref)
            if winner is not None:  # another replica recognised the customer first
                names = _names(seen.contact, winner.identity)
                resolution = Resolution(winner.ref, resolution.flags, names, winner.key)
            try:
                prepared[contact_id] = self._prepare(seen, resolution)
            except Exception as exc:
                failed[contact_id] = exc
        stored = await insert_contacts(self._store, [doc for _, doc in prepared.values()])
        # Screened meanwhile by another delivery of the same contact: its copy stands.
        lost = [contact_id for contact_id in prepared if contact_id not in stored]
        if lost:
            done.update(await contacts_by_id(self._store, lost))
        results: list[ContactScreened | Exception] = []
        for contact in contacts:
            if contact.id in done:
                results.append(ContactScreened.model_validate(done[contact.id]["screened"]))
            elif contact.id in failed:
                results.append(failed[contact.id])
            elif contact.id in stored:
                results.append(prepared[contact.id][0])
            else:
                results.append(RuntimeError(f"contact {contact.id} was neither stored nor found"))
        return results

    def _prepare(
        self, seen: _Read, resolution: Resolution
    ) -> tuple[ContactScreened, dict[str, Any]]:
        """Mask the text and seal the clear part for the resolved customer; return what to store."""
        contact, spans = seen.contact, seen.spans
        if resolution.names != seen.given_names:
            spans = scan(seen.text, resolution.names)  # a name known from earlier contacts
        consent, source = captured(contact)
        reply_handle = f"rh_{new_id()}"
        screened = _screened(
            contact,
            masked_text=mask_text(seen.text, spans),
            resolution=resolution,
            consent=consent,
            reply_handle=reply_handle,
        )
        clear = {
            "text": contact.text,
            "subject": contact.subject,
            "identity": contact.customer.model_dump(),
            "attachments": {a.ref: {"name": a.name, "text": a.text} for a in contact.attachments},
            "reply": _reply_target(contact),
        }
        doc = {
            "_id": contact.id,
            "subject_ref": resolution.subject_ref,
            "channel": contact.channel,
            "received_at": contact.received_at,
            "consent": consent,
            "consent_source": source,
            "case_id": None,
            "reply_handle": reply_handle,
            "vault": self._vault.seal(
                clear, resolution.data_key, subject_ref=resolution.subject_ref
            ),
            "screened": screened.model_dump(mode="json"),
        }
        return screened, doc

    async def _resolve(self, seen: _Read, recognition: Recognition, *, at: datetime) -> Resolution:
        contact, stated, explicit = seen.contact, seen.stated, seen.explicit
        stated_ix = dict(seen.stated_ix)
        explicit_hits = recognition.hits(explicit)
        stated_hits = recognition.hits(stated_ix)
        flags: list[str] = []
        subject_ref: str | None = None
        if explicit_hits:
            subject_ref = next(explicit_hits[k] for k in STRENGTH if k in explicit_hits)
        elif len(set(stated_hits.values())) == 1:
            subject_ref = next(iter(stated_hits.values()))
            flags.append("matched_on_stated_identifier")
        refs = {*explicit_hits.values(), *stated_hits.values()}
        given = contact.customer.model_dump()
        if len(refs) > 1:
            # Identifiers point at different customers: keep them apart and let
            # an agent decide rather than merging identities by guess.
            flags.append("identity_conflict")
            await self._record_conflict(contact, refs, {**explicit_hits, **stated_hits}, at=at)
            if subject_ref is not None:
                held = recognition.customer(subject_ref)
                return Resolution(
                    subject_ref, tuple(flags), _names(contact, held.identity), held.key
                )
            stated_ix = {}
        fallback = {str(kind): value for kind, value in stated.items() if kind in stated_ix}
        if subject_ref is None:
            # A new customer is written once, with what this contact gave.
            customer = recognition.new(given, fallback)
        else:
            customer = recognition.customer(subject_ref)
            customer.merge(given, fallback)
        recognition.point({**stated_ix, **explicit}, customer.ref)
        name_index = self._indexer.name_index(contact.customer.name)
        if name_index:
            recognition.name(name_index, customer.ref)
        names = _names(contact, customer.identity)
        return Resolution(customer.ref, tuple(flags), names, customer.key)

    async def _record_conflict(
        self,
        contact: Contact,
        refs: set[str],
        hits: Mapping[IdentifierKind, str],
        *,
        at: datetime,
    ) -> None:
        log.warning("identity conflict", extra={"contact_id": contact.id})
        await record_conflict(
            self._store,
            contact.id,
            subject_refs=sorted(refs),
            matches=[{"kind": k, "subject_ref": r} for k, r in sorted(hits.items())],
            channel=contact.channel,
            at=at,
        )


@dataclass(frozen=True)
class _Read:
    """What screening reads off a contact before its customer is known."""

    contact: Contact
    text: str
    given_names: tuple[str, ...]
    spans: Sequence[Span]
    stated: Mapping[IdentifierKind, str]
    explicit: Mapping[IdentifierKind, str]
    stated_ix: Mapping[IdentifierKind, str]

    def indexes(self) -> set[str]:
        """Return every blind index the contact may be recognised by."""
        return {*self.explicit.values(), *self.stated_ix.values()}


def _read(contact: Contact, indexer: BlindIndexer) -> _Read:
    text = nfc(contact.text)
    given_names = (contact.customer.name,) if contact.customer.name else ()
    spans = scan(text, given_names)
    stated = stated_identifiers(text, spans)
    explicit = indexer.indexes(contact.customer)
    stated_ix = {
        kind: indexer.index(kind, value) for kind, value in stated.items() if kind not in explicit
    }
    return _Read(contact, text, given_names, spans, stated, explicit, stated_ix)


def _screened(
    contact: Contact,
    *,
    masked_text: str,
    resolution: Resolution,
    consent: Consent,
    reply_handle: str,
) -> ContactScreened:
    names = resolution.names
    flags = [*contact.flags, *resolution.flags]
    if contact.customer.national_id and not normalise_national_id(contact.customer.national_id):
        flags.append("invalid_national_id")  # kept in the vault, never matched on
    return ContactScreened(
        contact_id=contact.id,
        channel=contact.channel,
        org=contact.org,
        received_at=contact.received_at,
        subject_ref=resolution.subject_ref,
        reply_handle=reply_handle,
        consent=consent,
        language=contact.language,
        text=masked_text,
        subject=redact(contact.subject, names),
        attachments=tuple(
            ScreenedAttachment(
                **{
                    **a.model_dump(),
                    "name": redact_file_name(a.name, names),
                    "text": redact(a.text, names),
                }
            )
            for a in contact.attachments
        ),
        location=contact.location,
        thread=contact.thread,
        flags=tuple(dict.fromkeys(flags)),
        meta=redact_meta(contact.meta, names, identity=contact.customer),
    )


def _names(contact: Contact, held: Mapping[str, str | None]) -> tuple[str, ...]:
    names = [contact.customer.name, held.get("name")]
    return tuple(dict.fromkeys(n for n in names if n))


def _reply_target(contact: Contact) -> dict[str, Any]:
    reply = {k: v for k, v in contact.meta.items() if k.startswith(REPLY_META_PREFIX)}
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
