"""Routing's bus consumers: which queue feeds which use case.

- ``routing.contacts`` (``contact.screened``): ``cases/contacts.py`` threads the
  contact into a case, or classifies, routes and opens one;
- ``routing.consent`` (``consent.changed``): ``cases/consent.py`` keeps the
  case's consent current.

Each handler checks the message it was given and says the delivery's outcome
through ``shared/errors.py`` (``Poison``, ``Retry``); the inbox makes a
redelivery change nothing.
"""

from __future__ import annotations

from services.routing.cases.consent import ConsentKeeper
from services.routing.cases.contacts import ContactRouter
from shared.bus import Subscription
from shared.runtime import Runtime

# Screened contacts routed per batch and how long a batch waits to fill: their
# cases, their customers' cases and tiers and who is offline are read once per
# batch, and 20 ms is little beside a contact's way to its case. Twice the
# batch is prefetched, so the next batch fills while one is routed.
BATCH_SIZE = 32
BATCH_WAIT_S = 0.02


def subscriptions(
    runtime: Runtime, *, contacts: ContactRouter, consent: ConsentKeeper
) -> list[Subscription]:
    """Return routing's consumers: screened contacts, then consent changes."""
    return [
        Subscription(
            queue="routing.contacts",
            handler=contacts.on_contact_screened,
            inbox=runtime.inbox(),
            batch_handler=contacts.on_contacts_screened,
            batch_size=BATCH_SIZE,
            max_wait=BATCH_WAIT_S,
            prefetch=2 * BATCH_SIZE,
        ),
        Subscription(
            queue="routing.consent",
            handler=consent.on_consent_changed,
            inbox=runtime.inbox(),
        ),
    ]
