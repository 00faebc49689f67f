"""Random bytes, random MIME and random JSON at intake: refused or accepted, never a crash.

The parser may only return a ``ParsedMail`` or raise a ``DomainError``; SMTP
always answers with a reply code; every webhook answers below 500 and logs
nothing at ERROR, even when the signature is valid and the body is nonsense.
Most bodies are near each channel's real shape, with now and then a field
wrong, missing or random, so the examples reach the code behind the first
validation step. Examples are derandomised: a failure found once is found on
every run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import quopri
import re
import string
import unicodedata
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from services.intake.channels.fax import channel as fax_channel
from services.intake.channels.mail.accept import MailIntake, MailSource
from services.intake.channels.mail.parse import ParsedMail, parse_mail
from services.intake.limits import Limit
from services.intake.settings import IntakeSettings
from shared.bus.inproc import InProcessBus
from shared.embedded import free_port
from shared.errors import DomainError
from shared.store import Store
from tests.support.intake import IntakeUnderTest, running_intake
from tests.support.mail import EMAIL_DIR, GATEWAY, Smtp, deliver, listening, runtime_on

pytestmark = pytest.mark.integration

LINE_SECRET = "line-secret-fuzz"
APP_KEY = "app-key-fuzz"
PBX_TOKEN = "pbx-token-fuzz"
FAX_SECRET = "fax-secret-fuzz"
# Rate limits are not under test, and the fuzzer posts faster than any real source.
UNLIMITED = Limit(per_second=1_000_000, burst=1_000_000)
UNLIMITED_RATE = 1_000_000.0
UNLIMITED_BURST = 1_000_000


def fuzz(examples: int) -> settings:
    """Return reproducible settings: fixed examples, no deadline, no example database."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        # Fixtures (the store, a running app) are shared by the examples on purpose.
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- Text and JSON ------------------------------------------------------------

THAI = "กขคงจฉชซญดตถทนบปผพฟภมยรลวศสหอฮะาำิีึืุูเแโใไ่้๊๋็์ๆ๐๑๙"
# Lone surrogates are what a JSON "\ud800" escape decodes to; a broken client sends them.
chars = st.sampled_from(THAI) | st.characters(codec="utf-8") | st.characters(categories=["Cs"])
texts = st.text(chars, max_size=24)
thai_texts = st.text(st.sampled_from(THAI + " .,:\n") | st.characters(codec="utf-8"), max_size=40)

# Valid JSON that a document store cannot keep as is: integers past 64 bits,
# field names with NUL, "$" or ".".
big_ints = st.sampled_from([2**63, -(2**63) - 1, 10**30])
odd_keys = st.sampled_from(["nul\x00key", "$where", "a.b"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | big_ints | st.floats() | texts,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(texts | odd_keys, inner, max_size=4)
    ),
    max_leaves=12,
)


_ABSENT = object()
absent = st.just(_ABSENT)


def mostly(likely: st.SearchStrategy[Any], *rarely: st.SearchStrategy[Any], one_in: int = 8) -> Any:
    """Draw from ``likely``, and once in ``one_in`` draws from one of ``rarely``."""
    odd = st.one_of(*rarely)
    return st.integers(1, one_in).flatmap(lambda n: odd if n == one_in else likely)


