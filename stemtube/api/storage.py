"""Files by path: download, stream and list them, zip stems, open a folder.

A ``path`` is relative to the data folder (as ``file_path`` and
``stems_paths`` are given) or absolute. It is resolved with its links
followed, and it must then lie in the folder of a song on the caller's list
(stems: of an extraction on their list); a path outside the data folder is
403, one the caller may not see is 404, and both are logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import unicodedata
import uuid
import zipfile
from pathlib import Path
from urllib.parse import quote

from quart import Blueprint, request
from quart_schema import validate_querystring

from stemtube import library
from stemtube.api import schemas
from stemtube.api.common import ApiError, caller, db, state
from stemtube.api.files import send_ranged

log = logging.getLogger(__name__)
bp = Blueprint("storage", __name__)

MAX_PATH = 1024
MAX_NAME = 120
#: Bytes of a name in UTF-8; file systems allow 255 with the suffix.
MAX_NAME_BYTES = 200
_AUDIO_TYPES = {".ogg": "audio/ogg", ".opus": "audio/ogg", ".m4a": "audio/mp4"}


def safe_filename(title: str, suffix: str = "") -> str:
    """A file name made from a title: no path or reserved characters.

    Letters of every script are kept; control characters and ``/ \\ : * ? "
    < > |`` become spaces, trailing dots and spaces go (Windows drops
    them), and the name is capped at 120 characters (and 200 bytes in
    UTF-8) before ``suffix``.
    """
    text = unicodedata.normalize("NFC", title or "")
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    text = re.sub(r'[/\\:*?"<>|]+', " ", text)
    text = re.sub(r"\s+", " ", text).lstrip(". ").strip()
    text = text[:MAX_NAME]
    while len(text.encode()) > MAX_NAME_BYTES:  # file systems count bytes
        text = text[:-1]
    text = text.rstrip(". ")
    return (text or "stems") + suffix


async def visible_path(raw: object) -> Path:
    """The resolved path when the caller may reach it; else 400, 403 or 404."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_PATH or "\0" in raw:
        raise ApiError(400, "INVALID_PATH", "path must be a file path (text)")
    data_dir = state().settings.data_dir.resolve()
    media = data_dir / "media"
    candidate = Path(raw) if Path(raw).is_absolute() else data_dir / raw
    try:
        resolved = candidate.resolve()  # links followed as far as they exist
    except (OSError, RuntimeError):  # a loop of links
        raise ApiError(404, "FILE_NOT_FOUND", "File not found") from None
    if not resolved.is_relative_to(media):
        log.warning(
            "user %s asked for a path outside the library: %r",
            caller().username,
            raw[:200],
        )
        raise ApiError(403, "PATH_FORBIDDEN", "That path is outside the library")
    try:
        exists = resolved.exists()
    except OSError:  # a name longer than the file system allows
        exists = False
    if not exists or not await _may_see(resolved.relative_to(media).parts):
        log.warning(
            "user %s asked for a path not theirs: %r", caller().username, raw[:200]
        )
        raise ApiError(404, "FILE_NOT_FOUND", "File not found")
    return resolved


async def _may_see(parts: tuple[str, ...]) -> bool:
    """Whether ``media/<parts>`` belongs to a song (and stems) on the list."""
    if not parts or any(part.startswith(".") for part in parts):
        return False
    download_id = library.as_row_id(parts[0])
    if download_id is None:
        return False
    download = await library.user_download(db(), caller().id, download_id)
    if download is None or download["status"] != library.COMPLETED:
        return False
    if len(parts) >= 2 and parts[1] == "stems":
        if len(parts) == 2:
            return True
        extraction_id = library.as_row_id(parts[2])
        extraction = (
            await library.user_extraction(db(), caller().id, extraction_id)
            if extraction_id is not None
            else None
        )
        return extraction is not None and extraction["download_id"] == download_id
    return True


async def _attachment_name(path: Path) -> str:
    """A file's name for the user: the song's title rather than our ids."""
    data_dir = state().settings.data_dir.resolve()
    parts = path.relative_to(data_dir / "media").parts
    download = await library.get_download(db(), parts[0])
    title = download["title"] if download else ""
    if len(parts) == 2 and path.stem == "source":
        return safe_filename(title, path.suffix)
    if len(parts) == 4 and path.suffix == ".wav":
        return safe_filename(f"{title} - {path.stem}", ".wav")
    return path.name


