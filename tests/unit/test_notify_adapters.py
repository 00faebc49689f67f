"""Notify's channel adapters against real local servers, plus retry and templates."""

from __future__ import annotations

import random
import unicodedata
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from services.notify.adapters import (
    AppAddress,
    CallbackAddress,
    CallbackTaskAdapter,
    DeliveryResult,
    EmailAdapter,
    EmailAddress,
    FcmAdapter,
    LineAdapter,
    LineAddress,
    OutboundMessage,
    SmsAdapter,
    SmsAddress,
    fit_sms,
    notification_id_for,
    sms_segments,
)
from services.notify.retry import backoff_delays, send_with_retry
from services.notify.templates import csat_options, default_templates, render
from shared.clock import FrozenClock
from shared.errors import Invalid
from tests.support.notify_fakes import LINE_TOKEN, FakeLine, MailSink, serving, smtp_server

CASE = "VOC-2026-000123"
TOKEN = LINE_TOKEN
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def outbound(address: Any, *, text: str = "ได้รับเรื่องของท่านแล้ว", **extra: Any) -> OutboundMessage:
    event_id = extra.pop("event_id", uuid.uuid4().hex)
    return OutboundMessage(
        notification_id=notification_id_for(event_id, address.channel),
        case_number=CASE,
        kind=extra.pop("kind", "acknowledged"),
        address=address,
        text=text,
        **extra,
    )


@pytest.fixture
async def line() -> AsyncIterator[tuple[FakeLine, LineAdapter, FrozenClock]]:
    fake, clock = FakeLine(), FrozenClock(NOW)
    async with serving(fake.app) as url, httpx.AsyncClient(timeout=5) as http:
        yield fake, LineAdapter(url, TOKEN, http, clock=clock), clock


def line_address(token: str | None = None, expires_in: float = 50) -> LineAddress:
    expiry = NOW + timedelta(seconds=expires_in) if token else None
    return LineAddress(user_id="U4af4980629", reply_token=token, reply_token_expires_at=expiry)


async def no_sleep(_: float) -> None:
    return None


async def test_fresh_reply_token_is_used_with_the_rating_buttons(line: Any) -> None:
    fake, adapter, _ = line
    fake.reply_tokens.add("rt-1")
    msg = outbound(line_address("rt-1"), kind="resolved", quick_reply=csat_options(CASE, "th"))
    result = await adapter.send(msg)
    assert (result.status, result.via, result.provider_message_id) == ("sent", "reply", "4649")
    endpoint, to, messages = fake.delivered[0]
    assert (endpoint, to) == ("reply", "rt-1")
    postbacks = [item["action"]["data"] for item in messages[-1]["quickReply"]["items"]]
    assert postbacks[3] == f"action=csat&case={CASE}&score=4"
    assert len(postbacks) == 5


async def test_expired_reply_token_goes_by_push_with_a_uuid_retry_key(line: Any) -> None:
    fake, adapter, clock = line
    fake.reply_tokens.add("rt-2")
    clock.advance(timedelta(minutes=2))
    result = await adapter.send(outbound(line_address("rt-2")))
    assert (result.status, result.via) == ("sent", "push")
    assert [(endpoint, to) for endpoint, to, _ in fake.delivered] == [("push", "U4af4980629")]


async def test_spent_reply_token_answered_400_falls_back_to_push(line: Any) -> None:
    fake, adapter, _ = line
    result = await adapter.send(outbound(line_address("already-used")))
    assert (result.status, result.via) == ("sent", "push")
    assert len(fake.delivered) == 1


@pytest.mark.parametrize("delivered_before_500", [False, True])
async def test_push_500_then_retry_delivers_exactly_one_message(
    line: Any, delivered_before_500: bool
) -> None:
    fake, adapter, clock = line
    fake.script = [(500, delivered_before_500)]
    outcome = await send_with_retry(
        adapter,
        outbound(line_address()),
        give_up_after=timedelta(minutes=5),
        sleep=no_sleep,
        clock=clock,
    )
    assert outcome.result.sent
    assert [a.result.provider_status for a in outcome.attempts] == [
        500,
        409 if delivered_before_500 else 200,
    ]
    assert outcome.attempts[0].result.retryable
    assert len(fake.delivered) == 1


async def test_push_400_is_final_and_tried_once(line: Any) -> None:
    fake, adapter, clock = line
    fake.script = [(400, False)]
    outcome = await send_with_retry(
        adapter,
        outbound(line_address()),
        give_up_after=timedelta(hours=1),
        sleep=no_sleep,
        clock=clock,
    )
    assert (outcome.result.status, outcome.result.retryable) == ("failed", False)
    assert len(outcome.attempts) == 1
    assert fake.delivered == []


