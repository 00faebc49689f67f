"""Privacy's collections, one module per feature; the only place privacy reaches MongoDB.

- ``collections``: the collection names and ``INDEXES``;
- ``audit``: the hash-chained audit log;
- ``subjects``: customers' subject documents (data keys, sealed identity) and blind indexes;
- ``contacts``: screened contacts and identity conflicts;
- ``consent``: each case's consent record and its outbox, behind ``ConsentRepository``;
- ``staff_texts``: staff's sealed words to customers;
- ``retention``: what the retention rules look for.
"""

from services.privacy.store.audit import append_audit, audit_entries
from services.privacy.store.collections import (
    AUDIT,
    AUDIT_HEAD,
    BLIND,
    CONFLICTS,
    CONSENTS,
    CONTACTS,
    INDEXES,
    NAMES,
    STAFF_TEXTS,
    SUBJECTS,
)
from services.privacy.store.consent import (
    ConsentRepository,
    HeldConsent,
    MongoConsents,
    PendingConsent,
)
from services.privacy.store.subjects import (
    subjects_for,
    subjects_named,
)

__all__ = [
    "AUDIT",
    "AUDIT_HEAD",
    "BLIND",
    "CONFLICTS",
    "CONSENTS",
    "CONTACTS",
    "INDEXES",
    "NAMES",
    "STAFF_TEXTS",
    "SUBJECTS",
    "ConsentRepository",
    "HeldConsent",
    "MongoConsents",
    "PendingConsent",
    "append_audit",
    "audit_entries",
    "subjects_for",
    "subjects_named",
]