@bp.get("/api/download-file")
@validate_querystring(schemas.PathQuery)
async def download_file(query_args: schemas.PathQuery):
    path = await visible_path(query_args.path)
    if not path.is_file():
        raise ApiError(404, "FILE_NOT_FOUND", "File not found")
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return await send_ranged(
        path, mimetype, attachment_name=await _attachment_name(path)
    )


@bp.route("/api/stream-audio", methods=["GET", "HEAD"])
@validate_querystring(schemas.PathQuery)
async def stream_audio(query_args: schemas.PathQuery):
    path = await visible_path(query_args.path)
    if not path.is_file():
        raise ApiError(404, "FILE_NOT_FOUND", "File not found")
    mimetype = (
        _AUDIO_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    )
    if not mimetype or not mimetype.startswith(("audio/", "video/")):
        raise ApiError(415, "NOT_AUDIO", "That file is not audio")
    return await send_ranged(path, mimetype)


@bp.post("/api/list-files")
@schemas.body(schemas.PathRef)
@schemas.answers(schemas.Files)
async def list_files(data: schemas.PathRef):
    folder = await visible_path(data.path)
    if not folder.is_dir():
        raise ApiError(400, "NOT_A_FOLDER", "path is a file, not a folder")
    data_dir = state().settings.data_dir.resolve()
    media = data_dir / "media"
    files = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink() or not await _may_see(entry.relative_to(media).parts):
            continue
        item = {
            "name": entry.name,
            "path": entry.relative_to(data_dir).as_posix(),
            "is_directory": entry.is_dir(),
        }
        if entry.is_file():
            item["size"] = entry.stat().st_size
        files.append(item)
    return {"files": files}


@bp.post("/api/extractions/<int:extraction_id>/create-zip")
@schemas.answers(schemas.Zip)
async def create_zip(extraction_id: int):
    """Zip an extraction's stems, named from the song's title, for download."""
    extraction = await library.user_extraction(db(), caller().id, extraction_id)
    if extraction is None or extraction["status"] != library.COMPLETED:
        raise ApiError(404, "EXTRACTION_NOT_FOUND", "Extraction not found")
    data_dir = state().settings.data_dir
    folder = library.stems_dir(data_dir, extraction["download_id"], extraction_id)
    name = safe_filename(f"{extraction['title']} ({extraction['model']})", ".zip")
    stems = json.loads(extraction["stems"])
    try:
        target = await asyncio.to_thread(
            _write_zip, folder, name, extraction["title"], stems
        )
    except FileNotFoundError:
        raise ApiError(404, "STEM_NOT_FOUND", "A stem file is missing") from None
    relative = target.relative_to(data_dir).as_posix()
    return {
        "success": True,
        "zip_path": relative,
        "filename": name,
        "download_url": "/api/download-file?path="
        + "/".join(map(_quote, relative.split("/"))),
    }


def _quote(part: str) -> str:
    return quote(part, safe="")


def _write_zip(folder: Path, name: str, title: str, stems: list[str]) -> Path:
    """``folder/zip/name`` holding the stems; made once, then reused."""
    target = folder / "zip" / name
    if target.is_file():
        return target
    target.parent.mkdir(exist_ok=True)
    tmp = target.with_name(f".{uuid.uuid4().hex}.part")
    try:
        # WAV barely compresses; storing keeps the export fast.
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
            for stem in stems:
                archive.write(
                    folder / f"{stem}.wav", safe_filename(f"{title} - {stem}", ".wav")
                )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


@bp.post("/api/open-folder")
@schemas.body(schemas.PathRef)
@schemas.answers(schemas.Done)
async def open_folder(data: schemas.PathRef):
    """Open an item's folder in the server's file manager (its own desktop)."""
    path = await visible_path(data.path)
    folder = path if path.is_dir() else path.parent
    reason = _cannot_open_here()
    if reason:
        raise ApiError(403, "OPEN_FOLDER_UNAVAILABLE", reason)
    opener = {"darwin": ["open"], "win32": ["explorer"]}.get(sys.platform, ["xdg-open"])
    subprocess.Popen(
        [*opener, str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return {"success": True}


def _cannot_open_here() -> str | None:
    """Why the server cannot show a folder to this caller, or None."""
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    if request.remote_addr not in ("127.0.0.1", "::1") or forwarded:
        return (
            "Folders open on the server's own screen, so only from the server itself."
        )
    if sys.platform not in ("darwin", "win32"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return "The server has no desktop to open a folder on."
        if shutil.which("xdg-open") is None:
            return "The server has no file manager (xdg-open) to open a folder with."
    return None
