"""Download jobs: fetch a song from a video source into the library.

A download is one global row per video id, fetched once however many users
ask for it; every user waiting on it hears its ``download_progress`` events.
The fetch mostly waits on the network, so it runs in a thread of the server
(the runner's ``in_thread`` mode), and the file is moved into place only when
it is complete and decodes as audio.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite

from stemtube import library, media
from stemtube.config import Settings
from stemtube.jobs import Job
from stemtube.providers import MediaItem, ProviderError

log = logging.getLogger(__name__)

KIND = "download"

#: emit(event name, data, user ids)
Emitter = Callable[[str, dict, list[int]], Awaitable[None]]


def incoming_dir(data_dir: Path, download_id: int) -> Path:
    """Where a download's file grows until it is complete."""
    return library.download_dir(data_dir, download_id) / ".incoming"


def progress_event(download: dict, **fields: Any) -> dict:
    """A ``download_progress`` event for the download's row, with ``fields``."""
    return {
        "video_id": download["video_id"],
        "global_download_id": download["id"],
        "title": download["title"],
        "progress": round(download["progress"], 1),
        "speed": "",
        "eta": "",
        "message": download["message"],
        **fields,
    }


class DownloadHandler:
    """Connects download jobs to the library, the sources and users' events."""

    in_thread = True

    def __init__(
        self,
        db: aiosqlite.Connection,
        settings: Settings,
        sources: dict[str, Any],
        emit: Emitter,
        notify: Callable[..., None],
    ) -> None:
        self.db = db
        self.settings = settings
        self.sources = sources
        self.emit = emit
        self.notify = notify

    def worker(self, settings: Settings, spec: dict, send: Callable[..., None]) -> dict:
        """The thread side: fetch, check that it is audio, move it into place."""
        source = self.sources.get(spec["source"])
        if source is None:
            raise ProviderError(
                "SOURCE_UNAVAILABLE",
                f"The {spec['source']} source is not loaded on this server.",
            )
        incoming = Path(spec["incoming"])
        item, path = source.download(
            spec["video_id"],
            incoming,
            lambda percent, message, details: send(
                "progress", percent, message, details
            ),
        )
        send("progress", 99.5, "Checking the audio", {})
        info = media.probe(path)  # raises NOT_AUDIO for what cannot be decoded

        folder = incoming.parent
        for old in folder.glob("source.*"):
            old.unlink()
        target = folder / f"source.{item.extension or 'bin'}"
        os.replace(path, target)
        shutil.rmtree(incoming, ignore_errors=True)
        item = dataclasses.replace(
            item,
            duration=info.duration,
            sample_rate=info.sample_rate,
            channels=info.channels,
        )
        return {
            "item": dataclasses.asdict(item),
            "file_path": library.relative_path(settings.data_dir, target),
            "file_size": target.stat().st_size,
        }

    async def prepare(self, job: Job) -> dict | None:
        download = await library.get_download(self.db, job.target_id)
        if download is None or download["status"] == library.COMPLETED:
            return None
        await library.update_download(
            self.db,
            download["id"],
            status=library.DOWNLOADING,
            progress=0,
            message="Starting download",
            error_code=None,
        )
        await self._tell(job, status=library.DOWNLOADING)
        return {
            "video_id": download["video_id"],
            "source": download["source"],
            "incoming": str(incoming_dir(self.settings.data_dir, download["id"])),
        }

    async def progress(
        self, job: Job, percent: float, message: str, details: dict
    ) -> None:
        await library.update_download(
            self.db, job.target_id, progress=percent, message=message
        )
        await self._tell(
            job,
            status=library.DOWNLOADING,
            speed=details.get("speed", ""),
            eta=details.get("eta", ""),
        )

    async def completed(self, job: Job, result: dict) -> None:
        item = MediaItem(**result["item"])
        await library.update_download(
            self.db,
            job.target_id,
            title=item.title,
            author=item.author,
            duration=item.duration,
            thumbnail_url=item.thumbnail_url,
            sample_rate=item.sample_rate,
            channels=item.channels,
            extra=item.extra,
            file_path=result["file_path"],
            file_size=result["file_size"],
            status=library.COMPLETED,
            progress=100,
            message="Download complete",
            error_code=None,
        )
        download = await self._tell(job, status=library.COMPLETED)
        if download is not None:
            self.notify("download_finished", download=download)

    async def failed(self, job: Job, code: str, message: str) -> None:
        await library.update_download(
            self.db,
            job.target_id,
            status=library.FAILED,
            message=message,
            error_code=code,
        )
        shutil.rmtree(
            incoming_dir(self.settings.data_dir, job.target_id), ignore_errors=True
        )
        await self._tell(job, status=library.FAILED, error=message, code=code)

    async def _tell(self, job: Job, **fields: Any) -> dict | None:
        """Send ``download_progress`` to every user waiting on the download."""
        download = await library.get_download(self.db, job.target_id)
        if download is None:
            return None
        await self.emit(
            "download_progress",
            progress_event(download, **fields),
            await library.download_user_ids(self.db, download["id"]),
        )
        return download
