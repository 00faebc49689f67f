"""Which captures decide a case's consent: the opener's, then only the customer's own acts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.privacy.consent import ConsentRecord, case_captures, merged

START = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def doc(contact_id: str, subject: str, state: str, source: str, hours: int) -> dict[str, Any]:
    """Return a screened contact as privacy stores it (without its vault)."""
    return {
        "_id": contact_id,
        "subject_ref": subject,
        "consent": state,
        "consent_source": source,
        "received_at": START + timedelta(hours=hours),
    }


def state_after(docs: list[dict[str, Any]], *, customer: str, opener: str) -> str:
    """Return the case's consent once these contacts' captures are merged."""
    changes = case_captures(docs, customer=customer, opener=opener)
    return merged(ConsentRecord(case_id="c1"), changes).state


def test_later_forms_emails_and_calls_never_flip_the_openers_decision() -> None:
    docs = [
        doc("c-open", "sub_owner", "withheld", "app_form", 0),
        doc("c-walk", "sub_owner", "granted", "walk_in_form", 1),
        doc("c-mail", "sub_owner", "unknown", "email_default", 2),
        doc("c-ivr", "sub_owner", "granted", "ivr", 3),
    ]

    assert state_after(docs, customer="sub_owner", opener="c-open") == "withheld"


def test_the_customers_own_line_answer_or_app_form_decides_later() -> None:
    line = [
        doc("c-open", "sub_owner", "withheld", "walk_in_form", 0),
        doc("c-line", "sub_owner", "granted", "line_quick_reply", 1),
    ]
    app = [
        doc("c-open", "sub_owner", "granted", "app_form", 0),
        doc("c-app", "sub_owner", "withheld", "app_form", 1),
    ]

    assert state_after(line, customer="sub_owner", opener="c-open") == "granted"
    assert state_after(app, customer="sub_owner", opener="c-open") == "withheld"


def test_nothing_from_another_subject_counts_even_a_verified_answer() -> None:
    docs = [
        doc("c-open", "sub_owner", "withheld", "app_form", 0),
        doc("c-x", "sub_stranger", "granted", "line_quick_reply", 1),
        doc("c-y", "sub_stranger", "granted", "app_form", 2),
    ]

    assert state_after(docs, customer="sub_owner", opener="c-open") == "withheld"