async def test_replayed_notification_is_pushed_once(line: Any) -> None:
    fake, adapter, _ = line
    first = outbound(line_address(), event_id="01JD0000000000000000000000")
    # The redelivered event is rebuilt from stored JSON, as a consumer would.
    replay = OutboundMessage.model_validate_json(first.model_dump_json())
    results = [await adapter.send(first), await adapter.send(replay)]
    assert [r.provider_status for r in results] == [200, 409]
    assert all(r.sent for r in results)
    assert len(fake.delivered) == 1


async def test_long_text_is_split_into_at_most_five_line_messages(line: Any) -> None:
    fake, adapter, _ = line
    result = await adapter.send(outbound(line_address(), text="ไฟดับทั้งหมู่บ้าน\n" * 700))
    assert result.sent
    assert 2 <= len(fake.delivered[0][2]) <= 5


async def test_unreachable_line_api_is_a_retryable_failure() -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        adapter = LineAdapter("http://127.0.0.1:9", TOKEN, http)
        result = await adapter.send(outbound(line_address()))
    assert (result.status, result.retryable) == ("failed", True)


def email_address() -> EmailAddress:
    return EmailAddress(
        address="somchai@mail.example",
        display_name="สมชาย ใจดี",
        in_reply_to="<root-1@mail.example>",
        references=("<root-0@mail.example>",),
    )


async def test_email_is_threaded_tagged_and_thai_on_a_real_smtp_server() -> None:
    inbox = MailSink()
    rendered = render("acknowledged", "email", "th", case_number=CASE)
    with smtp_server(inbox) as port:
        adapter = EmailAdapter(
            "127.0.0.1", port, "ศูนย์บริการ 1129 <care@pea.example>", clock=FrozenClock(NOW)
        )
        msg = outbound(
            email_address(), subject=rendered.subject, text=rendered.text, html=rendered.html
        )
        result = await adapter.send(msg)
    assert result.sent
    received = message_from_bytes(inbox.raw[0], policy=policy.default)
    assert isinstance(received, EmailMessage)
    raw_subject = message_from_bytes(inbox.raw[0], policy=policy.compat32)["Subject"]
    assert str(make_header(decode_header(raw_subject))) == f"[{CASE}] ได้รับเรื่องของท่านแล้ว"
    assert received["Message-ID"] == result.provider_message_id
    assert received["Message-ID"].endswith("@pea.example>")
    assert received["In-Reply-To"] == "<root-1@mail.example>"
    assert received["References"] == "<root-0@mail.example> <root-1@mail.example>"
    assert received["Auto-Submitted"] == "auto-replied"
    assert received["Content-Language"] == "th"
    plain = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content_charset() == "utf-8"
    assert CASE in plain.get_content()
    assert "ได้รับเรื่องของท่านแล้ว" in plain.get_content()
    assert "<p>" in html.get_content()


@pytest.mark.parametrize(
    ("answer", "retryable"), [("451 4.3.0 try later", True), ("550 5.1.1 no such user", False)]
)
async def test_smtp_temporary_refusal_is_retryable_and_permanent_is_not(
    answer: str, retryable: bool
) -> None:
    with smtp_server(MailSink(rcpt_answer=answer)) as port:
        result = await EmailAdapter("127.0.0.1", port, "care@pea.example").send(
            outbound(email_address())
        )
    assert (result.status, result.retryable, result.provider_status) == (
        "failed",
        retryable,
        int(answer[:3]),
    )


def test_sms_segments_count_thai_as_ucs2_and_latin_as_gsm() -> None:
    assert [sms_segments("ก" * n) for n in (70, 71, 134, 135)] == [1, 2, 2, 3]
    assert [sms_segments("a" * n) for n in (160, 161, 306, 307)] == [1, 2, 2, 3]
    assert [sms_segments("€" * n) for n in (80, 81)] == [1, 2]  # escape + char: 2 septets


@pytest.mark.parametrize("shift", range(4))
def test_sms_shortening_never_separates_a_thai_mark_from_its_base(shift: int) -> None:
    text = "ก" * shift + "ผู้ใช้ไฟฟ้าที่นี่น้ำท่วมสูง " * 20
    shortened = fit_sms(text, 1)
    kept = shortened.removesuffix("…")
    assert sms_segments(shortened) == 1
    assert shortened.endswith("…")
    assert text.startswith(kept)
    following = text[len(kept) :].lstrip()[0]
    assert unicodedata.category(following) not in ("Mn", "Mc")
    assert following != "ำ"


def test_sms_shortening_keeps_the_survey_link_whole() -> None:
    link = "https://voc.example/s/Xy12"
    shortened = fit_sms("เรื่องดำเนินการเรียบร้อยแล้ว " * 20 + link, 2, keep=link)
    assert shortened.endswith(link)
    assert sms_segments(shortened) == 2


