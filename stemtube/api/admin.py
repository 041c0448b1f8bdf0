"""Admin routes: users, the library's storage seen from above, the job queue.

Every route here answers 403 to a user who is not an admin. The rules about
users (the last admin stays) live in ``stemtube.users``, shared with the
command line and the console.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from quart import Blueprint

from stemtube import housekeeping, job_queue, library, media, users
from stemtube.api import schemas
from stemtube.api.common import ApiError, admin_required, caller, db, state
from stemtube.api.downloads import delete_everywhere
from stemtube.api.search import source_error
from stemtube.providers import ProviderError

log = logging.getLogger(__name__)
bp = Blueprint("admin", __name__)

_USER_ERROR_STATUS = {"USER_NOT_FOUND": 404, "USERNAME_TAKEN": 409, "LAST_ADMIN": 409}


def _user_id(user_id: int) -> int:
    """A user id no row can have is a 404, as any unknown one."""
    if library.as_row_id(user_id) is None:
        raise ApiError(404, "USER_NOT_FOUND", "There is no such user.")
    return user_id


async def _user_call(action, *args, **kwargs):
    """Run a ``stemtube.users`` action; its UserError as a fitting answer."""
    try:
        return await action(db(), *args, **kwargs)
    except users.UserError as exc:
        status = _USER_ERROR_STATUS.get(exc.code, 400)
        raise ApiError(status, exc.code, exc.message) from None


# Users.


@bp.post("/admin/add_user")
@admin_required
@schemas.body(schemas.NewUser)
@schemas.answers(schemas.UserAdded)
async def add_user(data: schemas.NewUser):
    user = await _user_call(
        users.create_user,
        data.username,
        data.password,
        is_admin=data.is_admin or False,
    )
    log.info("admin %s added user %s", caller().username, user.username)
    return {"success": True, "user_id": user.id, "username": user.username}


@bp.post("/admin/edit_user")
@admin_required
@schemas.body(schemas.UserChange)
@schemas.answers(schemas.UserEdited)
async def edit_user(data: schemas.UserChange):
    user = await _user_call(
        users.edit_user,
        _user_id(data.user_id),
        username=data.username,
        is_admin=data.is_admin,
    )
    log.info("admin %s edited user %s", caller().username, user.username)
    return {"success": True, "username": user.username, "is_admin": user.is_admin}


@bp.post("/admin/reset_password")
@admin_required
@schemas.body(schemas.PasswordReset)
@schemas.answers(schemas.Done)
async def reset_password(data: schemas.PasswordReset):
    user = await _user_call(
        users.reset_password, _user_id(data.user_id), data.new_password
    )
    log.info("admin %s reset the password of %s", caller().username, user.username)
    return {"success": True}


@bp.post("/admin/delete_user")
@admin_required
@schemas.body(schemas.UserRef)
@schemas.answers(schemas.UserDeleted)
async def delete_user(data: schemas.UserRef):
    """Delete a user and their lists; their private uploads nobody else has go."""
    user_id = _user_id(data.user_id)
    st = state()
    async with st.queue_lock:
        user = await _user_call(
            housekeeping.delete_user, st.settings.data_dir, st.runner, user_id
        )
    log.warning("admin %s deleted user %s", caller().username, user.username)
    return {"success": True, "deleted_user": user.username}


@bp.get("/admin/users")
@admin_required
async def list_users():
    return {
        "users": [
            {"id": u.id, "username": u.username, "is_admin": u.is_admin}
            for u in await users.list_users(db())
        ]
    }


# Storage.


async def _any_download(video_id: str) -> dict:
    download = await library.find_download(db(), video_id)
    if download is None or download["status"] == library.PROCESSING:
        raise ApiError(404, "DOWNLOAD_NOT_FOUND", "Download not found")
    return download


@bp.get("/api/admin/cleanup/downloads")
@admin_required
@schemas.answers(schemas.StoredDownloads)
async def all_downloads():
    data_dir = state().settings.data_dir
    return {"downloads": await housekeeping.stored_downloads(db(), data_dir)}


@bp.get("/api/admin/cleanup/storage-stats")
@admin_required
@schemas.answers(schemas.StorageStats)
async def storage_stats():
    return await housekeeping.totals(db(), state().settings.data_dir)


@bp.delete("/api/admin/cleanup/downloads/<video_id>")
@admin_required
@schemas.answers(schemas.FilesDeleted)
async def delete_download(video_id: str):
    download = await _any_download(video_id)
    async with state().queue_lock:
        deleted = await delete_everywhere(download)
    return {"success": True, "deleted_files": deleted}


@bp.post("/api/admin/cleanup/downloads/<video_id>/reload")
@admin_required
@schemas.answers(schemas.Reloaded)
async def reload_metadata(video_id: str):
    """Read title, author and duration again: from the site, and the file."""
    download = await _any_download(video_id)
    if download["status"] != library.COMPLETED:
        raise ApiError(409, "DOWNLOAD_NOT_READY", "The song is not downloaded yet.")
    fields: dict[str, Any] = {}
    source = state().registry.sources.get(download["source"])
    if source is not None and hasattr(source, "video_info"):
        try:
            info = await asyncio.to_thread(source.video_info, video_id)
        except ProviderError as exc:
            raise source_error(exc) from None
        fields.update(title=info["title"], author=info["author"])
        if info["thumbnails"]:
            fields["thumbnail_url"] = info["thumbnails"][0]["url"]
    path = state().settings.data_dir / (download["file_path"] or "")
    try:
        probed = await asyncio.to_thread(media.probe, path)
    except (ProviderError, OSError):
        raise ApiError(
            409, "FILE_MISSING", "The song's file is missing or unreadable."
        ) from None
    fields.update(duration=probed.duration, sample_rate=probed.sample_rate)
    fields["channels"] = probed.channels
    if download["source"] == "upload" and probed.title:
        fields.update(title=probed.title, author=probed.artist)
    await library.update_download(db(), download["id"], **fields)
    return {
        "success": True,
        "updated_metadata": {
            k: fields[k] for k in ("title", "author", "duration") if k in fields
        },
    }


async def _reset_extractions(download: dict) -> list[int]:
    """Delete a download's extractions and stems so they can be made again."""
    st = state()
    return await housekeeping.reset_extractions(
        db(), st.settings.data_dir, st.runner, download
    )