def shaped(
    fields: dict[str, st.SearchStrategy[Any]], *, required: tuple[str, ...] = ()
) -> st.SearchStrategy[dict[str, Any]]:
    """Return objects whose fields are mostly plausible, else random or missing, plus extras."""

    def field(name: str, value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        # Rarely, since one wrong field of a dozen refuses the whole body.
        odd = (json_values,) if name in required else (json_values, absent)
        return mostly(value, *odd, one_in=24)

    known = st.fixed_dictionaries({name: field(name, value) for name, value in fields.items()})
    extras = mostly(st.just({}), st.dictionaries(texts | odd_keys, json_values, max_size=2))
    return st.tuples(extras, known).map(
        lambda pair: pair[0] | {k: v for k, v in pair[1].items() if v is not _ABSENT}
    )


@st.composite
def json_bodies(draw: st.DrawFn, shape: st.SearchStrategy[Any]) -> bytes:
    """Serialise a shaped or random value as Python would (NaN and lone surrogates included)."""
    value = draw(mostly(shape, json_values))
    if draw(st.booleans()):
        return json.dumps(value).encode()
    # Raw UTF-8; a lone surrogate becomes the bytes a broken encoder writes.
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


# --- MIME ---------------------------------------------------------------------

CHARSETS = (
    "utf-8",
    "tis-620",
    "windows-874",
    "iso-8859-11",
    "us-ascii",
    "unknown-8bit",
    "x-no-such-charset",
    "",
)
_CODECS = {"tis-620": "cp874", "windows-874": "cp874", "iso-8859-11": "cp874", "us-ascii": "ascii"}
HEADER_NAMES = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "Precedence",
    "List-Id",
    "Return-Path",
    "X-Auto-Response-Suppress",
    "Content-Type",
    "Content-Transfer-Encoding",
    "MIME-Version",
    "หัวเรื่อง",
)
LEAF_TYPES = (
    "text/plain",
    "text/html",
    "application/pdf",
    "image/tiff",
    "application/octet-stream",
    "message/rfc822",
    "message/delivery-status",
    "text/rfc822-headers",
    "multipart/mixed",
    "x-unknown/thing",
    "text",
    "",
)
ENCODINGS = ("7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "bogus", None)
ODD_NAMES = ("../../etc/passwd", "..", ".", "a\\b.pdf", "fax.tif", "\x00\x07.pdf", "คำร้อง.pdf")


def encode_in(text: str, charset: str) -> bytes:
    """Return ``text`` encoded as a mailer labelling it ``charset`` would encode it."""
    return text.encode(_CODECS.get(charset, "utf-8"), errors="replace")


@st.composite
def encoded_words(draw: st.DrawFn) -> str:
    """Return an RFC 2047 word, sometimes truncated mid-base64."""
    charset = draw(st.sampled_from(CHARSETS))
    data = draw(thai_texts.map(lambda t: encode_in(t, charset)) | st.binary(max_size=30))
    if draw(st.booleans()):
        payload = base64.b64encode(data).decode()
        payload = payload[: draw(st.integers(0, len(payload)))] if draw(st.booleans()) else payload
        return f"=?{charset}?B?{payload}?="
    return f"=?{charset}?Q?{quopri.encodestring(data, header=True).decode().replace(chr(10), '')}?="


@st.composite
def addresses(draw: st.DrawFn) -> bytes:
    """Return an address list with Thai and encoded display names and odd addresses."""
    items = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.just("") | thai_texts | encoded_words())
        local = draw(st.text(st.sampled_from('abcxyz._+-ไฟ"<>@,;: ()'), max_size=12))
        domain = draw(st.sampled_from(["pea-demo.example", "example.com", "", "ตัวอย่าง.ไทย"]))
        address = draw(st.sampled_from([f"{local}@{domain}", GATEWAY, "<>", local]))
        items.append(f'"{name}" <{address}>' if name else address)
    return ", ".join(items).encode()


msg_ids = st.lists(
    st.text(st.sampled_from(string.ascii_letters + "@.<> -ก"), max_size=20), max_size=3
).map(lambda ids: " ".join(f"<{i}>" for i in ids).encode())
dates = st.sampled_from(
    [b"Wed, 18 Nov 2026 09:00:00 +0700", b"18 Nov 2026 09:00 -0000", b"Wed, 31 Feb 99999 99:99"]
) | st.binary(max_size=20)
header_values = st.one_of(
    thai_texts.map(str.encode),
    thai_texts.map(lambda t: t.encode("cp874", "replace")),
    st.lists(encoded_words(), min_size=1, max_size=3).map(lambda w: " ".join(w).encode()),
    addresses(),
    msg_ids,
    dates,
    st.binary(max_size=60),
)


