"""The mobile-app channel: ``POST /v1/app/contacts``."""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Security
from fastapi.security import HTTPBearer
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from services.intake.accept import accept_once
from services.intake.channels import parts_reader
from services.intake.limits import ChannelLimits, channel_limits, read_body
from services.intake.openapi import Accepted, body, inline_schema, refusals
from shared.errors import Invalid, PayloadTooLarge, Unauthorized
from shared.ids import new_id
from shared.instants import not_ahead, plausible, written
from shared.kinds import OrgId
from shared.messages import Contact, Identity, Location
from shared.org_files import served_org
from shared.runtime import Runtime

MAX_BODY_BYTES = 256 * 1024
# Declared for the API description; ``authenticate`` does the check itself.
APP_KEY = HTTPBearer(auto_error=False, scheme_name="appKey", description="an app API key")
MAX_TEXT_CHARS = 5000  # code points, not bytes: Thai takes 3 bytes a character
MAX_KEY_CHARS = 200
IDEMPOTENCY_KEY = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": "the submission's id: a retry with the same id gets the same contact",
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS},
        }
    ]
}


class AppCustomer(BaseModel):
    """The customer's details as the app collected them."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    national_id: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)


class AppAttachmentMeta(BaseModel):
    """An attachment the app declares (its bytes come as multipart parts)."""

    name: str = Field(max_length=255)
    mime: str = Field(max_length=100)
    size: StrictInt = Field(ge=0)


class AppLocation(BaseModel):
    """Where the app says the customer is."""

    lat: StrictFloat = Field(ge=-90, le=90)
    long: StrictFloat = Field(ge=-180, le=180)
    accuracy_m: StrictFloat | None = Field(default=None, ge=0)


class AppContactIn(BaseModel):
    """An app submission."""

    model_config = ConfigDict(
        extra="ignore",
        # What ``_has_content`` checks, as far as a schema can say it.
        json_schema_extra={
            "anyOf": [
                {"required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}},
                {"required": ["attachments"], "properties": {"attachments": {"minItems": 1}}},
            ]
        },
    )

    app_user_id: str = Field(min_length=1, max_length=128)
    text: str | None = None
    locale: str = "th-TH"
    consent_to_disclose: StrictBool = False
    org: OrgId | None = None
    customer: AppCustomer = AppCustomer()
    platform: str | None = Field(default=None, max_length=20)
    app_version: str | None = Field(default=None, max_length=40)
    category_hint: str | None = Field(default=None, max_length=80)
    attachments: list[AppAttachmentMeta] = Field(default_factory=list, max_length=10)
    location: AppLocation | None = None
    # When the customer pressed send: an app offline may send it much later.
    submitted_at: AwareDatetime | None = None

    _written = field_validator("submitted_at", mode="before")(written)

    @field_validator("submitted_at")
    @classmethod
    def _plausible_instant(cls, value: datetime | None) -> datetime | None:
        return None if value is None else plausible(value)

    @model_validator(mode="after")
    def _has_content(self) -> AppContactIn:
        text = unicodedata.normalize("NFC", self.text or "").strip()
        if not text and not self.attachments:
            raise ValueError("a contact needs text or at least one attachment")
        if len(text) > MAX_TEXT_CHARS:
            raise ValueError(f"text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
        self.text = text
        return self


def authenticate(authorization: str | None, keys: list[str]) -> str:
    """Return a stable id of the app key in ``authorization``; raise if it is unknown."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("an app API key is required: Authorization: Bearer <key>")
    if not any(secrets.compare_digest(token, key) for key in keys):
        raise Unauthorized("unknown app API key")
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def parse_body(raw: bytes) -> AppContactIn:
    """Validate the JSON body; raise ``Invalid`` naming the field and the reason."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        return AppContactIn.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise Invalid(f"{field}: {first['msg']}", field=field) from exc


def build_contact(body: AppContactIn, *, org: str, received_at: datetime) -> Contact:
    """Normalise an app submission into the canonical contact."""
    contact_id = new_id()
    customer = body.customer
    return Contact.model_validate(
        {
            "id": contact_id,
            "channel": "app",
            "org": served_org(body.org or org),
            "received_at": received_at,
            "dedupe_key": f"app:{body.app_user_id}",
            "text": body.text or "",
            "language": "en" if body.locale.lower().startswith("en") else "th",
            "customer": Identity(
                name=customer.name,
                phone=customer.phone,
                email=customer.email,
                national_id=customer.national_id,
                address=customer.address,
                app_user_id=body.app_user_id,
            ),
            "consent": "granted" if body.consent_to_disclose else "withheld",
            "location": Location(**body.location.model_dump()) if body.location else None,
            "meta": {
                "platform": body.platform,
                "app_version": body.app_version,
                "category_hint": body.category_hint,
                "declared_attachments": len(body.attachments),
                "submitted_at": body.submitted_at.isoformat() if body.submitted_at else None,
            },
            "raw_ref": f"raw-{contact_id}",
        }
    )


@dataclass(frozen=True)
class AppParts:
    """What the app's route reads: the runtime and the app's rate limits."""

    runtime: Runtime
    limits: ChannelLimits

    @classmethod
    def on(cls, runtime: Runtime) -> AppParts:
        """Return the parts of the app channel on ``runtime``."""
        return cls(runtime=runtime, limits=channel_limits(runtime.settings, "app"))


Parts = Annotated[AppParts, Depends(parts_reader("app"))]

router = APIRouter(tags=["app"])


@router.post(
    "/v1/app/contacts",
    status_code=202,
    dependencies=[Security(APP_KEY)],
    responses=refusals(401, 409, 413, 422, 429, 503),
    openapi_extra=body(inline_schema(AppContactIn)) | IDEMPOTENCY_KEY,
)
async def submit(
    request: Request,
    parts: Parts,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    # Checked after the key, so a caller without one learns nothing more.
    idempotency_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Accepted:
    """Take an app submission once per idempotency key; answer 202 with the contact's id."""
    runtime, limits = parts.runtime, parts.limits
    key_id = authenticate(authorization, runtime.settings.app_api_keys)
    limits.check_source(f"app:{key_id}")
    if not idempotency_key or len(idempotency_key) > MAX_KEY_CHARS:
        raise Invalid(
            f"Idempotency-Key header is required (at most {MAX_KEY_CHARS} characters)",
            field="Idempotency-Key",
        )
    # Counted while read: an over-size body is refused before it is buffered whole.
    raw = await read_body(request, MAX_BODY_BYTES)
    body = parse_body(raw)
    now = runtime.clock.now()
    not_ahead(body.submitted_at, now=now, field="submitted_at")
    # One app user flooding is refused on their own bucket, before the store.
    limits.check_customers(f"app:{key_id}", [body.app_user_id])
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    contact = build_contact(body, org=runtime.settings.org, received_at=now)
    contact_id = await accept_once(
        runtime,
        key=f"app:{key_id}:{idempotency_key}",
        body_hash=hashlib.sha256(canonical).hexdigest(),
        contact=contact,
        raw=raw,
        content_type="application/json",
        raw_meta={"app_key": key_id},
    )
    return Accepted(id=contact_id)
