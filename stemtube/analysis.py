"""Analysis jobs: a song's rhythm, chords, key, sections and lyrics, in a worker.

One job analyses one global download; its ``params`` say which parts to run
(``rhythm``, ``chords``, ``key``, ``structure``, ``lyrics``), which chord
backend, and which extraction's stems to use. Chords are found on the
harmonic stems (everything but vocals and drums) when the song has been
split, else on the mix; the beat grid and the key on the mix; sections on
the mix with the stems as context. Each part's result replaces the stored one
only when the whole job succeeds, so a failed run never loses what was there.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
import numpy as np

from stemtube import chords, library, lyrics, media, sections
from stemtube.config import Settings
from stemtube.extraction import Emitter
from stemtube.jobs import Job
from stemtube.providers import LyricsLookup, ProviderError, Transcriber

log = logging.getLogger(__name__)

KIND = "analysis"
PARTS = ("rhythm", "chords", "key", "structure", "lyrics")
RATE = media.CANONICAL_RATE
#: Stems that carry no harmony: chords are found on the others.
NOT_HARMONIC = {"vocals", "drums"}
#: A chord a backend gives for less than this is merged into the one before.
MIN_CHORD_SECONDS = 0.3
#: Where each part's progress starts, out of 100.
_SPANS = {
    "rhythm": (5, 30),
    "chords": (30, 55),
    "key": (55, 60),
    "structure": (60, 70),
    "lyrics": (70, 100),
}

#: Chord backends tried, in this order, when neither the request nor the
#: settings name one.
PREFERRED_BACKENDS = ("hybrid", "btc", "lvchordia", "madmom")


def default_backend(backends: dict[str, Any], configured: str | None) -> str | None:
    """The configured backend when loaded, else the preferred one that is ready.

    A backend whose weights are not here yet (btc before its download) is
    chosen only when an admin configured it or nothing else is loaded, so a
    server without network access still gets chords.
    """
    if configured in backends:
        return configured

    def ready(name: str) -> bool:
        return bool(getattr(backends[name], "has_weights", lambda: True)())

    for name in PREFERRED_BACKENDS:
        if name in backends and ready(name):
            return name
    return next(iter(sorted(backends)), None)


def harmonic_audio(stems_dir: Path, stems: list[str]) -> np.ndarray | None:
    """The sum of the harmonic stems, mono; None when there are none."""
    total = None
    for name in stems:
        if name in NOT_HARMONIC:
            continue
        audio = media.decode(stems_dir / f"{name}.wav").mean(axis=0)
        total = audio if total is None else total + audio
    return total


def checked_chord_rows(
    rows: Any, duration: float, backend: str
) -> list[chords.Segment]:
    """A backend's rows as segments; a malformed answer is its failure."""
    try:
        segments = chords.to_segments(rows)
    except (TypeError, ValueError) as exc:
        raise ProviderError(
            "BAD_BACKEND_RESULT",
            f"The chord backend {backend} gave a result StemTube cannot read.",
            repr(exc),
        ) from None
    for segment in segments:
        if not (0 <= segment.start <= segment.end <= duration + 1.0):
            raise ProviderError(
                "BAD_BACKEND_RESULT",
                f"The chord backend {backend} gave times outside the song.",
                f"{segment}",
            )
    return segments


