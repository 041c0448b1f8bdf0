"""The caller's downloads: ``/api/downloads`` and extraction status."""

from __future__ import annotations

from quart import Blueprint

from stemtube import library
from stemtube.api.common import ApiError, caller, db, state

bp = Blueprint("downloads", __name__)


async def visible_download(ref: str) -> dict:
    """A download on the caller's list, by global id or video id, or 404."""
    download = await library.user_download(db(), caller().id, ref)
    if download is None or download["status"] != "completed":
        raise ApiError(404, "DOWNLOAD_NOT_FOUND", "Download not found")
    return download


@bp.get("/api/downloads")
async def list_downloads():
    data_dir = state().settings.data_dir
    user_id = caller().id
    extractions = await library.user_extractions(db(), user_id)
    result = []
    for download in await library.user_downloads(db(), user_id):
        own = [e for e in extractions if e["download_id"] == download["id"]]
        result.append(library.download_view(download, own, data_dir))
    return {"downloads": result}


@bp.get("/api/downloads/<download_id>")
async def get_download(download_id: str):
    download = await visible_download(download_id)
    extractions = await library.user_extractions(db(), caller().id, download["id"])
    return library.download_view(
        download, extractions, state().settings.data_dir, detail=True
    )


@bp.get("/api/downloads/<video_id>/extraction-status")
async def extraction_status(video_id: str):
    download = await visible_download(video_id)
    extractions = await library.user_extractions(db(), caller().id, download["id"])
    if not extractions:
        return {
            "status": "not_started",
            "extraction_id": None,
            "progress": 0,
            "message": "No extraction yet",
            "stems_paths": {},
        }
    completed = [e for e in extractions if e["status"] == library.COMPLETED]
    current = completed[0] if completed else extractions[0]
    status = current["status"]
    if status == library.QUEUED:
        # The API's statuses have no "queued": waiting work counts as under way.
        status = library.EXTRACTING
    return {
        "status": status,
        "extraction_id": current["id"],
        "model": current["model"],
        "progress": round(current["progress"], 1),
        "message": current["message"],
        "error_code": current["error_code"],
        "stems_paths": library.stems_paths(state().settings.data_dir, current),
    }
