"""Customer tiers: which customers are key accounts, by the ``subject_ref`` privacy gave them.

A channel may also say the tier (``customer_tier`` in the contact's metadata,
e.g. a key-account hotline or an app's business login); the admin-managed
record wins because it is the organisation's own list.
"""

from __future__ import annotations

from datetime import datetime

from services.routing.cases import accounts_store
from shared.errors import Invalid
from shared.messages import ContactScreened
from shared.store import Store


async def tier_of(
    store: Store, message: ContactScreened, *, tiers: tuple[str, ...], default: str
) -> str:
    """Return the customer's tier: the recorded one, else the channel's, else ``default``."""
    if message.subject_ref:
        recorded = await accounts_store.recorded_tier(store, subject_ref=message.subject_ref)
        if recorded in tiers:
            return str(recorded)
    said = message.meta.get("customer_tier")
    return str(said) if said in tiers else default


async def set_tier(
    store: Store, subject_ref: str, tier: str, *, tiers: tuple[str, ...], by: str, at: datetime
) -> None:
    """Record ``subject_ref``'s tier (one of the organisation's ``tiers``)."""
    if tier not in tiers:
        raise Invalid(f"unknown tier {tier!r}; one of {', '.join(tiers)}", field="tier")
    await accounts_store.put_tier(store, subject_ref=subject_ref, tier=tier, by=by, at=at)
