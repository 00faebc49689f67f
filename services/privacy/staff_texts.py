"""Staff's words to a customer (replies, resolution summaries, questions), vaulted like contacts.

Staff text quotes the customer (their name, their phone): privacy masks it
with the customer's known names, seals the clear text under the customer's
data key (or, with no customer known, under a key of its own wrapped by the
key ring) and hands back the masked text and a reference. Routing, the bus
and anyone without clearance only ever hold the masked text; the clear text
is revealed under the same role and consent rule as contact text, and to
notify when it sends it. Erasing the customer destroys their key, so their
staff texts cannot be opened again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from services.privacy.consent import visible_identity
from services.privacy.consent_book import ConsentBook
from services.privacy.masking import mask
from services.privacy.reveal import RevealPurpose
from services.privacy.store.audit import append_audit
from services.privacy.store.staff_texts import insert_staff_text, staff_texts_of
from services.privacy.vault import KeyDestroyed, decrypt_identity, encrypt_identity
from services.privacy.vaulting import SubjectVault
from shared.clock import Clock
from shared.errors import Forbidden, Invalid, NotFound
from shared.ids import new_id
from shared.messages import Consent
from shared.store import Store

StaffTextKind = Literal["reply", "resolution", "question", "note"]


class StaffTexts:
    """Mask and seal staff text; reveal it to callers with clearance, audited."""

    def __init__(
        self, store: Store, *, vault: SubjectVault, consents: ConsentBook, clock: Clock
    ) -> None:
        self._store = store
        self._vault = vault
        self._consents = consents
        self._clock = clock

    async def vault_text(
        self, *, case_id: str, subject_ref: str | None, kind: StaffTextKind, text: str, actor: str
    ) -> dict[str, str]:
        """Store ``text`` sealed; return its reference and masked copy."""
        ref = f"stx_{new_id()}"
        names: list[str] = []
        if subject_ref:
            try:
                key = await self._vault.data_key(subject_ref)
                name = (await self._vault.identity(subject_ref)).get("name")
                names = [name] if name else []
                wrapped = None
            except (NotFound, KeyDestroyed):
                subject_ref = None  # unknown or erased: sealed under a key of its own
        if not subject_ref:
            wrapped, key = self._vault.service_key()
        masked = mask(text, names)
        await insert_staff_text(
            self._store,
            {
                "_id": ref,
                "case_id": case_id,
                "subject_ref": subject_ref,
                "kind": kind,
                "masked": masked,
                "sealed": encrypt_identity({"text": json.dumps(text)}, key, aad=ref.encode()),
                "key": wrapped,
                "by": actor,
                "created_at": self._clock.now(),
            },
        )
        return {"text_ref": ref, "masked": masked}

    async def reveal(
        self,
        refs: Sequence[str],
        *,
        case_id: str,
        consent: Consent,
        purpose: RevealPurpose,
        reason: str,
        actor: str,
        role: str,
    ) -> dict[str, dict[str, Any]]:
        """Return each text of the case clear if ``role`` may see it, masked otherwise."""
        if role == "notify":
            if purpose != "notify_customer":
                raise Forbidden("notify opens staff text only to send it to the customer")
            cleared = True
        else:
            record = await self._consents.get(case_id)
            effective: Consent = record.state if record and record.history else consent
            cleared = visible_identity(role, effective)
        if cleared and not reason.strip():
            raise Invalid("revealing staff text must give a reason", field="reason")
        docs = await staff_texts_of(self._store, refs, case_id=case_id)
        out: dict[str, dict[str, Any]] = {}
        subjects: set[str | None] = set()
        for doc in docs:
            view: dict[str, Any] = {"text": doc["masked"], "revealed": False, "erased": False}
            if cleared:
                try:
                    view.update(text=await self._open(doc), revealed=True)
                    subjects.add(doc.get("subject_ref"))
                except KeyDestroyed:
                    view["erased"] = True
            out[doc["_id"]] = view
        for subject in subjects:
            await append_audit(
                self._store,
                at=self._clock.now(),
                actor=actor,
                role=role,
                action="reveal",
                subject_ref=subject,
                case_id=case_id,
                purpose=purpose,
                reason=reason,
            )
        return out

    async def _open(self, doc: dict[str, Any]) -> str:
        if doc.get("subject_ref"):
            key = await self._vault.data_key(str(doc["subject_ref"]))
        else:
            key = self._vault.open_key(doc["key"])
        flat = decrypt_identity(doc["sealed"], key, aad=str(doc["_id"]).encode())
        return str(json.loads(flat["text"] or '""'))