def analyse_song(
    settings: Settings,
    spec: dict,
    progress: Callable[[float, str], None],
    registry: Any | None = None,
) -> dict:
    """Run the asked-for parts; returns ``{part: {engine, source, data}}``."""
    from stemtube.registry import PluginRegistry

    registry = registry or PluginRegistry(
        settings, kinds=("chords", "analysers", "lyrics")
    )
    parts = [p for p in PARTS if p in spec["parts"]]

    def within(part: str) -> Callable[[float, str], None]:
        low, high = _SPANS[part]
        return lambda percent, message: progress(
            low + (high - low) * percent / 100, message
        )

    backend = None
    if "chords" in parts:
        backend = registry.chord_backends.get(spec.get("backend") or "")
        if backend is None:
            raise ProviderError(
                "BACKEND_UNAVAILABLE",
                f"The chord backend {spec.get('backend')!r} is not loaded here.",
            )

    progress(0, "Decoding audio")
    mix = media.decode(Path(spec["source"])).mean(axis=0)
    duration = mix.shape[0] / RATE
    context: dict[str, Any] = {
        "rhythm": spec.get("rhythm") or {},
        "chords": [
            chords.Segment(s["start"], s["end"], s["label"])
            for s in spec.get("chords") or []
        ],
    }
    results: dict[str, dict] = {}

    if "rhythm" in parts:
        analyser = registry.analyser_for("rhythm")
        if analyser is not None:
            data = analyser.analyse(mix, RATE, {}, within("rhythm"))
            results["rhythm"] = {"engine": analyser.name, "source": "mix", "data": data}
            context["rhythm"] = data

    if backend is not None:
        audio, source = mix, "mix"
        if spec.get("stems_dir") and settings.analysis.chords_from == "stems":
            harmonic = harmonic_audio(Path(spec["stems_dir"]), spec["stems"])
            if harmonic is not None:
                audio, source = harmonic, f"stems:{spec['model']}"
        rows = backend.recognize(audio, RATE, within("chords"))
        segments = chords.merge(
            checked_chord_rows(rows, duration, backend.name),
            min_length=MIN_CHORD_SECONDS,
        )
        beats = context["rhythm"].get("beats") or []
        if beats:
            segments = chords.snap_to_beats(segments, beats)
        context["chords"] = segments
        results["chords"] = {
            "engine": backend.name,
            "source": source,
            "data": {
                "backend": backend.name,
                "vocabulary": backend.vocabulary,
                "source": source,
                "aligned_to_beats": bool(beats),
                "segments": [s.as_dict() for s in segments],
            },
        }

    if "rhythm" in results and context["chords"]:
        _bars_from_chords(results["rhythm"]["data"], context["chords"])

    if "key" in parts:
        analyser = registry.analyser_for("key")
        if analyser is not None:
            data = analyser.analyse(mix, RATE, context, within("key"))
            results["key"] = {"engine": analyser.name, "source": "mix", "data": data}

    if "structure" in parts:
        analyser = registry.analyser_for("structure")
        if analyser is not None:
            try:
                results["structure"] = find_structure(
                    analyser, mix, spec, context, duration, within("structure")
                )
            except Exception as exc:
                if set(parts) <= {"rhythm", "structure"}:
                    raise  # asked for on its own: the caller hears why
                # After an extraction, a broken analyser must not cost the
                # song its chords and lyrics; the sections stored stay.
                log.warning("no sections: %s", exc, exc_info=True)

    if "lyrics" in parts:
        try:
            results["lyrics"] = find_lyrics(
                settings, registry, spec, duration, within("lyrics")
            )
        except ProviderError as exc:
            if parts == ["lyrics"]:
                raise  # asked for on its own: the caller hears why
            # After an extraction, missing Whisper weights must not cost the
            # song its chords: the lyrics say why there are none.
            log.warning("no lyrics: %s %s", exc.code, exc)
            results["lyrics"] = {
                "engine": "none",
                "source": "lyrics",
                "data": {"lyrics": [], "available": False, "reason": exc.message},
            }

    progress(100, "Analysis complete")
    return results


def _bars_from_chords(rhythm: dict, segments: list[chords.Segment]) -> None:
    """Move the downbeats where the chords say the bars start (in place)."""
    positions = chords.bar_phase_from_chords(
        rhythm.get("beats") or [],
        rhythm.get("beat_positions") or [],
        rhythm.get("meter"),
        segments,
    )
    rhythm["bars_from"] = "beats"  # the beat tracker's own bars
    if positions is not None:
        rhythm["beat_positions"] = positions
        rhythm["downbeats"] = [
            t for t, p in zip(rhythm["beats"], positions, strict=True) if p == 1
        ]
        rhythm["bars_from"] = "chords"


