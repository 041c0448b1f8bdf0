"""Extraction jobs: split a global download into stems in a worker process."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite

from stemtube import library, media
from stemtube.config import Settings
from stemtube.db import fetch_row
from stemtube.jobs import Job
from stemtube.providers import ProviderError

log = logging.getLogger(__name__)

KIND = "extraction"

#: emit(event name, data, user ids)
Emitter = Callable[[str, dict, list[int]], Awaitable[None]]


def settings_key(settings: Settings) -> str:
    """The settings that change a separation's result; part of its identity."""
    sep = settings.separation
    return json.dumps(
        {"shifts": sep.shifts, "overlap": sep.overlap, "wav_format": sep.wav_format},
        sort_keys=True,
    )


def resolve_device(requested: str) -> str:
    """'cuda' when asked for or when 'auto' finds a GPU, else 'cpu'."""
    import torch

    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        return "cuda"
    return "cpu"


def separate_file(
    settings: Settings,
    source: Path,
    model: str,
    out_dir: Path,
    progress: Callable[[float, str], None],
    registry: Any | None = None,
) -> list[str]:
    """Split ``source`` with ``model`` into ``out_dir/<stem>.wav``; return stems.

    The stems are written into a temporary folder that is renamed into place
    at the end, so an interrupted run leaves no partial result.
    """
    from stemtube.registry import PluginRegistry

    registry = registry or PluginRegistry(settings, kinds=("separators",))
    separator = registry.separator_for(model)
    if separator is None:
        raise ProviderError(
            "UNKNOWN_MODEL", f"No loaded separator offers the model {model!r}."
        )

    for stale in out_dir.parent.glob(f".{out_dir.name}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted run
    # Missing weights fail here, before a long song is decoded for nothing.
    separator.ensure_model(model, lambda percent, message: progress(0, message))
    progress(0, "Decoding audio")
    audio = media.decode(source)
    length = audio.shape[1]
    device = resolve_device(settings.separation.device)
    log.info(
        "separating %s with %s on %s (%.1f s)",
        source,
        model,
        device,
        length / media.CANONICAL_RATE,
    )

    def scaled(percent: float, message: str) -> None:
        progress(2 + 0.93 * percent, message)

    stems = separator.separate(audio, model, device=device, progress=scaled)
    # The model's own order (vocals first), whatever order the engine used.
    declared = separator.models().get(model, [])
    stems = dict(
        sorted(
            stems.items(),
            key=lambda item: (
                declared.index(item[0]) if item[0] in declared else len(declared)
            ),
        )
    )

    progress(96, "Writing stems")
    tmp_dir = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    try:
        for name, stem in stems.items():
            stem = media.fit_length(stem.astype("float32", copy=False), length)
            media.write_wav(
                tmp_dir / f"{name}.wav",
                stem,
                media.CANONICAL_RATE,
                settings.separation.wav_format,
            )
        shutil.rmtree(out_dir, ignore_errors=True)
        os.replace(tmp_dir, out_dir)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    progress(100, "Extraction complete")
    return list(stems)


def run_in_worker(settings: Settings, spec: dict, send: Callable[..., None]) -> dict:
    """The worker side of an extraction job."""
    started = time.monotonic()
    stems = separate_file(
        settings,
        Path(spec["source"]),
        spec["model"],
        Path(spec["out_dir"]),
        lambda percent, message: send("progress", percent, message),
    )
    return {"stems": stems, "seconds": time.monotonic() - started}


class ExtractionHandler:
    """Connects extraction jobs to the library and to users' live events."""

    worker = staticmethod(run_in_worker)
    in_thread = False

    def __init__(
        self,
        db: aiosqlite.Connection,
        settings: Settings,
        emit: Emitter,
        notify: Callable[..., None],
        on_completed: Callable[[dict], Awaitable[None]] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.emit = emit
        self.notify = notify
        #: Called with the finished extraction (the app queues its analysis).
        self.on_completed = on_completed

    async def prepare(self, job: Job) -> dict | None:
        extraction = await library.get_extraction(self.db, job.target_id)
        if extraction is None:
            return None
        download = await self._download(extraction)
        await library.update_extraction(
            self.db,
            extraction["id"],
            status=library.EXTRACTING,
            progress=0,
            message="Starting",
            error_code=None,
        )
        await self.progress(job, 0, "Starting")
        return {
            "source": str(self.settings.data_dir / download["file_path"]),
            "model": extraction["model"],
            "out_dir": str(
                library.stems_dir(
                    self.settings.data_dir, download["id"], extraction["id"]
                )
            ),
        }

    async def progress(
        self, job: Job, percent: float, message: str, details: dict | None = None
    ) -> None:
        await self._update_and_tell(
            job,
            "extraction_progress",
            status=library.EXTRACTING,
            progress=percent,
            message=message,
        )

    async def completed(self, job: Job, result: dict) -> None:
        extraction = await self._update_and_tell(
            job,
            "extraction_complete",
            status=library.COMPLETED,
            progress=100,
            message="Extraction complete",
            stems=result["stems"],
            completed_at=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
        )
        self.notify("extraction_finished", extraction=extraction)
        if self.on_completed is not None:
            await self.on_completed(extraction)

    async def failed(self, job: Job, code: str, message: str) -> None:
        await self._update_and_tell(
            job,
            "extraction_progress",
            status=library.FAILED,
            message=message,
            error_code=code,
        )

    async def _update_and_tell(self, job: Job, event: str, **fields) -> dict:
        """Store ``fields`` on the job's extraction and tell its users.

        Sends ``event`` to every user who has the extraction on their list;
        returns the updated extraction.
        """
        await library.update_extraction(self.db, job.target_id, **fields)
        extraction = await library.get_extraction(self.db, job.target_id)
        download = await self._download(extraction)
        data = {
            "extraction_id": extraction["id"],
            "video_id": download["video_id"],
            "status": extraction["status"],
        }
        if event == "extraction_complete":
            data["model"] = extraction["model"]
            data["stems_paths"] = library.stems_paths(
                self.settings.data_dir, extraction
            )
        else:
            data["progress"] = round(extraction["progress"], 1)
            data["message"] = extraction["message"]
        if extraction["status"] == library.FAILED:
            data["error"] = extraction["message"]
            data["code"] = extraction["error_code"]
        await self.emit(
            event, data, await library.extraction_user_ids(self.db, job.target_id)
        )
        return extraction

    async def _download(self, extraction: dict) -> dict:
        return dict(
            await fetch_row(
                self.db,
                "SELECT * FROM downloads WHERE id = ?",
                (extraction["download_id"],),
            )
        )
