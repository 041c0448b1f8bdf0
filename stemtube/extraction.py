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
import numpy as np

from stemtube import library, media
from stemtube.config import Settings
from stemtube.db import fetch_row
from stemtube.jobs import Job
from stemtube.providers import ProviderError, no_progress

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

    # The plugin works in its own folder; what it writes elsewhere (the data
    # folder, the other plugins', the song's) fails the job. Not a sandbox:
    # a check that catches a plugin's mistake, not a hostile one.
    own_folder = plugin_folder(settings.data_dir, separator.name)
    before = _footprint(settings.data_dir, source)
    here = os.getcwd()
    os.chdir(own_folder)
    try:
        stems = call_separator(separator, audio, model, device=device, progress=scaled)
    finally:
        os.chdir(here)
    strayed = _strayed(before, _footprint(settings.data_dir, source))
    if strayed:
        raise ProviderError(
            "PLUGIN_WROTE_OUTSIDE",
            f"The separator {separator.name} wrote outside its folder; "
            "its stems are not used.",
            ", ".join(strayed[:10]),
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


def plugin_folder(data_dir: Path, name: str) -> Path:
    """``<data>/plugins/<name>/``: where a plugin may keep its files."""
    folder = data_dir / "plugins" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _footprint(data_dir: Path, source: Path) -> dict[str, tuple[int, int]]:
    """What a plugin must leave alone: the names at the top of the data folder
    and of its plugins folder, and the files beside the song (the song too),
    with their sizes and times. The database's own files change as other
    work goes on and are left out.
    """
    found = {}
    for folder in (data_dir, data_dir / "plugins", source.parent):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.name.startswith("stemtube.db"):
                continue
            stat = path.lstat()
            changes = path.is_file() and folder == source.parent
            found[str(path)] = (stat.st_size, stat.st_mtime_ns) if changes else (0, 0)
    return found


def _strayed(before: dict, after: dict) -> list[str]:
    """Paths that appeared or changed between two footprints."""
    return sorted(path for path, mark in after.items() if before.get(path) != mark)


def call_separator(
    separator: Any,
    audio: np.ndarray,
    model: str,
    *,
    device: str,
    progress: Callable[[float, str], None] = no_progress,
) -> dict[str, np.ndarray]:
    """A separator's ``separate`` run as a job runs it: an exception other
    than a ProviderError fails with ``PLUGIN_FAILED``, and the answer goes
    through :func:`checked_stems`."""
    try:
        result = separator.separate(audio, model, device=device, progress=progress)
    except (ProviderError, MemoryError):
        raise
    except Exception as exc:
        raise ProviderError(
            "PLUGIN_FAILED",
            f"The separator {separator.name} failed ({type(exc).__name__}).",
            repr(exc),
        ) from exc
    declared = separator.models().get(model, [])
    return checked_stems(result, declared, audio.shape, separator.name)


#: How far a stem's length may stray from the song's (it is then fitted).
LENGTH_SLACK = 0.01


def checked_stems(
    result: Any, declared: list[str], shape: tuple[int, int], separator: str
) -> dict[str, np.ndarray]:
    """A separator's stems in its model's order (vocals first), each checked.

    The answer must hold exactly the stems the model declares, each a finite
    float array of the input's ``(channels, samples)`` shape (its length
    within 1 %); anything else fails the job with ``BAD_SEPARATOR_RESULT``.
    """

    def bad(why: str) -> ProviderError:
        return ProviderError(
            "BAD_SEPARATOR_RESULT",
            f"The separator {separator} gave {why}.",
            f"expected {declared} of shape {shape}",
        )

    if not isinstance(result, dict) or not result:
        raise bad("no stems")
    if sorted(map(str, result)) != sorted(declared):
        raise bad(f"the stems {sorted(map(str, result))}, not {sorted(declared)}")
    channels, length = shape
    for name, stem in result.items():
        if not isinstance(stem, np.ndarray) or stem.dtype.kind != "f":
            raise bad(f"a {name} stem that is not an array of samples")
        if stem.ndim != 2 or stem.shape[0] != channels:
            raise bad(f"a {name} stem of shape {stem.shape}")
        if abs(stem.shape[1] - length) > LENGTH_SLACK * length + 1:
            raise bad(f"a {name} stem of {stem.shape[1]} samples, not {length}")
        if not np.isfinite(stem).all():
            raise bad(f"a {name} stem with samples that are not numbers")
    return {name: result[name] for name in declared}


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