async def test_sms_gateway_gets_from_to_text_with_basic_auth() -> None:
    seen: list[tuple[dict[str, Any], str | None]] = []
    app = FastAPI()

    @app.post("/send")
    async def send(request: Request) -> dict[str, str]:
        seen.append((await request.json(), request.headers.get("authorization")))
        return {"id": "sms-77"}

    async with serving(app) as url, httpx.AsyncClient() as http:
        adapter = SmsAdapter(f"{url}/send", "pea", "secret", "PEA1129", http)
        result = await adapter.send(outbound(SmsAddress(phone="+66812457730")))
    assert (result.status, result.provider_message_id) == ("sent", "sms-77")
    body, auth = seen[0]
    assert body == {"from": "PEA1129", "to": "+66812457730", "text": "ได้รับเรื่องของท่านแล้ว"}
    assert auth == httpx.BasicAuth("pea", "secret")._auth_header


async def test_fcm_request_is_a_v1_message_with_string_data() -> None:
    seen: list[tuple[str, dict[str, Any], str | None]] = []
    app = FastAPI()

    @app.post("/v1/projects/{project}/messages:send")
    async def send(project: str, request: Request) -> dict[str, str]:
        seen.append((project, await request.json(), request.headers.get("authorization")))
        return {"name": f"projects/{project}/messages/0:1731"}

    async def access_token() -> str:
        return "ya29.test"

    async with serving(app) as url, httpx.AsyncClient() as http:
        adapter = FcmAdapter("pea-app", access_token, http, base_url=url)
        msg = outbound(
            AppAddress(device_token="fcm-tok"),
            subject="ได้รับเรื่อง",
            survey_url="https://voc.example/s/1",
        )
        result = await adapter.send(msg)
    assert result.provider_message_id == "projects/pea-app/messages/0:1731"
    project, body, auth = seen[0]
    assert (project, auth) == ("pea-app", "Bearer ya29.test")
    assert set(body) == {"message"}
    assert set(body["message"]) == {"token", "notification", "data"}
    assert body["message"]["notification"] == {"title": "ได้รับเรื่อง", "body": "ได้รับเรื่องของท่านแล้ว"}
    assert all(isinstance(value, str) for value in body["message"]["data"].values())


async def test_customer_without_a_mobile_gets_a_callback_task() -> None:
    result = await CallbackTaskAdapter().send(outbound(CallbackAddress(phone="053491228")))
    assert (result.status, result.retryable) == ("callback_task", False)


def test_backoff_doubles_to_the_cap_and_full_jitter_stays_below_it() -> None:
    plain = backoff_delays(jitter=False)
    assert [next(plain) for _ in range(11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    first = backoff_delays(rng=random.Random(7))
    again = backoff_delays(rng=random.Random(7))
    drawn = [next(first) for _ in range(11)]
    assert drawn == [next(again) for _ in range(11)]
    assert all(
        0 <= d <= cap
        for d, cap in zip(drawn, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300], strict=True)
    )


async def test_retry_stops_at_the_deadline_and_records_every_attempt() -> None:
    clock = FrozenClock(NOW)

    class Down:
        async def send(self, notification: OutboundMessage) -> DeliveryResult:
            return DeliveryResult(status="failed", retryable=True, provider_status=503)

    async def sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    outcome = await send_with_retry(
        Down(),
        outbound(line_address()),
        give_up_after=timedelta(seconds=60),
        sleep=sleep,
        clock=clock,
        delays=backoff_delays(jitter=False),
    )
    assert [a.at - NOW for a in outcome.attempts] == [
        timedelta(seconds=s) for s in (0, 1, 3, 7, 15, 31)
    ]
    assert outcome.result.retryable
    assert not outcome.result.sent


def test_unknown_language_falls_back_to_thai() -> None:
    assert (
        render("routed", "line", "ja", case_number=CASE, unit_name="กฟภ.สาขาหางดง").text
        == render("routed", "line", "th", case_number=CASE, unit_name="กฟภ.สาขาหางดง").text
    )


def test_email_html_escapes_what_the_agent_wrote() -> None:
    rendered = render("reply", "email", "en", case_number=CASE, reply_text="<b>meter</b> & pole")
    assert "&lt;b&gt;meter&lt;/b&gt; &amp; pole" in str(rendered.html)
    assert "<b>meter</b> & pole" in rendered.text


def test_override_replaces_one_slot_and_a_syntax_error_is_refused() -> None:
    custom = default_templates().with_overrides(
        {"th/acknowledged.short": "รับเรื่อง {{ case_number }} แล้วค่ะ"}
    )
    assert (
        custom.render("acknowledged", "sms", "th", case_number=CASE).text == f"รับเรื่อง {CASE} แล้วค่ะ"
    )
    with pytest.raises(Invalid, match="line 1"):
        default_templates().with_overrides({"th/resolved.short": "{% if summary %}ไม่ปิด"})