def fold(value: bytes) -> bytes:
    """Turn line breaks inside a header value into folding, so the value stays one header."""
    return re.sub(rb"\r\n|\r|\n", b"\r\n ", value)


@st.composite
def filename_params(draw: st.DrawFn) -> str:
    """Return filename parameters: plain, RFC 2047, RFC 2231 (continued or broken), raw 8-bit."""
    name = draw(thai_texts | st.sampled_from(ODD_NAMES))
    charset = draw(st.sampled_from(CHARSETS))
    quoted = urllib.parse.quote(encode_in(name, charset), safe="")
    style = draw(st.sampled_from(["plain", "2047", "2231", "continued", "broken"]))
    if style == "plain":
        return f'filename="{name}"'
    if style == "2047":
        return f'filename="=?{charset}?B?{base64.b64encode(encode_in(name, charset)).decode()}?="'
    if style == "2231":
        return f"filename*={charset}'th'{quoted}"
    if style == "continued":  # cut anywhere, even inside a %XX escape
        cuts = sorted(draw(st.lists(st.integers(0, len(quoted)), max_size=3)))
        pieces = [quoted[a:b] for a, b in zip([0, *cuts], [*cuts, len(quoted)], strict=True)]
        first = f"filename*0*={charset}''{pieces[0]}"
        return "; ".join([first, *(f"filename*{i}*={p}" for i, p in enumerate(pieces[1:], 1))])
    return draw(
        st.sampled_from(
            [
                f"filename*={charset}'{quoted}",
                f"filename*0*={charset}''{quoted}; filename*2*=%ZZ",
                f"filename*={charset}''%E0%B8",
                f"filename*=''{quoted}; filename=\"{name}\"",
            ]
        )
    )


def _encode_body(content: bytes, encoding: str | None, cut: int | None) -> bytes:
    if encoding == "base64":
        encoded = base64.encodebytes(content)
        return encoded[:cut] if cut is not None else encoded
    if encoding == "quoted-printable":
        return quopri.encodestring(content)
    return content


@st.composite
def leaves(draw: st.DrawFn, depth: int) -> tuple[list[bytes], bytes]:
    """Return the headers and body of one non-multipart part."""
    ctype = draw(st.sampled_from(LEAF_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    headers = [f"Content-Type: {ctype}; charset={charset}".encode()]
    if draw(st.booleans()):
        disposition = draw(st.sampled_from(["attachment", "inline", "form-data", "", "x;"]))
        headers.append(f"Content-Disposition: {disposition}; {draw(filename_params())}".encode())
    if ctype.startswith("text"):
        text = draw(thai_texts)
        text = f"<p>{text}</p><br><div>> {text}</div>" if ctype == "text/html" else text
        content = encode_in(text, charset)
    elif ctype == "message/rfc822" and depth > 0:
        content = draw(mime_messages(depth - 1))
    elif ctype == "message/delivery-status":
        content = b"Reporting-MTA: dns; mx\r\n\r\n" + draw(
            st.sampled_from([b"Action: failed\r\nStatus: 5.1.1\r\n", b"Final-Recipient: ;"])
        )
    else:
        content = draw(st.binary(max_size=200))
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding is not None:
        headers.append(f"Content-Transfer-Encoding: {encoding}".encode())
    return headers, _encode_body(content, encoding, draw(st.none() | st.integers(0, 40)))


@st.composite
def parts(draw: st.DrawFn, depth: int) -> tuple[list[bytes], bytes]:
    """Return a leaf, or a multipart tree with possibly wrong or missing boundaries."""
    if depth == 0 or draw(st.booleans()):
        return draw(leaves(depth))
    subtype = draw(
        st.sampled_from(["mixed", "alternative", "related", "report; report-type=delivery-status"])
    )
    boundary = draw(st.text(st.sampled_from(string.ascii_letters + "'()+_,-./:=? "), max_size=20))
    children = draw(st.lists(parts(depth - 1), max_size=4))
    marker = b"--" + boundary.encode()
    body = [draw(st.binary(max_size=20))]
    for child_headers, child_body in children:
        body.append(marker + b"\r\n" + b"\r\n".join(child_headers) + b"\r\n\r\n" + child_body)
    if draw(st.booleans()):
        body.append(marker + b"--\r\n" + draw(st.binary(max_size=20)))
    header = f'Content-Type: multipart/{subtype}; boundary="{boundary}"'.encode()
    return [header], b"\r\n".join(body)


@st.composite
def mime_messages(draw: st.DrawFn, depth: int = 2) -> bytes:
    """Return a whole mail: random headers over a random MIME tree."""
    named = draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_values), max_size=10))
    sender = draw(st.none() | addresses())
    lines = [b"From: " + fold(sender)] if sender is not None else []
    lines += [name.encode() + b": " + fold(value) for name, value in named]
    part_headers, body = draw(parts(depth))
    newline = draw(st.sampled_from([b"\r\n", b"\n"]))
    return newline.join(lines + part_headers) + newline + newline + body