def find_structure(
    analyser: Any,
    mix: np.ndarray,
    spec: dict,
    context: dict,
    duration: float,
    progress: Callable[[float, str], None],
) -> dict:
    """The song's sections from ``analyser``, checked to cover the song."""
    stems: dict[str, np.ndarray] = {}
    source = "mix"
    if spec.get("stems_dir"):
        folder = Path(spec["stems_dir"])
        for name in spec["stems"]:
            try:
                audio = media.decode(folder / f"{name}.wav").mean(axis=0)
            except ProviderError as exc:  # a stem removed or damaged on disk
                log.warning("structure without the %s stem: %s", name, exc)
                continue
            stems[name] = media.fit_length(audio[None], mix.shape[0])[0]
        if stems:
            source = f"stems:{spec['model']}"
    data = analyser.analyse(mix, RATE, {**context, "stems": stems}, progress)
    found = sections.checked(
        (data or {}).get("sections") if isinstance(data, dict) else None,
        duration,
        analyser.name,
    )
    return {
        "engine": analyser.name,
        "source": source,
        "data": {
            "sections": [s.as_dict() for s in found],
            "analyser": analyser.name,
            "version": str(getattr(analyser, "version", "") or ""),
            "source": source,
        },
    }


async def queue_analysis(
    db: aiosqlite.Connection, runner: Any, download_id: int, params: dict
) -> int:
    """Start an analysis job for a download; returns its id.

    The same analysis already queued or running is joined, not repeated.
    """
    from stemtube.db import fetch_row
    from stemtube.jobs import create_job

    same = await fetch_row(
        db,
        "SELECT id FROM jobs WHERE kind = ? AND target_id = ? AND params = ? "
        "AND status IN ('queued', 'running') ORDER BY id DESC LIMIT 1",
        (KIND, download_id, json.dumps(params)),
    )
    if same is not None:
        return same[0]
    job_id = await create_job(db, KIND, download_id, params)
    await runner.submit(job_id)
    return job_id


def analysis_params(
    extraction: dict | None,
    backend: str | None,
    *,
    chords_wanted: bool = True,
    lyrics_wanted: bool = True,
    structure_wanted: bool = True,
) -> dict:
    """The params of the analysis that follows an extraction (or a request)."""
    parts = ["rhythm", "key"] + (["chords"] if chords_wanted and backend else [])
    parts += ["structure"] if structure_wanted else []
    parts += ["lyrics"] if lyrics_wanted else []
    return {
        "extraction_id": extraction["id"] if extraction else None,
        "backend": backend,
        "parts": parts,
    }


def find_lyrics(
    settings: Settings,
    registry: Any,
    spec: dict,
    duration: float,
    progress: Callable[[float, str], None],
) -> dict:
    """Lyrics from the engines in ``[analysis] lyrics_engines`` order.

    The first lookup that finds a sheet gives the text; the transcriber,
    on the vocals stem, gives the times (see ``stemtube.lyrics``).
    """
    engines = [
        registry.lyrics_engines[name]
        for name in settings.analysis.lyrics_engines
        if name in registry.lyrics_engines
    ]
    lookups = [e for e in engines if isinstance(e, LyricsLookup)]
    transcriber = next((e for e in engines if isinstance(e, Transcriber)), None)
    track, artist = lyrics.song_query(spec.get("title") or "", spec.get("author") or "")

    sheet, used = None, []
    progress(0, "Looking the lyrics up")
    for engine in lookups:
        sheet = engine.lookup(track, artist, duration)
        if sheet is not None:
            used.append(engine.name)
            break

    def result(lines: list, reason: str = "") -> dict:
        data = {
            "lyrics": [line.as_dict() for line in lines],
            "available": bool(lines),
            "engine": "+".join(used) or None,
            "source": sheet.source if sheet is not None else None,
            "synced": bool(sheet is not None and sheet.synced),
        }
        if reason:
            data["reason"] = reason
        return {"engine": data["engine"] or "none", "source": "lyrics", "data": data}

    if sheet is not None and sheet.instrumental:
        return result([], "The song is instrumental (LRCLIB).")
    vocals_path = spec.get("vocals")
    vocals = media.decode(Path(vocals_path)).mean(axis=0) if vocals_path else None
    activity = lyrics.VoiceActivity.of(vocals, RATE) if vocals is not None else None
    heard: list[lyrics.Word] = []
    if transcriber is not None and vocals is not None:
        rows = transcriber.transcribe(
            vocals, RATE, lambda p, m: progress(10 + 0.85 * p, m)
        )
        words = [
            lyrics.Word(-1.0 if s is None else s, -1.0 if e is None else e, w)
            for s, e, w in rows
        ]
        heard = lyrics.interpolate(words, 0.0, duration)
        used.append(transcriber.name)

    if sheet is not None and sheet.synced:
        return result(lyrics.align_synced(sheet.synced, heard, duration, activity))
    if sheet is not None and sheet.plain:
        if heard:
            return result(lyrics.place_plain(sheet.plain, heard, duration))
        onset = activity.first_onset() if activity is not None else None
        return result(lyrics.spread_evenly(sheet.plain, onset or 0.0, duration))
    if heard:
        silences = activity.silences() if activity is not None else []
        lines = lyrics.lines_from_words(heard, silences)
        if activity is not None:
            lines = lyrics.drop_unsung(lines, activity)
        return result(lines, "" if lines else "Nothing is sung in the vocals stem.")
    if vocals is None:
        return result([], "No lyrics were found, and the song has no vocals stem yet.")
    return result([], "No lyrics were found.")


