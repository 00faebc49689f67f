"""The fax channel: ``POST /v1/fax/inbound`` from a fax gateway (multipart, HMAC-signed)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Security
from fastapi.security import APIKeyHeader
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from services.intake.accept import accept_once
from services.intake.channels import parts_reader
from services.intake.channels.fax.ocr import (
    MAX_FAX_BYTES,
    FaxMeta,
    OcrResult,
    ocr_document,
    parse_fax_meta,
    verify_fax_hmac,
)
from services.intake.channels.phone.events import normalise_number
from services.intake.limits import Limit, RateLimiter, read_body
from services.intake.openapi import Accepted, body, inline_schema, refusals
from services.intake.store import store_attachment
from shared.errors import Invalid
from shared.ids import new_id
from shared.instants import not_ahead
from shared.messages import Attachment, Contact, Identity, ThreadKeys
from shared.runtime import Runtime

# OCR takes seconds a page and both cores; one fax at a time per process keeps
# the other endpoints answering.
_OCR_SLOTS = asyncio.Semaphore(1)
# Room for the metadata part and multipart framing around the document.
MAX_BODY_BYTES = MAX_FAX_BYTES + 64 * 1024
# A fax gateway delivers a few faxes a minute even on a busy day.
FAX_LIMIT = Limit(per_second=2, burst=20)
# Declared for the API description; ``verify_fax_hmac`` does the check itself.
FAX_SIGNATURE = APIKeyHeader(
    name="X-Fax-Signature",
    auto_error=False,
    scheme_name="faxSignature",
    description="hex HMAC-SHA256 of the raw body with the gateway's secret",
)
FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["fax", "file"],
    "properties": {
        "fax": {**inline_schema(FaxMeta), "description": "the fax metadata, as a JSON part"},
        "file": {"type": "string", "format": "binary", "description": "the received document"},
    },
}
FORM_ENCODING = {"fax": {"contentType": "application/json"}}


def build_contact(
    meta: FaxMeta,
    ocr: OcrResult,
    *,
    org: str,
    received_at: datetime,
    attachments: tuple[Attachment, ...],
) -> Contact:
    """Normalise a received fax and its OCR into the canonical contact."""
    contact_id = new_id()
    flags = ["fax"]
    if ocr.low_confidence:
        flags.append("ocr_low_confidence")  # a person checks the text before it is trusted
    if meta.status != "received":
        flags.append(f"fax_{meta.status}")
    return Contact(
        id=contact_id,
        channel="fax",
        org=org,
        received_at=received_at,
        dedupe_key=f"fax:{meta.id}",
        text=ocr.text,
        customer=Identity(phone=normalise_number(meta.caller)),
        consent="unknown",
        attachments=attachments,
        thread=ThreadKeys(),
        flags=tuple(flags),
        meta={
            "fax_id": meta.id,
            "num_pages": meta.num_pages,
            "fax_status": meta.status,
            "fax_error": meta.error,
            "sent_at": meta.received_at.isoformat(),
            "ocr_confidence": round(ocr.confidence, 1),
        },
        raw_ref=f"raw-{contact_id}",
    )


async def _read_form(request: Request) -> tuple[FaxMeta, UploadFile]:
    try:
        form = await request.form(max_files=1, max_fields=4)
    except MultiPartException as exc:
        raise Invalid(f"multipart body: {exc.message}", field="body") from exc
    except HTTPException as exc:
        # Inside an app Starlette turns a malformed multipart body (no boundary,
        # too many parts) into a bare 400; it is a schema error like any other.
        raise Invalid(f"multipart body: {exc.detail}", field="body") from exc
    fax_part, file_part = form.get("fax"), form.get("file")
    if fax_part is None:
        raise Invalid("the 'fax' metadata part is missing", field="fax")
    if not isinstance(file_part, UploadFile):
        raise Invalid("the 'file' part with the document is missing", field="file")
    raw_meta = await fax_part.read() if isinstance(fax_part, UploadFile) else fax_part
    return parse_fax_meta(raw_meta), file_part


@dataclass(frozen=True)
class FaxParts:
    """What the fax route reads: the runtime and the gateway's rate limit."""

    runtime: Runtime
    limiter: RateLimiter

    @classmethod
    def on(cls, runtime: Runtime) -> FaxParts:
        """Return the parts of the fax channel on ``runtime``, limited by ``FAX_LIMIT``."""
        return cls(runtime=runtime, limiter=RateLimiter(FAX_LIMIT))


Parts = Annotated[FaxParts, Depends(parts_reader("fax"))]

router = APIRouter(tags=["fax"])


@router.post(
    "/v1/fax/inbound",
    status_code=202,
    dependencies=[Security(FAX_SIGNATURE)],
    responses=refusals(401, 409, 413, 422, 429, 503),
    openapi_extra=body(FORM_SCHEMA, "multipart/form-data", encoding=FORM_ENCODING),
)
async def inbound(
    request: Request,
    parts: Parts,
    x_fax_signature: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Accepted:
    """Take a signed fax from the gateway, read by OCR; answer 202 with the contact's id."""
    runtime = parts.runtime
    raw = await read_body(request, MAX_BODY_BYTES)
    request._body = raw  # lets form() parse the bytes already read
    secret = runtime.settings.fax_hmac_secret.get_secret_value()
    verify_fax_hmac(raw, x_fax_signature, secret)
    parts.limiter.check("fax")
    meta, upload = await _read_form(request)
    not_ahead(meta.received_at, now=runtime.clock.now(), field="fax.received_at")
    document = await upload.read()
    content_type = upload.content_type or "application/octet-stream"
    async with _OCR_SLOTS:
        ocr = await ocr_document(document, content_type)
    now = runtime.clock.now()
    original = await store_attachment(
        runtime.store, data=document, content_type=content_type, at=now
    )
    attachments = [
        Attachment(
            name=upload.filename or f"{meta.id}",
            content_type=content_type,
            size=len(document),
            sha256=original,
            ref=original,
            text=ocr.text,
        )
    ]
    for number, page in enumerate(ocr.pages, start=1):
        digest = await store_attachment(
            runtime.store, data=page.png, content_type="image/png", at=now
        )
        attachments.append(
            Attachment(
                name=f"{meta.id}-page-{number}.png",
                content_type="image/png",
                size=len(page.png),
                sha256=digest,
                ref=digest,
            )
        )
    contact = build_contact(
        meta, ocr, org=runtime.settings.org, received_at=now, attachments=tuple(attachments)
    )
    contact_id = await accept_once(
        runtime,
        key=contact.dedupe_key,
        body_hash=hashlib.sha256(document).hexdigest(),
        contact=contact,
        raw=raw,
        content_type=request.headers.get("content-type", "multipart/form-data"),
        raw_meta={"fax_id": meta.id},
    )
    return Accepted(id=contact_id)
