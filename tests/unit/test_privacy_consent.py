"""Consent as each channel captures it, who may change it, and the message that announces it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.privacy.consent import ConsentChange, ConsentRecord, captured, may_record, merged
from services.privacy.messages import ConsentChanged
from services.privacy.settings import PrivacySettings
from shared.messages import Envelope
from tests.support.messages import contact


@pytest.mark.parametrize(
    ("channel", "consent", "meta", "expected"),
    [
        ("app", "withheld", {}, ("withheld", "app_form")),
        ("app", "granted", {}, ("granted", "app_form")),
        ("walk_in", "granted", {}, ("granted", "walk_in_form")),
        ("email", "unknown", {}, ("unknown", "email_default")),
        ("line", "unknown", {}, ("unknown", None)),
        ("line", "unknown", {"consent_choice": "granted"}, ("granted", "line_quick_reply")),
        (
            "line",
            "unknown",
            {"postback_action": "consent", "postback_choice": "withheld"},
            ("withheld", "line_quick_reply"),
        ),
        ("phone", "unknown", {"consent_choice": "withheld"}, ("withheld", "ivr")),
        ("phone", "unknown", {"consent_choice": "maybe"}, ("unknown", None)),
        ("fax", "unknown", {}, ("unknown", None)),
    ],
)
def test_consent_is_captured_from_the_channel_that_asked(
    channel: str, consent: str, meta: dict[str, str], expected: tuple[str, str | None]
) -> None:
    assert captured(contact(channel=channel, consent=consent, meta=meta)) == expected


def test_staff_record_their_decisions_and_the_system_relays_the_customers() -> None:
    assert may_record("agent", "agent")
    assert may_record("supervisor", "customer")
    assert may_record("system", "line_quick_reply")
    assert may_record("system", "ivr")
    assert not may_record("system", "agent")
    assert not may_record("unit_member", "customer")
    assert not may_record("manager", "agent")


def test_captures_learned_late_take_their_place_in_time() -> None:
    at = contact().received_at
    agent = ConsentChange(at=at + timedelta(hours=2), state="withheld", source="agent", actor="a")
    quick_reply = ConsentChange(
        at=at + timedelta(hours=1), state="granted", source="line_quick_reply", actor="customer"
    )
    record = ConsentRecord(case_id="c1", history=(agent,))
    later = merged(record, [quick_reply])
    assert later.history == (quick_reply, agent)
    assert later.state == "withheld"  # the latest decision in time wins
    assert merged(later, [quick_reply]) == later


def test_consent_changed_is_frozen_strict_and_round_trips() -> None:
    message = ConsentChanged(case_id="c1", state="granted", at=contact().received_at)
    envelope = Envelope.of(message)
    assert envelope.routing_key == "consent.changed"
    assert Envelope.from_json(envelope.to_json()).message() == message
    with pytest.raises(ValidationError):
        ConsentChanged.model_validate({**message.model_dump(), "phone": "0812457730"})
    with pytest.raises(ValidationError):
        message.state = "withheld"  # type: ignore[misc]


def test_retention_periods_come_from_vocdesk_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOCDESK_RETENTION_CONTACT_TEXT_DAYS", "90")
    monkeypatch.setenv("VOCDESK_RETENTION_IDENTITY_DAYS", "400")
    settings = PrivacySettings()
    assert (settings.retention_contact_text_days, settings.retention_identity_days) == (90, 400)
