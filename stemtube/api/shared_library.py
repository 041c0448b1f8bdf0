"""The shared library: every song someone fetched, for everyone to add.

A song fetched from a video site is in the library for every user; an
upload is there only if its uploader shared it. Adding one puts it on the
caller's list; nothing is copied.
"""

from __future__ import annotations

import json

from quart import Blueprint

from stemtube import library
from stemtube.api import schemas
from stemtube.api.common import ApiError, caller, db, state

bp = Blueprint("shared_library", __name__)


@bp.get("/api/library")
@schemas.answers(schemas.Library)
async def list_library():
    entries = []
    for row in await library.library_downloads(db(), caller().id):
        models = sorted(set(json.loads(row["models"] or "[]")))
        has_access = bool(row["user_has_access"])
        entries.append(
            {
                "global_download_id": row["id"],
                "video_id": row["video_id"],
                "title": row["title"],
                "author": row["author"],
                "duration": row["duration"],
                "thumbnail_url": row["thumbnail_url"],
                "source": row["source"],
                "has_extraction": bool(models),
                "extraction_models": models,
                "user_has_access": has_access,
                "can_add_to_library": not has_access,
            }
        )
    return {"library": entries}


async def shared_download(global_download_id: int) -> dict:
    download = await library.library_download(db(), global_download_id)
    if download is None:
        raise ApiError(404, "DOWNLOAD_NOT_FOUND", "Download not found")
    return download


@bp.post("/api/library/<int:global_download_id>/add-download")
@schemas.answers(schemas.Said)
async def add_download(global_download_id: int):
    download = await shared_download(global_download_id)
    had = await library.user_download(db(), caller().id, download["id"])
    await library.link_download(db(), caller().id, download["id"])
    message = "Already in your library" if had else "Added to your library"
    return {"success": True, "message": message}


@bp.post("/api/library/<int:global_download_id>/add-extraction")
@schemas.body(schemas.ModelChoice)
@schemas.answers(schemas.ExtractionAdded)
async def add_extraction(global_download_id: int, data: schemas.ModelChoice):
    """Add a finished extraction (``model``, else the default's or any) too."""
    download = await shared_download(global_download_id)
    model = data.model
    done = [
        e
        for e in await library.download_extractions(db(), download["id"])
        if e["status"] == library.COMPLETED and model in (None, e["model"])
    ]
    if not done:
        raise ApiError(
            404,
            "EXTRACTION_NOT_FOUND",
            "This song has no finished extraction"
            + (f" with {model[:64]}" if model else "")
            + "; start one instead.",
        )
    default = state().runtime["default_model"]
    chosen = next((e for e in done if e["model"] == default), done[0])
    await library.link_download(db(), caller().id, download["id"])
    await library.link_extraction(db(), caller().id, chosen["id"])
    return {"success": True, "extraction_id": chosen["id"], "model": chosen["model"]}
