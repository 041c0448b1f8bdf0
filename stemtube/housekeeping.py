"""The library's storage seen from above: what each song takes on disk and
who lists it, deleting a song or its stems for everyone, and the files that
belong to no item.

The admin's web routes and the terminal console both go through these, so
the rules (work in progress is left alone, running jobs are stopped before
their files go) are written once.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import aiosqlite

from stemtube import download as download_jobs
from stemtube import extraction as extraction_jobs
from stemtube import library, users
from stemtube.jobs import active_job_for


def size_of(folder: Path) -> int:
    """Bytes of the files under ``folder`` (links not followed)."""
    if not folder.is_dir():
        return 0
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file())


async def stored_downloads(db: aiosqlite.Connection, data_dir: Path) -> list[dict]:
    """Every song with its size on disk, its extractions and who lists it."""
    result = []
    for download in await library.all_downloads(db):
        folder = library.download_dir(data_dir, download["id"])
        stems = []
        for extraction in await library.download_extractions(db, download["id"]):
            where = library.stems_dir(data_dir, download["id"], extraction["id"])
            stems.append(
                {
                    "id": extraction["id"],
                    "model": extraction["model"],
                    "status": extraction["status"],
                    "size_on_disk": await asyncio.to_thread(size_of, where),
                }
            )
        result.append(
            {
                "global_download_id": download["id"],
                "video_id": download["video_id"],
                "title": download["title"],
                "source": download["source"],
                "status": download["status"],
                "file_size": download["file_size"],
                "size_on_disk": await asyncio.to_thread(size_of, folder),
                "extractions": download["extractions"],
                "extraction_details": stems,
                "users_with_access": await library.usernames_listing(
                    db, download["id"]
                ),
            }
        )
    return result


async def totals(db: aiosqlite.Connection, data_dir: Path) -> dict[str, Any]:
    """How many songs and extractions there are, and their bytes on disk."""
    counts = await library.storage_counts(db)
    total = await asyncio.to_thread(size_of, data_dir / "media")
    return {
        "total_downloads": counts["downloads"],
        "total_extractions": counts["extractions"],
        "total_size_bytes": total,
        "total_size_gb": round(total / 2**30, 3),
        "downloads_by_user": counts["by_user"],
    }


async def stop_work(db: aiosqlite.Connection, runner: Any, kind: str, target: int):
    """Stop the queued or running job of an item, if it has one."""
    job_id = await active_job_for(db, kind, target)
    if job_id is not None:
        await runner.cancel(job_id)


async def delete_everywhere(
    db: aiosqlite.Connection, data_dir: Path, runner: Any, download: dict
) -> int:
    """Delete a song from every list, with its jobs and files; files removed."""
    extractions = await library.download_extractions(db, download["id"])
    await stop_work(db, runner, download_jobs.KIND, download["id"])
    for extraction in extractions:
        await stop_work(db, runner, extraction_jobs.KIND, extraction["id"])
    return await library.delete_download(db, data_dir, download["id"])


async def delete_user(
    db: aiosqlite.Connection, data_dir: Path, runner: Any, user_id: int
) -> users.User:
    """Delete a user and their lists, and their own uploads nobody else lists.

    Raises users.UserError as ``users.delete_user`` does (the last admin).
    """
    own_uploads = [
        d
        for d in await library.user_downloads(db, user_id)
        if d["source"] == "upload" and d["created_by"] == user_id
    ]
    user = await users.delete_user(db, user_id)
    for download in own_uploads:
        if not await library.download_user_ids(db, download["id"]):
            await delete_everywhere(db, data_dir, runner, download)
    return user


async def reset_extractions(
    db: aiosqlite.Connection, data_dir: Path, runner: Any, download: dict
) -> list[int]:
    """Delete a song's extractions and stems so they can be made again."""
    extractions = await library.download_extractions(db, download["id"])
    for extraction in extractions:
        await stop_work(db, runner, extraction_jobs.KIND, extraction["id"])
        await library.delete_extraction(db, data_dir, extraction)
    return [e["id"] for e in extractions]


async def strays(
    db: aiosqlite.Connection, data_dir: Path, download: dict
) -> list[Path]:
    """The files and folders in a song's folder that belong to no item.

    Its audio file and the folders of its extractions belong; hidden paths
    are work in progress (a download, stems being written) and are left out.
    Deepest first, so they can be removed in this order.
    """
    folder = library.download_dir(data_dir, download["id"])
    if not folder.is_dir():
        return []
    keep = {data_dir / download["file_path"]} if download["file_path"] else set()
    for extraction in await library.download_extractions(db, download["id"]):
        keep.add(library.stems_dir(data_dir, download["id"], extraction["id"]))
    found = []
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path in keep or any(k in path.parents for k in keep):
            continue
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.is_dir() and any(k.is_relative_to(path) for k in keep):
            continue
        found.append(path)
    return found


async def orphans(db: aiosqlite.Connection, data_dir: Path) -> list[Path]:
    """What a cleanup would remove under ``media/``: the folders of songs
    that no longer exist, and each song's stray files (see :func:`strays`).
    """
    media = data_dir / "media"
    if not media.is_dir():
        return []
    downloads = {str(d["id"]): d for d in await library.all_downloads(db)}
    # Uploads being stored have rows that all_downloads leaves out.
    busy = {
        str(row[0])
        for row in await db.execute_fetchall(
            "SELECT id FROM downloads WHERE status = ?", (library.PROCESSING,)
        )
    }
    found: list[Path] = []
    for entry in sorted(media.iterdir()):
        if entry.name.startswith(".") or entry.name in busy:
            continue
        if entry.name not in downloads:
            found.append(entry)
        else:
            found.extend(await strays(db, data_dir, downloads[entry.name]))
    return found


def remove(paths: list[Path]) -> int:
    """Remove files and folders (deepest first, as listed); files removed."""
    removed = 0
    for path in paths:
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
        elif path.is_dir():
            removed += sum(1 for p in path.rglob("*") if p.is_file())
            shutil.rmtree(path, ignore_errors=True)
    return removed
