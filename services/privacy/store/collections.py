"""Privacy's collections and their indexes."""

from __future__ import annotations

from pymongo import IndexModel

from shared.store import IndexPlan

SUBJECTS = "subjects"
BLIND = "blind_index"
# Customers by the index of their name: many customers per name, looked up only.
NAMES = "name_index"
CONTACTS = "contacts"
CONSENTS = "consents"
CONFLICTS = "identity_conflicts"
AUDIT = "audit"
# One document: the seq and hash of the newest audit entry.
AUDIT_HEAD = "audit_head"
STAFF_TEXTS = "staff_texts"

INDEXES: IndexPlan = {
    SUBJECTS: [IndexModel("updated_at")],
    BLIND: [IndexModel("subject_ref")],
    NAMES: [IndexModel("index"), IndexModel("subject_ref")],
    CONTACTS: [
        IndexModel("subject_ref"),
        IndexModel("reply_handle", unique=True, sparse=True),
        IndexModel("received_at"),
        IndexModel("case_id"),
    ],
    # The relay looks for records with messages still to publish.
    CONSENTS: [IndexModel("subject_refs"), IndexModel("pending")],
    CONFLICTS: [IndexModel("subject_refs")],
    AUDIT: [
        IndexModel("seq", unique=True),
        IndexModel("subject_ref"),
        IndexModel("case_id"),
    ],
}
