"""The caller's own lists: removing items, cleaning up, the disclaimer.

Taking an item off a list never deletes what other users still have; only
an admin's force-remove deletes files, and only files nobody else lists.
"""

from __future__ import annotations

import asyncio
import logging

from quart import Blueprint

from stemtube import housekeeping, library, users
from stemtube.api import schemas
from stemtube.api.common import ApiError, admin_required, caller, db, state
from stemtube.api.downloads import delete_everywhere, drop_from_list
from stemtube.api.extractions import drop_extraction

log = logging.getLogger(__name__)
bp = Blueprint("lists", __name__)


async def _remove_download(video_id: str) -> bool:
    download = await library.user_download(db(), caller().id, video_id)
    if download is None or download["status"] == library.PROCESSING:
        return False
    await drop_from_list(download)
    return True


async def _remove_extractions(video_id: str) -> bool:
    download = await library.find_download(db(), video_id)
    if download is None:
        return False
    extractions = await library.user_extractions(db(), caller().id, download["id"])
    for extraction in extractions:
        await drop_extraction(extraction)
    return bool(extractions)


@bp.delete("/api/user/downloads/<video_id>/remove-from-list")
@schemas.answers(schemas.Said)
async def remove_download_from_list(video_id: str):
    async with state().queue_lock:
        removed = await _remove_download(video_id)
    if not removed:
        raise ApiError(404, "DOWNLOAD_NOT_FOUND", "Download not found")
    return {"success": True, "message": "Removed from your list"}


@bp.delete("/api/user/extractions/<video_id>/remove-from-list")
@schemas.answers(schemas.Done)
async def remove_extractions_from_list(video_id: str):
    async with state().queue_lock:
        removed = await _remove_extractions(video_id)
    if not removed:
        raise ApiError(404, "EXTRACTION_NOT_FOUND", "Extraction not found")
    return {"success": True}


@bp.post("/api/user/downloads/bulk-remove-from-list")
@schemas.body(schemas.VideoIds)
@schemas.answers(schemas.Removed)
async def bulk_remove_downloads(data: schemas.VideoIds):
    video_ids = data.video_ids
    async with state().queue_lock:
        removed = [v for v in video_ids if await _remove_download(v)]
    return {"success": True, "removed_count": len(removed)}


@bp.post("/api/user/extractions/bulk-remove-from-list")
@schemas.body(schemas.VideoIds)
@schemas.answers(schemas.Removed)
async def bulk_remove_extractions(data: schemas.VideoIds):
    video_ids = data.video_ids
    async with state().queue_lock:
        removed = [v for v in video_ids if await _remove_extractions(v)]
    return {"success": True, "removed_count": len(removed)}


@bp.delete("/api/user/downloads/<video_id>/force-remove")
@admin_required
@schemas.answers(schemas.FilesDeleted)
async def force_remove(video_id: str):
    download = await library.find_download(db(), video_id)
    if download is None or download["status"] == library.PROCESSING:
        raise ApiError(404, "DOWNLOAD_NOT_FOUND", "Download not found")
    async with state().queue_lock:
        was_listed = await library.unlink_download(db(), caller().id, [download["id"]])
        others = await library.usernames_listing(db(), download["id"])
        if others:
            return {
                "success": True,
                "deleted_files": 0,
                "kept_for_users": len(others),
                "message": ("Removed from your list. " if was_listed else "")
                + f"The files stay: {len(others)} other user(s) still have this "
                "song on their list.",
            }
        deleted = await delete_everywhere(download)
    return {"success": True, "deleted_files": deleted, "kept_for_users": 0}


@bp.post("/api/user/cleanup/comprehensive")
@schemas.answers(schemas.Cleanup)
async def comprehensive_cleanup():
    """Drop the caller's links to items whose files are gone, and stray files.

    Stray files are what lies in the folders of the caller's own uploads
    without belonging to any item: leftovers of interrupted work.
    """
    data_dir = state().settings.data_dir
    user_id = caller().id
    removed_downloads = removed_extractions = removed_files = 0
    async with state().queue_lock:
        for download in await library.user_downloads(db(), user_id):
            missing = download["status"] == library.COMPLETED and not (
                download["file_path"] and (data_dir / download["file_path"]).is_file()
            )
            if missing:
                removed_downloads += await library.unlink_download(
                    db(), user_id, [download["id"]]
                )
        for extraction in await library.user_extractions(db(), user_id):
            if extraction["status"] != library.COMPLETED:
                continue
            paths = library.stems_paths(data_dir, extraction).values()
            if not all((data_dir / path).is_file() for path in paths):
                removed_extractions += await library.unlink_extractions(
                    db(), user_id, [extraction["id"]]
                )
        for download in await library.user_downloads(db(), user_id):
            if download["source"] == "upload" and download["created_by"] == user_id:
                removed_files += await _remove_strays(download)
    log.info(
        "user %s cleaned up: %d downloads, %d extractions, %d stray files",
        caller().username,
        removed_downloads,
        removed_extractions,
        removed_files,
    )
    return {
        "success": True,
        "removed_downloads": removed_downloads,
        "removed_extractions": removed_extractions,
        "removed_orphaned_files": removed_files,
    }


async def _remove_strays(download: dict) -> int:
    """Remove files in a download's folder that belong to no item; count them."""
    data_dir = state().settings.data_dir
    found = await housekeeping.strays(db(), data_dir, download)
    return await asyncio.to_thread(housekeeping.remove, found)


@bp.get("/api/user/disclaimer-status")
@schemas.answers(schemas.Disclaimer)
async def disclaimer_status():
    accepted_at = await users.disclaimer_accepted_at(db(), caller().id)
    return {"accepted": accepted_at is not None, "accepted_at": accepted_at}


@bp.post("/api/user/accept-disclaimer")
@schemas.answers(schemas.Done)
async def accept_disclaimer():
    accepted_at = await users.accept_disclaimer(db(), caller().id)
    return {"success": True, "accepted_at": accepted_at}
