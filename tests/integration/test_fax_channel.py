"""The fax channel: signed multipart from the gateway, OCR'd text, pages kept, once per fax id."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.intake.app import create_app
from services.intake.channels.fax.ocr import ocr_unavailable_reason
from shared.bus.amqp import AmqpBus
from shared.bus.inproc import InProcessBus
from shared.ids import new_id
from shared.messages import ContactReceived, Envelope
from shared.runtime import Runtime, open_store
from shared.settings import Settings
from tests.conftest import FIXTURES

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(ocr_unavailable_reason() is not None, reason=str(ocr_unavailable_reason())),
]

FAX = FIXTURES / "channels" / "fax"
SECRET = "fax-secret-test"
BOUNDARY = "----faxgw-7c1d2e"


def _meta(fax_id: str) -> dict[str, Any]:
    return {
        "id": fax_id,
        "num_pages": 1,
        "caller_id": "053398112",
        "remote_station_id": "053 398 112",
        "to_number": "+6625551129",
        "status": "received",
        "error": None,
        "received_at": "2026-11-18T10:42:37+07:00",
    }


def _body(meta: dict[str, Any], document: bytes, content_type: str = "image/tiff") -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="fax"\r\n'
        f"Content-Type: application/json\r\n\r\n{json.dumps(meta)}\r\n".encode(),
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{meta.get("id", "fax")}.tiff"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        + document
        + b"\r\n",
        f"--{BOUNDARY}--\r\n".encode(),
    ]
    return b"".join(parts)


def _client(mongo_url: str, bus: object) -> TestClient:
    settings = Settings(
        fax_hmac_secret=SECRET,  # type: ignore[arg-type]
        mongo_db_prefix=f"f{new_id().lower()[-8:]}",
    )
    runtime = Runtime(
        service="intake",
        settings=settings,
        bus=bus,  # type: ignore[arg-type]
        store=open_store(settings, "intake", mongo_url),
    )
    return TestClient(create_app(runtime))


def _post(client: TestClient, body: bytes, *, secret: str = SECRET) -> Any:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/v1/fax/inbound",
        content=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "X-Fax-Signature": signature,
        },
    )


@pytest.fixture
def intake(mongo_url: str) -> Iterator[tuple[TestClient, InProcessBus]]:
    bus = InProcessBus()
    with _client(mongo_url, bus) as client:
        yield client, bus


def _published(bus: InProcessBus) -> list[ContactReceived]:
    queue = bus._queues["privacy.contacts"].pending  # nobody consumes in these tests
    out = []
    while not queue.empty():
        message = Envelope.from_json(queue.get_nowait()[0]).message()
        assert isinstance(message, ContactReceived)
        out.append(message)
    return out


def test_faxed_letter_becomes_a_contact_with_its_ocr_text_and_pages(intake) -> None:  # type: ignore[no-untyped-def]
    client, bus = intake
    fax_id = f"fx_{new_id()}"
    answer = _post(client, _body(_meta(fax_id), (FAX / "letter_g3.tiff").read_bytes()))
    assert answer.status_code == 202, answer.text
    (message,) = _published(bus)
    contact = message.contact
    assert contact.channel == "fax"
    assert "020003456789" in contact.text  # the CA number read from the page
    assert "\u0e4d\u0e32" not in contact.text  # ำ is one code point
    assert contact.customer.phone == "+6653398112"
    names = [a.name for a in contact.attachments]
    assert names[0].endswith(".tiff")
    assert any(n.endswith("page-1.png") for n in names)
    assert contact.meta["fax_id"] == fax_id

    again = _post(client, _body(_meta(fax_id), (FAX / "letter_g3.tiff").read_bytes()))
    assert again.json()["id"] == answer.json()["id"]  # the gateway's retry adds nothing
    assert _published(bus) == []


def test_fax_with_a_wrong_signature_is_refused_before_ocr(intake) -> None:  # type: ignore[no-untyped-def]
    client, bus = intake
    body = _body(_meta(f"fx_{new_id()}"), (FAX / "letter_g3.tiff").read_bytes())
    answer = _post(client, body, secret="not-the-secret")
    assert answer.status_code == 401
    assert _published(bus) == []


def test_fax_metadata_without_an_id_is_refused_naming_the_field(intake) -> None:  # type: ignore[no-untyped-def]
    client, _ = intake
    meta = {k: v for k, v in _meta("x").items() if k != "id"}
    answer = _post(client, _body(meta, b"%PDF-1.4"))
    assert answer.status_code == 422
    assert answer.json()["field"] == "id"


def test_unsupported_document_type_is_refused(intake) -> None:  # type: ignore[no-untyped-def]
    client, _ = intake
    answer = _post(client, _body(_meta(f"fx_{new_id()}"), b"hello", content_type="text/plain"))
    assert answer.status_code == 422


def test_broker_down_answers_503_and_the_gateway_retries(mongo_url: str) -> None:
    bus = AmqpBus("amqp://guest:guest@127.0.0.1:1/", publish_timeout=1.0)
    with _client(mongo_url, bus) as client:
        answer = _post(
            client,
            _body(
                _meta(f"fx_{new_id()}"),
                (FAX / "letter.pdf").read_bytes(),
                content_type="application/pdf",
            ),
        )
        assert answer.status_code == 503
        assert answer.headers["Retry-After"]
