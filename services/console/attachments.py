"""Files agents attach to a case: sniffed, at most 10 MB, in the console's store (GridFS).

The file goes to the store first, then the case gets an internal note naming
it (type and size, never the file name, which may hold personal data); if the
note is refused the file is deleted again, so nothing is half-written. A file
is read back only by someone who may open its case, always as a download
(``Content-Disposition: attachment``, ``nosniff``).
"""

# Annotations stay evaluated (no postponed annotations): FastAPI must resolve
# the route-local Annotated aliases when it builds the routes.
import hashlib
import re
from typing import Annotated

from bson import ObjectId
from bson.errors import InvalidId
from fastapi import APIRouter, File, Path, UploadFile
from fastapi.responses import Response
from gridfs.errors import NoFile
from pydantic import BaseModel, Field

from services.console.clients import CaseId, case_path, load_case
from services.console.deps import CurrentUser, Parts, Routing
from services.console.store import workspace as workspace_store
from shared.api_models.cases import Instant
from shared.case_access import ROLES as CASE_ROLES
from shared.case_access import Can
from shared.errors import Invalid, NotFound, PayloadTooLarge

MAX_BYTES = 10 * 1024 * 1024
CHUNK = 256 * 1024
FileId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$")]
# What a file's first bytes say it is; anything else is refused.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
    (b"%PDF-", "application/pdf", "pdf"),
    (b"II*\x00", "image/tiff", "tif"),
    (b"MM\x00*", "image/tiff", "tif"),
)
_SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)
# The media types a download may have: the ones sniffing accepts.
MEDIA = sorted({media for _, media, _ in _MAGIC} | {"image/webp"})


def sniff(head: bytes) -> tuple[str, str]:
    """Return the media type and extension of a file from its first bytes; raise ``Invalid``."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    for magic, media, extension in _MAGIC:
        if head.startswith(magic):
            return media, extension
    raise Invalid(
        "attach a PDF, PNG, JPEG, GIF, WebP or TIFF file (this one is none of them)",
        field="file",
    )


def safe_name(name: str | None, extension: str) -> str:
    """Return a download name: the given one without path or odd characters, the true extension."""
    stem = (name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    stem = _SAFE_NAME.sub("_", stem).strip(" ._")[:80] or "file"
    return f"{stem}.{extension}"


class AttachmentRead(BaseModel):
    """A file attached to a case (its name as the download will carry it)."""

    id: str
    name: str
    type: str = Field(description="the media type its first bytes showed")
    size: int = Field(description="bytes")
    by: str = Field(description="who attached it")
    at: Instant


class AttachmentsRead(BaseModel):
    """The files attached to a case, oldest first."""

    items: list[AttachmentRead]


router = APIRouter(prefix="/api/v1", tags=["attachments"])


@router.post("/cases/{case_id}/attachments", status_code=201)
async def attach(
    case_id: CaseId,
    user: CurrentUser,
    parts: Parts,
    routing: Routing,
    file: Annotated[UploadFile, File()],
) -> AttachmentRead:
    """Attach a file (PDF or image, at most 10 MB) to the case, with a note naming it."""
    user.require(*CASE_ROLES[Can.WORK])
    case = await load_case(routing, case_id, user)
    data = bytearray()
    while chunk := await file.read(CHUNK):
        data += chunk
        if len(data) > MAX_BYTES:
            raise PayloadTooLarge(f"an attachment is at most {MAX_BYTES // (1024 * 1024)} MB")
    if not data:
        raise Invalid("the file is empty", field="file")
    media, extension = sniff(bytes(data[:16]))
    name = safe_name(file.filename, extension)
    digest = hashlib.sha256(data).hexdigest()
    at = parts.clock.now()
    bucket = workspace_store.attachment_bucket(parts.store)
    file_id = await bucket.upload_from_stream(
        name,
        bytes(data),
        metadata={
            "case_id": case["id"],
            "by": user.username,
            "content_type": media,
            "sha256": digest,
            "at": at,
        },
    )
    size_kb = max(1, round(len(data) / 1024))
    try:
        await routing.call(
            "POST",
            case_path(case["id"], "notes"),
            user=user,
            json={"text": f"📎 {extension.upper()} {size_kb} KB · {file_id}"},
        )
    except Exception:
        await bucket.delete(file_id)  # the case refused the note: no orphan file
        raise
    return AttachmentRead(
        id=str(file_id),
        name=name,
        type=media,
        size=len(data),
        by=user.username,
        at=at.isoformat(),
    )


@router.get("/cases/{case_id}/attachments")
async def listing(
    case_id: CaseId, user: CurrentUser, parts: Parts, routing: Routing
) -> AttachmentsRead:
    """List the files attached to the case."""
    case = await load_case(routing, case_id, user)
    files = await workspace_store.case_attachments(parts.store, case_id=case["id"])
    return AttachmentsRead(
        items=[
            AttachmentRead(
                id=str(doc["_id"]),
                name=doc["filename"],
                type=doc["metadata"]["content_type"],
                size=doc["length"],
                by=doc["metadata"]["by"],
                at=doc["metadata"]["at"].isoformat(),
            )
            for doc in files
        ]
    )


@router.get(
    "/cases/{case_id}/attachments/{file_id}",
    response_class=Response,
    responses={
        200: {
            "description": "the file, as a download",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA
            },
        }
    },
)
async def download(
    case_id: CaseId, file_id: FileId, user: CurrentUser, parts: Parts, routing: Routing
) -> Response:
    """Download a file attached to the case."""
    case = await load_case(routing, case_id, user)
    try:
        stream = await workspace_store.attachment_bucket(parts.store).open_download_stream(
            ObjectId(file_id)
        )
    except (NoFile, InvalidId) as exc:
        raise NotFound(f"no attachment {file_id}") from exc
    metadata = stream.metadata or {}
    if metadata.get("case_id") != case["id"]:
        raise NotFound(f"no attachment {file_id}")
    body = await stream.read()
    return Response(
        body,
        media_type=metadata.get("content_type", "application/octet-stream"),
        headers={
            "Content-Disposition": f'attachment; filename="{stream.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
