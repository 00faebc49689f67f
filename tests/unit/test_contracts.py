"""Message contracts are frozen, versioned and refuse what they do not know."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.errors import ConfigError
from shared.messages import CaseEvent, Envelope
from shared.settings import Settings
from tests.support.messages import contact, received, screened_message


def test_envelope_round_trips_through_json_into_the_typed_message() -> None:
    envelope = received()
    back = Envelope.from_json(envelope.to_json())
    assert back == envelope
    assert back.message() == envelope.message()


def test_messages_are_frozen() -> None:
    message = screened_message()
    with pytest.raises(ValidationError):
        message.text = "changed"  # type: ignore[misc]


def test_unknown_fields_are_refused() -> None:
    data = screened_message().model_dump(mode="json")
    data["phone"] = "0812457730"
    with pytest.raises(ValidationError):
        type(screened_message()).model_validate(data)


def test_screened_contact_has_no_identity_field() -> None:
    fields = set(type(screened_message()).model_fields)
    assert not fields & {"customer", "name", "phone", "email", "national_id"}


def test_routed_case_event_is_published_under_its_unit() -> None:
    event = CaseEvent.model_validate(
        {
            "type": "case.routed",
            "seq": 2,
            "at": contact().received_at,
            "case": {
                "id": "c1",
                "number": "VOC-2026-000001",
                "org": "pea",
                "status": "routed",
                "unit": "pea-triage",
                "channel": "app",
            },
        }
    )
    assert event.routing_key() == "case.routed.pea-triage"


def test_production_refuses_placeholder_secrets() -> None:
    with pytest.raises((ConfigError, ValidationError), match="VOCDESK_SECRET_KEY"):
        Settings(env="production")


def test_production_starts_with_real_secrets() -> None:
    secrets = {
        name: "s3cret-" + name
        for name in (
            "secret_key",
            "service_token",
            "acting_key",
            "vault_kek",
            "blind_index_key",
            "line_channel_secret",
            "line_channel_token",
            "fax_hmac_secret",
        )
    }
    assert Settings(env="production", **secrets).env == "production"  # type: ignore[arg-type]


def test_comma_separated_app_keys_are_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOCDESK_APP_API_KEYS", "key-one, key-two")
    assert Settings().app_api_keys == ["key-one", "key-two"]


def test_every_message_on_the_bus_decodes_with_the_shared_package_alone() -> None:
    # A consumer such as the console imports no other service: the contracts
    # of every message bound to its queues must come with `shared.messages`.
    import subprocess
    import sys

    code = (
        "import shared.messages, shared.messages.base as b\n"
        "import sys\n"
        "assert not any(m.startswith('services') for m in sys.modules), 'imports a service'\n"
        "for t in ('notification.failed', 'notification.callback_requested',"
        " 'consent.changed', 'contact.screened', 'reply.requested'):\n"
        "    assert b.knows_type(t), t\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