def run_in_worker(settings: Settings, spec: dict, send: Callable[..., None]) -> dict:
    """The worker side of an analysis job."""
    started = time.monotonic()
    results = analyse_song(
        settings, spec, lambda percent, message: send("progress", percent, message)
    )
    log.info("analysed %s in %.1f s", spec["source"], time.monotonic() - started)
    return results


class AnalysisHandler:
    """Connects analysis jobs to the stored analyses and users' live events."""

    worker = staticmethod(run_in_worker)
    in_thread = False

    def __init__(
        self, db: aiosqlite.Connection, settings: Settings, emit: Emitter
    ) -> None:
        self.db = db
        self.settings = settings
        self.emit = emit

    async def prepare(self, job: Job) -> dict | None:
        download = await library.get_download(self.db, job.target_id)
        if download is None or download["status"] != library.COMPLETED:
            return None
        params = job.params
        parts = [p for p in PARTS if p in params.get("parts", PARTS)]
        if not params.get("backend"):
            parts = [p for p in parts if p != "chords"]
        found = await library.analyses(self.db, download["id"])
        spec: dict[str, Any] = {
            "source": str(self.settings.data_dir / download["file_path"]),
            "parts": parts,
            "backend": params.get("backend"),
            "rhythm": found.get("rhythm", {}).get("data"),
            "chords": found.get("chords", {}).get("data", {}).get("segments"),
            "stems_dir": None,
            "stems": [],
            "model": None,
            "vocals": None,
            "title": download["title"],
            "author": download["author"],
        }
        extraction_id = params.get("extraction_id")
        extraction = (
            await library.get_extraction(self.db, extraction_id)
            if extraction_id
            else None
        )
        if extraction is not None and extraction["status"] == library.COMPLETED:
            folder = library.stems_dir(
                self.settings.data_dir, download["id"], extraction["id"]
            )
            if folder.is_dir():
                stems = json.loads(extraction["stems"])
                spec.update(
                    stems_dir=str(folder), stems=stems, model=extraction["model"]
                )
                if "vocals" in stems:
                    spec["vocals"] = str(folder / "vocals.wav")
        await self._tell(job, "running", 0, "Starting analysis")
        return spec

    async def progress(
        self, job: Job, percent: float, message: str, details: dict | None = None
    ) -> None:
        await self._tell(job, "running", percent, message)

    async def completed(self, job: Job, result: dict) -> None:
        for part, found in result.items():
            await library.store_analysis(
                self.db,
                job.target_id,
                part,
                found["engine"],
                found["source"],
                found["data"],
            )
        await self._tell(job, "completed", 100, "Analysis complete")

    async def failed(self, job: Job, code: str, message: str) -> None:
        log.warning("analysis of download %d failed: %s", job.target_id, code)
        await self._tell(job, "failed", 0, message, code=code)

    async def _tell(
        self, job: Job, status: str, percent: float, message: str, **extra: Any
    ) -> None:
        download = await library.get_download(self.db, job.target_id)
        if download is None:
            return
        data = {
            "download_id": download["id"],
            "video_id": download["video_id"],
            "extraction_id": job.params.get("extraction_id"),
            "parts": job.params.get("parts", list(PARTS)),
            "status": status,
            "progress": round(percent, 1),
            "message": message,
            **extra,
        }
        if status == "failed":
            data["error"] = message
        await self.emit(
            "analysis_progress",
            data,
            await library.download_user_ids(self.db, download["id"]),
        )
