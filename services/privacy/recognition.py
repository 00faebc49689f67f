"""Recognising the customers of a batch of contacts: a few reads and writes for all of them.

The blind-index entries of every identifier in the batch are read with the
subjects they point at, in the same command as the contacts screened before
(``store/contacts.py`` ``screened_and_known``). Contacts are then resolved
one after the other against that picture, which each resolution updates (a
new customer, an identifier learnt, an identity merged), so two contacts of
one customer in a batch find the same one, as they would one by one. Then
the batch writes: the new customers with one insert, their blind-index
entries with one unordered insert, the identities of the customers it met
again with one bulk update, the name indexes with one insert.

A blind-index entry another writer stored first (a duplicate, code 11000) is
a race with another replica on a new customer: the winner's customer is used,
what the contacts gave is merged into it, the entries this batch did store
for its own draft are pointed at the winner and the draft is deleted, so the
race ends with one customer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.privacy.identifiers import IdentifierKind
from services.privacy.store.subjects import (
    add_index_entries,
    add_name_indexes,
    repoint_indexes,
    subjects_for,
)
from services.privacy.vaulting import SubjectVault
from shared.store import Store

# Which identifier decides when several customers match: the most specific first.
STRENGTH: tuple[IdentifierKind, ...] = (
    "national_id",
    "phone",
    "email",
    "line_user_id",
    "app_user_id",
)
Fields = dict[str, str | None]


@dataclass
class Customer:
    """A customer as the batch knows it: data key, identity in clear, what it gave meanwhile."""

    ref: str
    key: bytes
    identity: Fields
    # Set for a customer the batch creates: its data key wrapped, to store.
    wrapped: dict[str, Any] | None = None
    touched: bool = False
    # What each contact gave (given, fallback), in order: replayed onto a race's winner.
    merges: list[tuple[Mapping[str, str | None], Mapping[str, str]]] = field(default_factory=list)

    def merge(self, given: Mapping[str, str | None], fallback: Mapping[str, str]) -> None:
        """Add what a contact gave; ``fallback`` only fills gaps."""
        merged: Fields = {**fallback, **self.identity}
        merged.update({k: v for k, v in given.items() if v})
        self.identity = merged
        self.touched = True
        self.merges.append((given, fallback))


class Recognition:
    """The customers of one batch: what the store held at its start and what the batch adds."""

    def __init__(self, store: Store, *, vault: SubjectVault) -> None:
        self._store = store
        self._vault = vault
        self._book: dict[str, str] = {}  # blind index -> subject ref
        self._held: dict[str, dict[str, Any]] = {}  # living subjects read, by ref
        self._customers: dict[str, Customer] = {}
        self._entries: list[dict[str, str]] = []  # blind-index entries to store
        self._names: list[tuple[str, str]] = []  # (name index, subject ref) to store

    def know(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Start from the blind-index entries read, each with its ``subject`` document."""
        self._book = {str(e["_id"]): str(e["subject_ref"]) for e in entries}
        # An erased customer's indexes are deleted; checking the key as well
        # covers an erasure that happens while this batch is screened.
        self._held = {
            str(e["subject_ref"]): e["subject"]
            for e in entries
            if e.get("subject") and e["subject"].get("data_key")
        }

    def hits(self, indexes: Mapping[IdentifierKind, str]) -> dict[IdentifierKind, str]:
        """Return, per kind, the living customer an index of that kind points at."""
        pointed = {kind: self._book[v] for kind, v in indexes.items() if v in self._book}
        return {
            kind: ref
            for kind, ref in pointed.items()
            if ref in self._customers or ref in self._held
        }

    def customer(self, subject_ref: str) -> Customer:
        """Return a living customer the batch met (opened once); raise ``KeyDestroyed``."""
        known = self._customers.get(subject_ref)
        if known is None:
            identity, key = self._vault.opened(self._held[subject_ref])
            known = self._customers[subject_ref] = Customer(subject_ref, key, identity)
        return known

    def new(self, given: Mapping[str, str | None], fallback: Mapping[str, str]) -> Customer:
        """Draft a customer holding what a contact gave; it is created by ``save``."""
        ref, wrapped, key = self._vault.draft()
        customer = self._customers[ref] = Customer(ref, key, {}, wrapped=wrapped)
        customer.merge(given, fallback)
        return customer

    def point(self, indexes: Mapping[IdentifierKind, str], subject_ref: str) -> None:
        """Point each blind index at ``subject_ref`` unless it already points somewhere."""
        for kind, value in indexes.items():
            if value not in self._book:
                self._book[value] = subject_ref
                self._entries.append({"_id": value, "subject_ref": subject_ref, "kind": kind})

    def name(self, index: str, subject_ref: str) -> None:
        """Record that the customer ``subject_ref`` gave a name with ``index``."""
        self._names.append((index, subject_ref))

    async def save(self, *, at: datetime) -> dict[str, Customer]:
        """Write what the batch learnt; return the customers a race replaced, by draft ref."""
        drafts = [
            (c.ref, c.wrapped, c.key, c.identity)
            for c in self._customers.values()
            if c.wrapped is not None
        ]
        await self._vault.create(drafts, at=at)
        lost = await add_index_entries(self._store, self._entries)
        replaced = await self._settle(lost) if lost else {}
        met = {
            ref: (c.identity, c.key)
            for ref, c in self._customers.items()
            if c.wrapped is None and c.touched
        }
        await self._vault.store_identities(met, at=at)
        names = [
            (index, replaced[ref].ref if ref in replaced else ref) for index, ref in self._names
        ]
        await add_name_indexes(self._store, names)
        return replaced

    async def _settle(self, lost: set[str]) -> dict[str, Customer]:
        """Use the winners of the indexes another writer stored first for the batch's drafts."""
        drafts = {
            e["subject_ref"]
            for e in self._entries
            if e["_id"] in lost and self._customers[e["subject_ref"]].wrapped is not None
        }
        if not drafts:
            # An identifier new to a known customer went elsewhere meanwhile: left so.
            return {}
        winners = {
            str(e["_id"]): str(e["subject_ref"])
            for e in await subjects_for(self._store, list(lost))
        }
        docs = await self._vault.subjects(set(winners.values()) - set(self._customers))
        self._held.update({ref: doc for ref, doc in docs.items() if doc.get("data_key")})
        replaced: dict[str, Customer] = {}
        for draft_ref in sorted(drafts):
            draft = self._customers[draft_ref]
            mine = [e for e in self._entries if e["subject_ref"] == draft_ref]
            taken = sorted(
                (STRENGTH.index(e["kind"]), winners[e["_id"]])
                for e in mine
                if e["_id"] in winners and e["_id"] in lost
            )
            living = [ref for _, ref in taken if ref in self._held or ref in self._customers]
            if not living:
                continue  # the winner was erased meanwhile: the draft stays the customer
            winner = self.customer(living[0])
            for given, fallback in draft.merges:
                winner.merge(given, fallback)
            replaced[draft_ref] = winner
            stored = [e["_id"] for e in mine if e["_id"] not in lost]
            await repoint_indexes(self._store, stored, old=draft_ref, new=winner.ref)
        await self._vault.discard(sorted(replaced))
        return replaced
