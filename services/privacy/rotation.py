"""Key rotation: re-wrap every customer's data key under the current KEK.

Only the wrapped data keys change; identity and contact ciphertext are never
touched, so rotation is quick and safe to repeat. Once it reports nothing left
under an old KEK, that KEK can be dropped from ``VOCDESK_VAULT_KEK``.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.privacy.store.subjects import data_keys, replace_data_key
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
    async for doc in data_keys(store):
        if doc.get("data_key") is None:
            erased += 1
            continue
        wrapped = WrappedKey.model_validate(doc["data_key"])
        fresh = ring.rewrap(wrapped)
        if fresh is wrapped:
            current += 1
            continue
        # An erasure or another rotation that got there first wins.
        rewrapped += await replace_data_key(
            store, doc["_id"], wrapped_as=wrapped.ciphertext, fresh=fresh.model_dump()
        )
    return RotationReport(rewrapped=rewrapped, current=current, erased=erased)
