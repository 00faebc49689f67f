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


def subscriptions(
    runtime: Runtime, *, contacts: ContactRouter, consent: ConsentKeeper
) -> list[Subscription]:
    """Return routing's consumers: screened contacts, then consent changes."""
    return [
        Subscription(
            queue="routing.contacts",
            handler=contacts.on_contact_screened,
            inbox=runtime.inbox(),
        ),
        Subscription(
            queue="routing.consent",
            handler=consent.on_consent_changed,
            inbox=runtime.inbox(),
        ),
    ]
