"""Contacts as the caller's role may see them; every reveal of identity is audited.

Agents, supervisors and the data protection officer see identity; unit members
see it only on a case whose consent is granted; every other role sees masked
text. Privacy's own consent record of a case prevails over the state a caller
passes in, since every later decision is recorded here first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from services.privacy.consent import visible_identity
from services.privacy.consent_book import ConsentBook
from services.privacy.reply_targets import ReplyTargets
from services.privacy.store.audit import append_audit
from services.privacy.store.contacts import contact_doc, contacts_by_id
from services.privacy.vault import KeyDestroyed
from services.privacy.vaulting import SubjectVault
from shared.clock import Clock
from shared.errors import Invalid, NotFound
from shared.messages import Consent
from shared.store import Store

RevealPurpose = Literal["handle_case", "notify_customer", "access_request"]


class Revealer:
    """Build role-filtered views of contacts and reply targets, auditing each reveal."""

    def __init__(
        self,
        store: Store,
        *,
        vault: SubjectVault,
        consents: ConsentBook,
        clock: Clock,
        lookup_linger_s: float = 0.0,
    ) -> None:
        self._store = store
        self._vault = vault
        self._consents = consents
        self._clock = clock
        self._reply_targets = ReplyTargets(store, vault=vault, clock=clock, linger=lookup_linger_s)

    async def case_view(
        self,
        case_id: str,
        *,
        consent: Consent,
        contact_ids: Sequence[str],
        purpose: RevealPurpose,
        reason: str,
        actor: str,
        role: str,
        customer: str | None = None,
        moved_from: str | None = None,
    ) -> dict[str, Any]:
        """Return a case's contacts as ``role`` may see them, with the consent applied."""
        record = await self._consents.link(
            case_id, contact_ids, customer=customer, moved_from=moved_from
        )
        effective: Consent = record.state if record.history else consent
        # link() has checked that privacy screened every one of them.
        found = await contacts_by_id(self._store, contact_ids)
        docs = [found[contact_id] for contact_id in dict.fromkeys(contact_ids)]
        if not visible_identity(role, "unknown"):
            # The case's consent is its customer's: anyone else on it (a neighbour
            # at the counter) stays masked for roles that see identity only by consent.
            docs_shown = [d for d in docs if d["subject_ref"] == record.customer_ref]
            masked = [_masked(d) for d in docs if d["subject_ref"] != record.customer_ref]
        else:
            docs_shown, masked = docs, []
        views, customers = await self._views(
            docs_shown,
            effective,
            case_id=case_id,
            purpose=purpose,
            reason=reason,
            actor=actor,
            role=role,
        )
        order = {d["_id"]: i for i, d in enumerate(docs)}
        views = sorted([*views, *masked], key=lambda v: order[v["id"]])
        return {
            "case_id": case_id,
            "consent": effective,
            "revealed": bool(customers),
            "customers": customers,
            "contacts": views,
        }

    async def contact_view(
        self,
        contact_id: str,
        *,
        case_id: str | None,
        purpose: RevealPurpose,
        reason: str,
        actor: str,
        role: str,
    ) -> dict[str, Any]:
        """Return one contact as ``role`` may see it, under its case's consent if known."""
        doc = await self._doc(contact_id)
        consent: Consent = doc["consent"]
        case_id = case_id or doc.get("case_id")
        if case_id:
            record = await self._consents.link(case_id, [contact_id])
            consent = record.state if record.history else consent
        views, _ = await self._views(
            [doc], consent, case_id=case_id, purpose=purpose, reason=reason, actor=actor, role=role
        )
        return {**views[0], "consent": consent}

    async def reply_target(
        self, handle: str, *, case_id: str | None, actor: str, role: str
    ) -> dict[str, Any]:
        """Return where to answer the customer; an erased customer is not found."""
        # Concurrent look-ups share one read and one audit write (reply_targets.py).
        return await self._reply_targets.resolve(handle, case_id=case_id, actor=actor, role=role)

    async def _views(
        self,
        docs: Sequence[dict[str, Any]],
        consent: Consent,
        *,
        case_id: str | None,
        purpose: RevealPurpose,
        reason: str,
        actor: str,
        role: str,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        views = [_masked(doc) for doc in docs]
        if not visible_identity(role, consent):
            return views, []
        if not reason.strip():
            raise Invalid("revealing identity must give a reason", field="reason")
        revealed: dict[str, dict[str, Any]] = {}
        for doc, view in zip(docs, views, strict=True):
            try:
                clear = await self._vault.open_contact(doc)
            except KeyDestroyed:
                continue  # erased or purged: the masked text is all that is left
            view.update(
                text=clear["text"],
                subject=clear["subject"],
                identity=clear["identity"],
                attachments=[
                    {**a, **clear["attachments"].get(a["ref"], {})} for a in view["attachments"]
                ],
                revealed=True,
                erased=False,
            )
            subject = str(doc["subject_ref"])
            if subject not in revealed:
                revealed[subject] = {
                    "subject_ref": subject,
                    "identity": await self._vault.identity(subject),
                }
        for subject in revealed:
            await self._audit(
                subject, case_id=case_id, purpose=purpose, reason=reason, actor=actor, role=role
            )
        return views, list(revealed.values())

    async def _audit(
        self,
        subject_ref: str,
        *,
        case_id: str | None,
        purpose: RevealPurpose,
        reason: str,
        actor: str,
        role: str,
    ) -> None:
        await append_audit(
            self._store,
            at=self._clock.now(),
            actor=actor,
            role=role,
            action="reveal",
            subject_ref=subject_ref,
            case_id=case_id,
            purpose=purpose,
            reason=reason,
        )

    async def _doc(self, contact_id: str) -> dict[str, Any]:
        doc = await contact_doc(self._store, contact_id)
        if doc is None:
            raise NotFound(f"no contact {contact_id}")
        return doc


def _masked(doc: dict[str, Any]) -> dict[str, Any]:
    screened = doc["screened"]
    return {
        "id": doc["_id"],
        "channel": doc["channel"],
        "received_at": doc["received_at"].isoformat(),
        "subject_ref": doc["subject_ref"],
        "text": screened["text"],
        "subject": screened.get("subject"),
        "attachments": [
            {"ref": a["ref"], "name": a["name"], "text": a.get("text")}
            for a in screened.get("attachments", [])
        ],
        "identity": None,
        "revealed": False,
        "erased": not doc.get("vault"),
    }
