"""Files in and out: uploads, and streaming stems with byte ranges."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from quart import Blueprint, request, send_file
from werkzeug.datastructures import ContentRange

from stemtube import library
from stemtube.api import schemas
from stemtube.api.common import ApiError, caller, db, state
from stemtube.providers import ProviderError

log = logging.getLogger(__name__)
bp = Blueprint("files", __name__)

STEM_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


def _store_stream(stream: BinaryIO, target: Path, limit: int) -> tuple[str, int]:
    """Copy an upload to ``target`` while hashing it; stop past ``limit`` bytes."""
    digest = hashlib.sha256()
    size = 0
    with open(target, "wb") as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise ApiError(413, "FILE_TOO_LARGE", _too_large_message(limit))
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def _too_large_message(limit: int) -> str:
    return f"The file is larger than the upload limit of {limit // 2**20} MB."


@bp.post("/api/upload-file")
@schemas.answers(schemas.Upload)
async def upload_file():
    st = state()
    limit = st.settings.storage.max_upload_mb * 2**20
    source = st.registry.file_source()
    if source is None:
        raise ApiError(
            503, "UPLOADS_DISABLED", "Uploads are turned off on this server."
        )

    files = await request.files
    upload = files.get("file")
    if upload is None:
        raise ApiError(400, "NO_FILE", "Send the song in the form field 'file'.")
    # A client may send no name; the title then comes from the file's tags.
    filename = Path((upload.filename or "").replace("\\", "/")).name[:255]
    filename = filename or "upload"

    tmp_dir = st.settings.data_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"upload-{uuid.uuid4().hex}"
    try:
        content_hash, size = await asyncio.to_thread(
            _store_stream, upload.stream, tmp, limit
        )
        try:
            item = await asyncio.to_thread(
                source.describe_file, tmp, filename, content_hash
            )
        except ProviderError as exc:
            raise ApiError(400, exc.code, exc.message) from None
        download = await _store_upload(item, tmp, content_hash, size, source.name)
    finally:
        tmp.unlink(missing_ok=True)
        upload.stream.close()

    await library.link_download(db(), caller().id, download["id"])
    log.info(
        "user %s uploaded %s as %s", caller().username, filename, download["video_id"]
    )
    return {
        "success": True,
        "video_id": download["video_id"],
        "global_download_id": download["id"],
        "filename": filename,
        "title": download["title"],
        "duration": download["duration"],
        "file_size": download["file_size"],
    }


async def _store_upload(item, tmp: Path, content_hash: str, size: int, source: str):
    """The global download for this content, creating it if it is new."""
    st = state()
    existing = await library.find_download(db(), item.video_id)
    if existing and existing["status"] == "completed":
        return existing
    download = await library.insert_download(
        db(),
        item,
        source=source,
        content_hash=content_hash,
        file_size=size,
        created_by=caller().id,
    )
    if download is None:
        # Another request stored the same content a moment ago.
        for _ in range(50):
            existing = await library.find_download(db(), item.video_id)
            if existing and existing["status"] == "completed":
                return existing
            await asyncio.sleep(0.1)
        raise ApiError(409, "UPLOAD_BUSY", "The same file is being stored; try again.")

    folder = library.download_dir(st.settings.data_dir, download["id"])
    target = folder / f"source.{item.extension or 'bin'}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
    except OSError:
        await library.delete_download_row(db(), download["id"])
        shutil.rmtree(folder, ignore_errors=True)
        raise
    relative = library.relative_path(st.settings.data_dir, target)
    await library.finish_download(db(), download["id"], relative)
    download = await library.find_download(db(), item.video_id)
    st.registry.notify("download_finished", download=download)
    return download


def requested_span(size: int) -> tuple[int, int] | None:
    """The byte span ``[start, stop)`` the request's Range asks for, if any.

    A Range that cannot be read, asks for several spans or comes with
    If-Range is ignored, so the whole file is sent; one that lies past the
    end of the file is answered 416.
    """
    if "Range" not in request.headers or "If-Range" in request.headers:
        return None
    wanted = request.range
    if wanted is None or wanted.units != "bytes" or len(wanted.ranges) != 1:
        return None
    span = wanted.range_for_length(size)
    if span is None:
        raise ApiError(
            416,
            "RANGE_NOT_SATISFIABLE",
            f"The range lies outside the file's {size} bytes",
            {"Content-Range": f"bytes */{size}"},
        )
    return span


@bp.route(
    "/api/extracted_stems/<int:extraction_id>/<stem_name>", methods=["GET", "HEAD"]
)
async def extracted_stem(extraction_id: int, stem_name: str):
    extraction = await library.user_extraction(db(), caller().id, extraction_id)
    if extraction is None or extraction["status"] != library.COMPLETED:
        raise ApiError(404, "EXTRACTION_NOT_FOUND", "Extraction not found")
    stem_name = stem_name.removesuffix(".wav")
    if not STEM_NAME.match(stem_name) or stem_name not in json.loads(
        extraction["stems"]
    ):
        raise ApiError(404, "STEM_NOT_FOUND", f"No stem {stem_name[:32]!r} here")
    path = (
        library.stems_dir(
            state().settings.data_dir, extraction["download_id"], extraction_id
        )
        / f"{stem_name}.wav"
    )
    if not path.is_file():
        raise ApiError(404, "STEM_NOT_FOUND", "The stem file is missing")
    return await send_ranged(path, "audio/wav")


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_")
    fallback = fallback.replace("\\", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


async def send_ranged(path: Path, mimetype: str, *, attachment_name: str | None = None):
    """The file with byte ranges (206, Content-Range), kept out of shared caches."""
    size = path.stat().st_size
    span = requested_span(size)
    # Ranges are handled here: Quart's own handling fails on suffix ranges.
    response = await send_file(
        path, mimetype=mimetype, conditional="Range" not in request.headers
    )
    if attachment_name is not None:
        response.headers["Content-Disposition"] = content_disposition(attachment_name)
    if span is not None:
        start, stop = span
        await response.response.make_conditional(start, stop)
        response.status_code = 206
        response.content_length = stop - start
        response.content_range = ContentRange("bytes", start, stop, size)
    response.headers["Accept-Ranges"] = "bytes"
    response.cache_control.public = False
    response.cache_control.private = True
    return response
