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
from collections.abc import Callable
from typing import Annotated, Any

from bson import ObjectId
from bson.errors import InvalidId
from fastapi import APIRouter, Depends, File, Path, UploadFile
from fastapi.responses import Response
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile

from services.console.auth import User
from services.console.clients import (
    CaseId,
    ServiceClient,
    case_path,
    load_case,
)
from shared.case_access import ROLES as CASE_ROLES
from shared.case_access import Can
from shared.errors import Invalid, NotFound, PayloadTooLarge
from shared.runtime import Runtime

BUCKET = "attachments"
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


def router(
    runtime: Runtime, *, current_user: Callable[..., Any], routing: ServiceClient
) -> APIRouter:
    """Return the attachment routes (registered before the case action route)."""
    api = APIRouter(prefix="/api/v1", tags=["attachments"])
    CurrentUser = Annotated[User, Depends(current_user)]

    def bucket() -> AsyncGridFSBucket:
        return AsyncGridFSBucket(runtime.store.db, bucket_name=BUCKET)

    async def load(case_id: str, user: User) -> dict[str, Any]:
        return await load_case(routing, case_id, user)

    @api.post("/cases/{case_id}/attachments", status_code=201)
    async def attach(
        case_id: CaseId, user: CurrentUser, file: Annotated[UploadFile, File()]
    ) -> dict[str, Any]:
        user.require(*CASE_ROLES[Can.WORK])
        case = await load(case_id, user)
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
        at = runtime.clock.now()
        file_id = await bucket().upload_from_stream(
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
            await bucket().delete(file_id)  # the case refused the note: no orphan file
            raise
        return _view(str(file_id), name, media, len(data), user.username, at.isoformat())

    @api.get("/cases/{case_id}/attachments")
    async def listing(case_id: CaseId, user: CurrentUser) -> dict[str, Any]:
        case = await load(case_id, user)
        cursor = runtime.store[f"{BUCKET}.files"].find({"metadata.case_id": case["id"]})
        items = [
            _view(
                str(doc["_id"]),
                doc["filename"],
                doc["metadata"]["content_type"],
                doc["length"],
                doc["metadata"]["by"],
                doc["metadata"]["at"].isoformat(),
            )
            async for doc in cursor.sort("uploadDate", 1)
        ]
        return {"items": items}

    @api.get("/cases/{case_id}/attachments/{file_id}")
    async def download(case_id: CaseId, file_id: FileId, user: CurrentUser) -> Response:
        case = await load(case_id, user)
        try:
            stream = await bucket().open_download_stream(ObjectId(file_id))
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

    return api


def _view(file_id: str, name: str, media: str, size: int, by: str, at: str) -> dict[str, Any]:
    return {"id": file_id, "name": name, "type": media, "size": size, "by": by, "at": at}