# --- The email parser ---------------------------------------------------------


def strings_in(value: object) -> Iterator[str]:
    """Yield every string inside a dumped model."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def check_parsed(raw: bytes, limit: int | None = None) -> None:
    """Parse ``raw``: a ``ParsedMail`` of valid, NFC text, or a ``DomainError``."""
    try:
        parsed = parse_mail(raw) if limit is None else parse_mail(raw, limit=limit)
    except DomainError:
        return
    assert isinstance(parsed, ParsedMail)
    for value in strings_in(parsed.model_dump()):
        value.encode("utf-8")  # a lone surrogate fails the contact's JSON and BSON later
    people_wrote = [parsed.subject, parsed.text, parsed.quoted, parsed.from_name or ""]
    for value in people_wrote + [attachment.name for attachment in parsed.attachments]:
        assert unicodedata.is_normalized("NFC", value)


@fuzz(1000)
@given(raw=st.binary(max_size=2048), limit=st.none() | st.integers(0, 4096))
def test_random_bytes_parse_or_are_refused(raw: bytes, limit: int | None) -> None:
    check_parsed(raw, limit)


@fuzz(400)
@given(raw=mime_messages())
def test_random_mime_parses_or_is_refused(raw: bytes) -> None:
    check_parsed(raw)


SAMPLES = [path.read_bytes() for path in sorted(EMAIL_DIR.glob("*.eml"))]
SPLICES = st.binary(min_size=1, max_size=8) | st.sampled_from(
    [b"\r\n", b"\r\n\r\n", b"--", b'"', b";", b":", b"=?", b"?=", b"*0*="]
)


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    """Return a sample mail with a few bytes inserted, deleted, changed or repeated."""
    raw = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(raw)))
        span = draw(st.integers(1, 80))
        edit = draw(st.sampled_from(["insert", "delete", "change", "repeat"]))
        if edit == "insert":
            raw[at:at] = draw(SPLICES)
        elif edit == "delete":
            del raw[at : at + span]
        elif edit == "change" and at < len(raw):
            raw[at] = draw(st.integers(0, 255))
        elif edit == "repeat":
            raw[at:at] = raw[at : at + span]
    return bytes(raw)


@fuzz(300)
@given(raw=mutated_samples())
def test_damaged_sample_mail_parses_or_is_refused(raw: bytes) -> None:
    check_parsed(raw)


# --- SMTP ---------------------------------------------------------------------


# Loggers of the code under test (intake and the shared code) and of the servers
# it runs in; a broker client left reconnecting, or another service's background
# loop left running, by another test in the same event loop is not this test's.
WATCHED = ("services.intake", "shared", "uvicorn", "starlette", "fastapi", "mail.log")


def assert_no_errors(caplog: pytest.LogCaptureFixture) -> None:
    """Fail on any ERROR record or any record carrying an exception from the code under test."""
    bad = [
        r
        for r in caplog.records
        if r.name.startswith(WATCHED) and (r.levelno >= logging.ERROR or r.exc_info)
    ]
    assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad]


@pytest.fixture
async def mail_intake(store: Store) -> MailIntake:
    runtime = runtime_on(store, InProcessBus())
    return MailIntake(runtime, IntakeSettings(fax_gateway_addresses=[GATEWAY]))


@fuzz(150)
@given(
    raw=st.binary(max_size=1024) | mime_messages(),
    return_path=st.sampled_from([None, "", "customer@example.com", "ผู้ส่ง@ตัวอย่าง.ไทย", "<\r\n>"]),
)
async def test_mail_intake_answers_every_mail_with_a_final_reply(
    mail_intake: MailIntake,
    caplog: pytest.LogCaptureFixture,
    raw: bytes,
    return_path: str | None,
) -> None:
    caplog.clear()
    source = MailSource(kind="smtp", return_path=return_path, recipients=("a@pea-demo.example",))
    outcome = await mail_intake.accept(raw, source)
    # The bus and the store are up: every mail is accepted or refused for good.
    assert outcome.code in {250, 552, 554}, outcome.reply
    assert_no_errors(caplog)


@pytest.fixture
async def smtp(store: Store) -> AsyncIterator[Smtp]:
    async with listening(store, InProcessBus()) as channel:
        yield channel


@fuzz(60)
@given(raw=mime_messages())
async def test_smtp_listener_answers_random_mime_with_a_reply_code(
    smtp: Smtp, caplog: pytest.LogCaptureFixture, raw: bytes
) -> None:
    caplog.clear()
    code, text = await deliver(smtp.port, raw)
    assert code == 250 or 500 <= code < 600, (code, text)  # never a 4xx: nothing is down
    assert_no_errors(caplog)


# --- The webhooks -------------------------------------------------------------


@pytest.fixture(scope="module")
def intake(mongo_url: str) -> Iterator[IntakeUnderTest]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fax_channel, "FAX_LIMIT", UNLIMITED)
        with running_intake(
            mongo_url,
            InProcessBus(),
            line_channel_secret=LINE_SECRET,
            line_channel_token="line-token-fuzz",
            line_api_base="http://127.0.0.1:9",  # media fetches fail fast, on this host
            app_api_keys=[APP_KEY],
            cti_tokens=[PBX_TOKEN],
            fax_hmac_secret=FAX_SECRET,
            smtp_port=free_port(),  # intake's own listener; 2525 may be taken
            # Thousands of drawn requests from a few senders: no rate limit.
            **{
                f"rate_{who}_{what}": UNLIMITED_RATE if what == "per_s" else UNLIMITED_BURST
                for who in ("app", "app_user", "line", "line_user", "pbx", "caller")
                for what in ("per_s", "burst")
            },
        ) as running:
            yield running


def post(
    intake: IntakeUnderTest,
    caplog: pytest.LogCaptureFixture,
    path: str,
    body: bytes,
    headers: dict[str, str],
) -> None:
    """Post ``body``: the answer is below 500, a refusal says why, and nothing logs an error."""
    caplog.clear()
    answer = intake.client.post(path, content=body, headers=headers)
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert "error" in answer.json(), answer.text  # the error tree's shape, not a bare 400
    assert_no_errors(caplog)


def one_of_or(valid: list[str], *invalid: Any) -> Any:
    """Draw one of the ``valid`` values, now and then one of the ``invalid`` ones."""
    return mostly(st.sampled_from(valid), st.sampled_from(invalid))


instants = mostly(
    st.datetimes(
        min_value=datetime(2025, 1, 1),
        max_value=datetime(2027, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=7))]),
    ).map(datetime.isoformat),
    st.sampled_from(["2026-11-18T08:02:11", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00+14:00"]),
    st.integers(),
)


def coordinates(limit: float) -> Any:
    """Draw a coordinate within ``limit`` degrees, now and then one out of range or NaN."""
    wrong = st.floats(allow_nan=True).filter(lambda x: not -limit <= x <= limit)
    return mostly(st.floats(-limit, limit), wrong, one_in=4)


ids = st.text(st.sampled_from(string.ascii_letters + string.digits), min_size=1, max_size=12)
user_ids = st.sampled_from(["U" + "4af4980629" * 3 + "ab", "", "C1", "R1"]) | ids
epoch_ms = mostly(st.integers(1_700_000_000_000, 1_900_000_000_000), st.integers())
line_source = shaped(
    {
        "type": one_of_or(["user", "group", "room"], "bot"),
        "userId": user_ids,
        "groupId": user_ids,
        "roomId": user_ids,
    }
)
line_message = shaped(
    {
        "type": one_of_or(
            ["text", "image", "video", "audio", "file", "location", "sticker"], "emoji"
        ),
        "id": ids,
        "text": thai_texts,
        "contentProvider": shaped(
            {"type": st.sampled_from(["line", "external"]), "originalContentUrl": texts}
        ),
        "fileName": texts,
        "latitude": coordinates(90),
        "longitude": coordinates(180),
        "address": thai_texts,
        "title": thai_texts,
        "packageId": ids,
        "stickerId": ids,
    }
)
line_event = shaped(
    {
        # Mostly messages, as on a real account; "new" stands for a type LINE adds later.
        "type": mostly(
            st.just("message"),
            st.sampled_from(["follow", "unfollow", "postback", "unsend", "join", "new"]),
            one_in=3,
        ),
        "webhookEventId": ids,
        "timestamp": epoch_ms,
        "source": line_source,
        "message": line_message,
        "replyToken": ids,
        "mode": st.sampled_from(["active", "standby"]),
        "deliveryContext": shaped({"isRedelivery": st.booleans()}),
        "postback": shaped({"data": texts | st.just("action=csat&score=5&case=VOC-2026-000001")}),
        "unsend": shaped({"messageId": ids}),
    },
    required=("type", "webhookEventId", "timestamp"),
)
line_bodies = shaped(
    {"destination": ids, "events": st.lists(line_event, max_size=4)}, required=("events",)
)


@fuzz(300)
@given(body=mostly(json_bodies(line_bodies), st.binary(max_size=512)))
def test_line_webhook_never_fails_on_a_signed_body(
    intake: IntakeUnderTest, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    digest = hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()
    headers = {"x-line-signature": base64.b64encode(digest).decode()}
    post(intake, caplog, "/v1/line/webhook", body, headers)


app_bodies = shaped(
    {
        "app_user_id": ids,
        "text": thai_texts,
        "locale": st.sampled_from(["th-TH", "en-US", ""]),
        "consent_to_disclose": st.booleans(),
        "org": one_of_or(["pea", "or"], "egat"),
        "customer": shaped(dict.fromkeys(("name", "phone", "email", "national_id"), thai_texts)),
        "attachments": st.lists(
            shaped({"name": texts, "mime": texts, "size": st.integers(0, 10**6)}), max_size=3
        ),
        "location": shaped(
            {"lat": coordinates(90), "long": coordinates(180), "accuracy_m": st.floats(0)}
        ),
        "submitted_at": mostly(instants, st.sampled_from(["2026-13-45", ""])),
    },
    required=("app_user_id", "text"),
)


@fuzz(150)
@given(body=mostly(json_bodies(app_bodies), st.binary(max_size=512)), key=ids)
def test_app_contacts_never_fail_on_an_authenticated_body(
    intake: IntakeUnderTest, caplog: pytest.LogCaptureFixture, body: bytes, key: str
) -> None:
    headers = {"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": key}
    post(intake, caplog, "/v1/app/contacts", body, headers)


numbers = mostly(
    st.sampled_from(["0864427139", "+66864427139", "1129", "anonymous", "๐๘๖๔๔๒๗๑๓๙"]), texts
)
seconds = mostly(st.integers(0, 7200), st.integers())
cti_event = shaped(
    {
        "event": one_of_or(["newCall", "answer", "hangup"], "transfer"),
        # Few call ids, so events of one call meet and fold.
        "callId": st.sampled_from(["fuzz.1", "fuzz.2", "fuzz.3"]),
        "timestamp": instants,
        "direction": one_of_or(["in", "out"], "sideways"),
        "from": numbers,
        "to": numbers,
        "user": ids,
        "queue": ids,
        "ivr_path": st.lists(st.sampled_from(["lang:th", "main:1:report_fault", "x"]), max_size=3),
        "cause": st.none() | st.sampled_from(["normalClearing", "busy", "cancel", "noAnswer"]),
        "duration_s": seconds,
        "talk_s": seconds,
        "recording_url": texts,
    },
    required=("event", "callId", "timestamp", "direction"),
)


@fuzz(150)
@given(
    body=mostly(json_bodies(cti_event | st.lists(cti_event, max_size=3)), st.binary(max_size=512))
)
def test_phone_events_never_fail_on_an_authenticated_body(
    intake: IntakeUnderTest, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    headers = {"Authorization": f"Bearer {PBX_TOKEN}"}
    post(intake, caplog, "/v1/phone/events", body, headers)


fax_meta = shaped(
    {
        "id": ids,
        "num_pages": st.integers(0, 5),
        "caller_id": numbers,
        "to_number": numbers,
        "status": one_of_or(["received", "partial", "failed"], "queued"),
        "error": texts,
        "received_at": instants,
    },
    required=("id", "num_pages", "to_number", "status", "received_at"),
)


def _blank_page() -> bytes:
    out = io.BytesIO()
    Image.new("L", (64, 32), 255).save(out, format="PNG")
    return out.getvalue()


# Bytes that pass a format's magic check and then go wrong, or a real blank page.
documents = mostly(
    st.tuples(
        st.sampled_from(["image/tiff", "image/png", "application/pdf", "", "x/y"]),
        st.sampled_from([b"", b"II*\x00", b"MM\x00*", b"\x89PNG\r\n\x1a\n", b"%PDF-1.4\n"]),
        st.binary(max_size=300),
    ).map(lambda doc: (doc[0], doc[1] + doc[2])),
    st.tuples(st.sampled_from(["image/png", "application/octet-stream"]), st.just(_blank_page())),
    one_in=4,
)
BOUNDARY = "fuzz-boundary"
usually = mostly(st.just(True), st.just(False))


@st.composite
def fax_forms(draw: st.DrawFn) -> tuple[bytes, str]:
    """Return a multipart body (its parts shaped, random or missing) and its Content-Type."""
    kind, document = draw(documents)
    name = draw(mostly(st.just("file"), st.just("fax"), texts))
    parts = [
        (
            f'name="{draw(mostly(st.just("fax"), texts))}"',
            draw(json_bodies(fax_meta)),
        ),
        (
            f'name="{name}"; filename="{draw(mostly(ids, texts))}"\r\nContent-Type: {kind}',
            document,
        ),
    ]
    parts = [part for part in draw(st.permutations(parts)) if draw(usually)]
    body = b"".join(
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; {head}\r\n\r\n".encode(
            "utf-8", "surrogatepass"
        )
        + data
        + b"\r\n"
        for head, data in parts
    )
    if draw(usually):
        body += f"--{BOUNDARY}--\r\n".encode()
    content_type = draw(
        mostly(
            st.just(f"multipart/form-data; boundary={BOUNDARY}"),
            st.sampled_from(
                ["multipart/form-data", "text/plain", "application/x-www-form-urlencoded"]
            ),
        )
    )
    return body, content_type


@fuzz(100)
@given(form=mostly(fax_forms(), st.tuples(st.binary(max_size=512), st.just("multipart/form-data"))))
def test_fax_inbound_never_fails_on_a_signed_form(
    intake: IntakeUnderTest, caplog: pytest.LogCaptureFixture, form: tuple[bytes, str]
) -> None:
    body, content_type = form
    signature = hmac.new(FAX_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Fax-Signature": signature}
    post(intake, caplog, "/v1/fax/inbound", body, headers)
