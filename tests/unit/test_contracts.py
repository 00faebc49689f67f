"""Message contracts are frozen, versioned and refuse what they do not know."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services import cli
from shared.errors import ConfigError
from shared.messages import CaseEvent, Envelope
from shared.settings import SERVICE_SECRETS, Settings
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
    with pytest.raises(ConfigError, match="VOCDESK_SECRET_KEY"):
        Settings(env="production").refuse_placeholders()


def test_production_starts_with_real_secrets() -> None:
    secrets = {name: "s3cret-" + name for names in SERVICE_SECRETS.values() for name in names}
    settings = Settings(env="production", **secrets)  # type: ignore[arg-type]
    settings.refuse_placeholders()
    assert settings.env == "production"


def test_each_service_in_production_needs_its_own_secrets_only() -> None:
    # Privacy alone holds the vault keys; routing runs without them or any channel secret.
    privacy_only = {n: "s3cret-" + n for n in SERVICE_SECRETS["privacy"]}
    settings = Settings(env="production", **privacy_only)  # type: ignore[arg-type]
    settings.refuse_placeholders(["privacy"])
    settings.refuse_placeholders(["routing"])
    with pytest.raises(ConfigError) as refused:
        settings.refuse_placeholders(["intake"])
    assert "VOCDESK_FAX_HMAC_SECRET" in str(refused.value)
    assert "VOCDESK_VAULT_KEK" not in str(refused.value)
    with pytest.raises(ConfigError, match="VOCDESK_LINE_CHANNEL_TOKEN"):
        settings.refuse_placeholders(["notify"])
    routing_only = {n: "s3cret-" + n for n in SERVICE_SECRETS["routing"]}
    with pytest.raises(ConfigError, match="VOCDESK_VAULT_KEK"):
        Settings(env="production", **routing_only).refuse_placeholders(["privacy"])  # type: ignore[arg-type]


def test_the_command_line_checks_the_secrets_of_what_it_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOCDESK_ENV", "production")
    monkeypatch.setenv("VOCDESK_DATA_DIR", str(tmp_path))
    for name in SERVICE_SECRETS["routing"]:
        monkeypatch.setenv(f"VOCDESK_{name.upper()}", "s3cret-" + name)
    assert cli.main(["run", "privacy"]) == 2
    said = capsys.readouterr().err
    assert "VOCDESK_VAULT_KEK" in said
    assert "VOCDESK_SECRET_KEY" not in said  # the console's, not privacy's


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
