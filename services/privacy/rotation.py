"""Key rotation: re-wrap every customer's data key under the current KEK.

Only the wrapped data keys change; identity and contact ciphertext are never
touched, so rotation is quick and safe to repeat. Once it reports nothing left
under an old KEK, that KEK can be dropped from ``VOCDESK_VAULT_KEK``.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.privacy import store as pstore
from services.privacy.vault import KeyRing, WrappedKey
from shared.store import Store


@dataclass(frozen=True)
class RotationReport:
    """How many data keys were re-wrapped, already current, or destroyed by erasure."""

    rewrapped: int = 0
    current: int = 0
    erased: int = 0


async def rotate_keys(store: Store, ring: KeyRing) -> RotationReport:
    """Re-wrap every data key not yet under ``ring``'s current KEK."""
    rewrapped = current = erased = 0
    subjects = store[pstore.SUBJECTS]
    async for doc in subjects.find({}, {"data_key": 1}):
        if doc.get("data_key") is None:
            erased += 1
            continue
        wrapped = WrappedKey.model_validate(doc["data_key"])
        fresh = ring.rewrap(wrapped)
        if fresh is wrapped:
            current += 1
            continue
        # Conditional on the old wrapping: an erasure or another rotation that
        # got there first wins, and this one leaves the document alone.
        result = await subjects.update_one(
            {"_id": doc["_id"], "data_key.ciphertext": wrapped.ciphertext},
            {"$set": {"data_key": fresh.model_dump()}},
        )
        rewrapped += result.modified_count
    return RotationReport(rewrapped=rewrapped, current=current, erased=erased)
