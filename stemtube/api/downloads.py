"""The caller's downloads: fetching songs, listing them, extraction status.

A download is global: the first user to ask for a video starts its fetch,
later askers join it, and everyone who asked has it on their list. Taking
it off a list never deletes files; only an admin does that.
"""

from __future__ import annotations

import logging

from quart import Blueprint

from stemtube import housekeeping, jobs, library
from stemtube.api import schemas
from stemtube.api.common import (
    ApiError,
    admin_required,
    caller,
    cancel_job,
    db,
    queue_job,
    state,
)
from stemtube.api.search import video_source
from stemtube.download import KIND, progress_event
from stemtube.providers import MediaItem, ProviderError

log = logging.getLogger(__name__)
bp = Blueprint("downloads", __name__)


async def visible_download(ref: str, *, ready: bool = True) -> dict:
    """A download on the caller's list, by global id or video id, or 404.

    With ``ready``, one still being fetched (or whose fetch failed) is a 409.
    """
    download = await library.user_download(db(), caller().id, ref)
    if download is None or download["status"] == library.PROCESSING:
        raise ApiError(404, "DOWNLOAD_NOT_FOUND", "Download not found")
    if ready and download["status"] != library.COMPLETED:
        raise ApiError(
            409,
            "DOWNLOAD_NOT_READY",
            "The song is not downloaded yet"
            + (": its download failed." if download["status"] == "failed" else "."),
        )
    return download


@bp.post("/api/downloads")
@schemas.body(schemas.DownloadRequest)
@schemas.answers(schemas.DownloadStarted)
async def start_download(data: schemas.DownloadRequest):
    video_id, url = data.video_id, data.url
    source = video_source()
    if video_id:
        if not source.is_video_id(video_id):
            raise ApiError(
                400,
                "INVALID_VIDEO_ID",
                "A YouTube video id is 11 letters, digits, - or _.",
            )
    elif url:
        try:
            video_id = source.video_id_from_url(url)
        except ProviderError as exc:
            raise ApiError(400, exc.code, exc.message) from None
    else:
        raise ApiError(
            400, "MISSING_VIDEO_ID", "Missing required parameter: video_id or url"
        )

    async with state().queue_lock:
        download, started, message = await _request_download(source, video_id)
    log.info("user %s asked for %s: %s", caller().username, video_id, message.lower())
    return {
        "success": True,
        "video_id": video_id,
        "title": download["title"],
        "download_started": started,
        "global_download_id": download["id"],
        "status": download["status"],
        "message": message,
    }


async def _request_download(source, video_id: str) -> tuple[dict, bool, str]:
    """Put the video on the caller's list, fetching it unless done or under way.

    Returns the download's row, whether a fetch is under way, and what
    happened.
    """
    download = await library.find_download(db(), video_id)
    if download is None:
        title = source.known_title(video_id) or video_id
        download = await library.insert_download(
            db(),
            MediaItem(video_id=video_id, title=title),
            source=source.name,
            content_hash=None,
            file_size=0,
            created_by=caller().id,
            status=library.QUEUED,
        )
        await library.link_download(db(), caller().id, download["id"])
        await queue_download(download["id"])
        message = "Download started"
    else:
        await library.link_download(db(), caller().id, download["id"])
        if download["status"] == library.COMPLETED:
            return download, False, "Already downloaded"
        if download["status"] == library.FAILED:
            await queue_download(download["id"])
            message = "Download restarted"
        elif await jobs.active_job_for(db(), KIND, download["id"]) is None:
            await queue_download(download["id"])
            message = "Download started"
        else:
            message = "Download already in progress"
    return await library.get_download(db(), download["id"]), True, message


async def queue_download(download_id: int) -> None:
    await queue_job(KIND, download_id)


async def drop_from_list(download: dict) -> None:
    """Take a download off the caller's list; stop a fetch nobody waits for.

    A download that never finished and is on nobody's list any more is
    deleted with its partial files; a finished one stays in the library.
    """
    await library.unlink_download(db(), caller().id, [download["id"]])
    if download["status"] == library.COMPLETED:
        return
    if await library.download_user_ids(db(), download["id"]):
        return
    await cancel_job(KIND, download["id"])
    await library.delete_download(db(), state().settings.data_dir, download["id"])


@bp.post("/api/downloads/<download_id>/retry")
@schemas.answers(schemas.Said)
async def retry_download(download_id: str):
    download = await visible_download(download_id, ready=False)
    async with state().queue_lock:
        download = await library.get_download(db(), download["id"])
        if download["status"] != library.FAILED:
            raise ApiError(
                409,
                "NOT_FAILED",
                "Only a failed download can be retried; this one is "
                f"{download['status']}.",
            )
        await queue_download(download["id"])
    return {"success": True, "message": "Download retry initiated"}


@bp.delete("/api/downloads/clear-all")
@schemas.answers(schemas.Deleted)
async def clear_all_downloads():
    count = 0
    async with state().queue_lock:
        for download in await library.user_downloads(db(), caller().id):
            await drop_from_list(download)
            count += 1
    return {"success": True, "deleted_count": count}


@bp.delete("/api/downloads/<download_id>")
@schemas.answers(schemas.Said)
async def remove_download(download_id: str):
    download = await visible_download(download_id, ready=False)
    async with state().queue_lock:
        await drop_from_list(download)
    return {"success": True, "message": "Download removed from your list"}


@bp.delete("/api/downloads/<download_id>/delete")
@admin_required
@schemas.answers(schemas.FilesDeleted)
async def delete_download(download_id: str):
    download = await library.get_download(db(), download_id)
    if download is None:
        raise ApiError(404, "DOWNLOAD_NOT_FOUND", "Download not found")
    async with state().queue_lock:
        deleted = await delete_everywhere(download)
    return {"success": True, "deleted_files": deleted}


async def delete_everywhere(download: dict) -> int:
    """Delete a global download from every list, with its jobs and files.

    Returns how many files were removed. Users waiting on a download still
    under way are told it ended, or they would wait for ever.
    """
    st = state()
    waiting = await library.download_user_ids(db(), download["id"])
    deleted = await housekeeping.delete_everywhere(
        db(), st.settings.data_dir, st.runner, download
    )
    log.warning(
        "admin %s deleted download %s (%s) and %d files",
        caller().username,
        download["id"],
        download["video_id"],
        deleted,
    )
    if download["status"] != library.COMPLETED:
        message = "An admin deleted this download."
        await st.emit(
            "download_progress",
            progress_event(
                download,
                status=library.FAILED,
                message=message,
                error=message,
                code="DELETED",
            ),
            waiting,
        )
    return deleted


@bp.get("/api/downloads")
@schemas.answers(schemas.Downloads)
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
@schemas.answers(schemas.DownloadDetails)
async def get_download(download_id: str):
    download = await visible_download(download_id, ready=False)
    extractions = await library.user_extractions(db(), caller().id, download["id"])
    return library.download_view(
        download,
        extractions,
        state().settings.data_dir,
        detail=True,
        found=await library.analyses(db(), download["id"]),
    )


@bp.get("/api/downloads/<video_id>/extraction-status")
@schemas.answers(schemas.ExtractionStatus)
async def extraction_status(video_id: str):
    download = await visible_download(video_id, ready=False)
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
