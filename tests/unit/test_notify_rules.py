"""Notify's rules without I/O: which event says what, where a customer is reached, survey links."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from services.notify.channels import ServiceAccountTokens, email_adapter
from services.notify.directory import OrgDirectory
from services.notify.domain import (
    ReplyTarget,
    candidate_addresses,
    intent_for,
    mobile_number,
    reachability_change,
    retry_at,
    scrub,
    template_context,
)
from services.notify.messages import NotificationFailed
from services.notify.retry import backoff_delay
from services.notify.survey import LinkExpired, SurveySigner
from shared.clock import FrozenClock
from shared.errors import ConfigError, Forbidden
from shared.messages import CaseEvent, CaseSnapshot, Envelope, ReplyRequested

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def event(type_: str, **detail: object) -> Envelope:
    case = CaseSnapshot(
        id="c1",
        number="VOC-2026-000001",
        org="pea",
        status="routed",
        unit="pea-netops",
        channel="line",
        subject_ref="sub_1",
        reply_handle="rh_1",
        language="en",
    )
    return Envelope.of(CaseEvent(type=type_, seq=2, at=NOW, case=case, detail=detail))


@pytest.mark.parametrize(
    ("type_", "kind"),
    [
        ("case.opened", "acknowledged"),
        ("case.routed", "routed"),
        ("case.transferred", "routed"),
        ("case.info_requested", "info_requested"),
        ("case.resolved", "resolved"),
        ("case.reopened", "reopened"),
        ("case.acknowledged", None),
        ("case.sla.breached", None),
        ("case.closed", None),
    ],
)
def test_each_case_event_tells_the_customer_what_it_should(type_: str, kind: str | None) -> None:
    intent = intent_for(event(type_))
    assert (intent.kind if intent else None) == kind


def test_resolution_and_question_carry_their_detail_and_the_case_language() -> None:
    resolved = intent_for(event("case.resolved", summary="ซ่อมแล้ว", internal_note="x"))
    asked = intent_for(event("case.info_requested"))
    assert resolved is not None
    assert asked is not None
    assert (resolved.context, resolved.language) == ({"summary": "ซ่อมแล้ว"}, "en")
    assert asked.context == {"question": ""}  # the template still renders


def test_agent_reply_becomes_a_reply_notification() -> None:
    reply = ReplyRequested(
        request_id="r1",
        case_id="c1",
        case_number="VOC-1",
        text="สวัสดีค่ะ",
        author="a",
        reply_handle="rh",
    )
    intent = intent_for(Envelope.of(reply))
    assert intent is not None
    assert (intent.kind, intent.context, intent.reply_handle) == (
        "reply",
        {"reply_text": "สวัสดีค่ะ"},
        "rh",
    )


def test_unfollow_and_follow_flags_change_line_reachability() -> None:
    assert reachability_change(event("case.contact_added", flags=["unfollow"])) == ("sub_1", False)
    assert reachability_change(event("case.contact_added", flags=["follow"])) == ("sub_1", True)
    assert reachability_change(event("case.contact_added", flags=["sticker"])) is None


def test_triage_desk_is_a_silent_unit_and_unit_names_come_from_the_org() -> None:
    directory = OrgDirectory()
    assert directory.unit_kind("pea", "pea-triage") == "triage"
    facts = directory.facts("pea", "pea-netops")
    assert facts["hotline"] == "1129"
    assert facts["unit_name"]
    assert OrgDirectory(Path("/nonexistent")).facts("pea", "x") == {
        "name": None,
        "hotline": None,
        "unit_name": None,
    }


def target(**fields: object) -> ReplyTarget:
    return ReplyTarget.model_validate({"channel": "line", "subject_ref": "sub_1", **fields})


def test_line_customer_is_reached_on_line_first_and_an_agent_last() -> None:
    found = candidate_addresses(
        target(
            line_user_id="Uabc",
            reply_token="rt",
            reply_token_expires_at=NOW,
            phone="0812457730",
            email="a@example.com",
            unknown_future_field=1,
        ),
        reply_token_usable=True,
    )
    assert [a.channel for a in found] == ["line", "sms", "email", "callback"]
    assert found[0].reply_token == "rt"  # type: ignore[union-attr]
    assert found[2].in_reply_to is None  # type: ignore[union-attr]  # not the channel they wrote on


def test_email_customer_is_answered_in_their_thread() -> None:
    (mail, _) = candidate_addresses(
        target(channel="email", email="a@example.com", message_id="<m1@x>", references=["<m0@x>"]),
        reply_token_usable=False,
    )
    assert (mail.channel, mail.in_reply_to, mail.references) == ("email", "<m1@x>", ("<m0@x>",))  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("phone", "e164"),
    [
        ("081-245-7730", "+66812457730"),
        ("๐๘๑๒๔๕๗๗๓๐", "+66812457730"),
        ("+66 92 345 6789", "+66923456789"),
        ("053491228", None),  # Chiang Mai landline
        ("1129", None),
        (None, None),
    ],
)
def test_only_mobile_numbers_get_sms(phone: str | None, e164: str | None) -> None:
    assert mobile_number(phone) == e164


def test_customer_name_goes_into_email_only() -> None:
    intent = intent_for(event("case.opened"))
    assert intent is not None
    org = {"name": "กฟภ.", "hotline": "1129", "unit_name": None}
    email = template_context(intent, "email", org=org, customer_name="สมชาย", survey_url=None)
    line = template_context(intent, "line", org=org, customer_name="สมชาย", survey_url=None)
    assert email["customer_name"] == "สมชาย"
    assert "customer_name" not in line


def test_scrub_removes_every_known_personal_value() -> None:
    answer = "550 <somchai@mail.example> unknown; user Uabc123"
    assert (
        scrub(answer, ["somchai@mail.example", "Uabc123"])
        == "550 <[masked]> unknown; user [masked]"
    )


def test_retry_waits_at_least_what_the_provider_asks_and_never_past_the_deadline() -> None:
    deadline = NOW + timedelta(seconds=60)
    assert retry_at(NOW, 1.0, deadline=deadline, retry_after=None) == NOW + timedelta(seconds=1)
    assert retry_at(NOW, 1.0, deadline=deadline, retry_after=30) == NOW + timedelta(seconds=30)
    assert retry_at(NOW, 90.0, deadline=deadline, retry_after=None) is None
    assert [backoff_delay(n, 2.0, jitter=False) for n in range(4)] == [2, 4, 8, 16]
    assert backoff_delay(100, 2.0, max_delay=300, jitter=False) == 300


SURVEY_KEY = "survey-test-key"


def signer(clock: FrozenClock, secret: str = SURVEY_KEY) -> SurveySigner:
    return SurveySigner(secret, ttl=timedelta(days=14), clock=clock)


def test_survey_token_round_trips_and_refuses_tampering_and_age() -> None:
    clock = FrozenClock(NOW)
    token = signer(clock).issue(
        case_id="01JD00000000000000000000AB",
        case_number="VOC-2026-000123",
        channel="sms",
        language="en",
    )
    ticket = signer(clock).verify(token)
    assert (ticket.case_id, ticket.case_number, ticket.channel, ticket.language) == (
        "01JD00000000000000000000AB",
        "VOC-2026-000123",
        "sms",
        "en",
    )
    assert len(token) < 90  # leaves room for words in a Thai SMS
    for forged in (
        token.replace("VOC-2026-000123", "VOC-2026-000124"),
        token.replace(".sen.", ".een."),
        token[:-1] + ("A" if token[-1] != "A" else "B"),
    ):
        with pytest.raises(Forbidden):
            signer(clock).verify(forged)
    with pytest.raises(Forbidden):
        signer(clock, secret="other").verify(token)
    clock.advance(timedelta(days=14))
    with pytest.raises(LinkExpired) as expired:
        signer(clock).verify(token)
    assert expired.value.language == "en"


def test_failure_report_is_a_closed_contract() -> None:
    fields = {
        "notification_id": "n-1",
        "event_id": "e1",
        "case_id": "c1",
        "case_number": "VOC-1",
        "kind": "reply",
        "attempts": 1,
        "reason": "x",
        "gave_up_at": NOW,
    }
    report = NotificationFailed.model_validate(fields)
    assert Envelope.of(report).routing_key == "notification.failed"
    with pytest.raises(ValidationError):
        NotificationFailed.model_validate({**fields, "email": "a@example.com"})


def test_smtp_url_gives_host_port_and_credentials() -> None:
    adapter = email_adapter(
        "smtp://relay%40pea:p%40ss@mail.pea.example:587", "care@pea.example", timeout=5
    )
    assert (adapter._host, adapter._port, adapter._username, adapter._password) == (
        "mail.pea.example",
        587,
        "relay@pea",
        "p@ss",
    )
    with pytest.raises(ConfigError):
        email_adapter("http://mail.pea.example", "care@pea.example", timeout=5)


async def test_fcm_service_account_token_is_fetched_once_and_reused(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    credentials = tmp_path / "sa.json"
    credentials.write_text(
        json.dumps(
            {
                "client_email": "push@pea.iam.example",
                "private_key": pem,
                "token_uri": "https://oauth.test/token",
            }
        )
    )
    grants: list[dict[str, object]] = []

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        claims = jwt.decode(
            form["assertion"],
            key.public_key(),
            algorithms=["RS256"],
            audience="https://oauth.test/token",
        )
        grants.append(claims)
        return httpx.Response(200, json={"access_token": "ya29.fresh", "expires_in": 3600})

    async with httpx.AsyncClient(transport=httpx.MockTransport(token_endpoint)) as http:
        tokens = ServiceAccountTokens(credentials, http)
        assert [await tokens(), await tokens()] == ["ya29.fresh", "ya29.fresh"]
    assert len(grants) == 1
    assert grants[0]["iss"] == "push@pea.iam.example"
    assert grants[0]["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
