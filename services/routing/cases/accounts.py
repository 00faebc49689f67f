"""Customer tiers: which customers are key accounts, by the ``subject_ref`` privacy gave them.

A channel may also say the tier (``customer_tier`` in the contact's metadata,
e.g. a key-account hotline or an app's business login); the admin-managed
record wins because it is the organisation's own list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.routing.cases import accounts_store
from shared.errors import Invalid
from shared.messages import ContactScreened
from shared.store import Store


async def tier_of(
    store: Store, message: ContactScreened, *, tiers: tuple[str, ...], default: str
) -> str:
    """Return the customer's tier: the recorded one, else the channel's, else ``default``."""
    recorded = None
    if message.subject_ref:
        recorded = await accounts_store.recorded_tier(store, subject_ref=message.subject_ref)
    return tier_from(recorded, message, tiers=tiers, default=default)


async def recorded_tiers(store: Store, subject_refs: Sequence[str]) -> dict[str, object]:
    """Return the tiers recorded for ``subject_refs`` (one read), by subject ref."""
    return await accounts_store.recorded_tiers(store, subject_refs=subject_refs)


def tier_from(
    recorded: object, message: ContactScreened, *, tiers: tuple[str, ...], default: str
) -> str:
    """Return the tier: ``recorded`` (as stored), else the channel's, else ``default``."""
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