@bp.post("/api/admin/cleanup/downloads/<int:global_download_id>/reset-extraction")
@admin_required
@schemas.answers(schemas.ExtractionReset)
async def reset_extraction_by_id(global_download_id: int):
    download = await library.get_download(db(), global_download_id)
    if download is None:
        raise ApiError(404, "DOWNLOAD_NOT_FOUND", "Download not found")
    async with state().queue_lock:
        reset = await _reset_extractions(download)
    return {
        "success": True,
        "extraction_id": max(reset) if reset else None,
        "reset_count": len(reset),
    }


@bp.post("/api/admin/cleanup/downloads/<video_id>/reset-extraction")
@admin_required
@schemas.answers(schemas.ResetCount)
async def reset_extraction_by_video(video_id: str):
    download = await _any_download(video_id)
    async with state().queue_lock:
        reset = await _reset_extractions(download)
    return {"success": True, "reset_count": len(reset)}


@bp.post("/api/admin/cleanup/downloads/bulk-delete")
@admin_required
@schemas.body(schemas.VideoIds)
@schemas.answers(schemas.BulkDeleted)
async def bulk_delete(data: schemas.VideoIds):
    deleted = files = 0
    async with state().queue_lock:
        for video_id in data.video_ids:
            download = await library.find_download(db(), video_id)
            if download is None or download["status"] == library.PROCESSING:
                continue
            files += await delete_everywhere(download)
            deleted += 1
    return {"success": True, "deleted_count": deleted, "total_files_deleted": files}


@bp.post("/api/admin/cleanup/downloads/bulk-reset")
@admin_required
@schemas.body(schemas.VideoIds)
@schemas.answers(schemas.ResetCount)
async def bulk_reset(data: schemas.VideoIds):
    count = 0
    async with state().queue_lock:
        for video_id in data.video_ids:
            download = await library.find_download(db(), video_id)
            if download is not None and await _reset_extractions(download):
                count += 1
    return {"success": True, "reset_count": count}


# The job queue (not in the reference): what waits, runs and failed.


async def _queue_call(action, job_id: int):
    """Run a ``stemtube.job_queue`` action; its QueueError as a fitting answer."""
    try:
        async with state().queue_lock:
            return await action(db(), state().runner, job_id)
    except job_queue.QueueError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None


@bp.get("/api/admin/jobs")
@admin_required
@schemas.answers(schemas.Jobs)
async def list_jobs():
    return {"jobs": await job_queue.list_jobs(db())}


@bp.post("/api/admin/jobs/<int:job_id>/cancel")
@admin_required
@schemas.answers(schemas.Said)
async def cancel_job(job_id: int):
    await _queue_call(job_queue.cancel, job_id)
    return {"success": True, "message": "Job cancelled"}


@bp.post("/api/admin/jobs/<int:job_id>/retry")
@admin_required
@schemas.answers(schemas.JobRetried)
async def retry_job(job_id: int):
    new_id = await _queue_call(job_queue.retry, job_id)
    return {"success": True, "job_id": new_id, "message": "Job queued again"}
