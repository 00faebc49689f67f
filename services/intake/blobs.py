"""Payload bytes in the store: small ones inside their document, large ones in GridFS.

A MongoDB document holds at most 16 MiB, and a 25 MB mail or a long fax is
larger than that, so bytes above ``INLINE_MAX`` go to a GridFS bucket and the
document keeps only a reference.
"""

from __future__ import annotations

from typing import Any

from gridfs import AsyncGridFSBucket

from shared.store import Store

INLINE_MAX = 4 * 1024 * 1024
BUCKET = "blobs"


async def put_blob(
    store: Store, data: bytes, *, name: str, content_type: str, field: str = "data"
) -> dict[str, Any]:
    """Return the fields that hold ``data`` in a document: inline, or a GridFS reference."""
    if len(data) <= INLINE_MAX:
        return {field: data, "size": len(data)}
    bucket = AsyncGridFSBucket(store.db, bucket_name=BUCKET)
    file_id = await bucket.upload_from_stream(name, data, metadata={"content_type": content_type})
    return {field: None, "gridfs_id": file_id, "size": len(data)}


async def get_blob(store: Store, doc: dict[str, Any], *, field: str = "data") -> bytes:
    """Return the bytes a document holds, wherever they are."""
    if doc.get(field) is not None:
        return bytes(doc[field])
    bucket = AsyncGridFSBucket(store.db, bucket_name=BUCKET)
    stream = await bucket.open_download_stream(doc["gridfs_id"])
    return bytes(await stream.read())


async def drop_blob(store: Store, doc: dict[str, Any]) -> None:
    """Delete the GridFS file a document points at, if any."""
    if doc.get("gridfs_id") is not None:
        bucket = AsyncGridFSBucket(store.db, bucket_name=BUCKET)
        await bucket.delete(doc["gridfs_id"])
