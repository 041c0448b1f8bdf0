"""Extractions: start one, list them, look at one."""

from __future__ import annotations

import asyncio
import json
import logging

from quart import Blueprint, Response
from quart_schema import validate_querystring

from stemtube import analysis, chords, jobs, library, lyrics, peaks
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
from stemtube.api.downloads import visible_download
from stemtube.api.files import content_disposition
from stemtube.api.storage import safe_filename
from stemtube.extraction import KIND, settings_key

log = logging.getLogger(__name__)
bp = Blueprint("extractions", __name__)


@bp.post("/api/extractions")
@schemas.body(schemas.ExtractionRequest)
@schemas.answers(schemas.ExtractionStarted)
async def start_extraction(data: schemas.ExtractionRequest):
    st = state()
    ref = data.video_id or data.download_id
    if ref is None or ref == "":
        raise ApiError(400, "MISSING_VIDEO_ID", "Missing required parameter: video_id")
    model = data.model or st.runtime["default_model"]
    models = st.registry.models()
    if model not in models:
        raise ApiError(
            400,
            "UNKNOWN_MODEL",
            f"Unknown model {model[:64]!r}; available: {', '.join(models)}",
        )
    unknown = sorted(set(data.stems or ()) - set(models[model]))
    if unknown:
        raise ApiError(
            400,
            "UNKNOWN_STEM",
            f"{model} does not produce {', '.join(unknown)}; "
            f"it produces {', '.join(models[model])}",
        )
    flags = {
        name: getattr(data, name)
        for name in ("generate_chords", "generate_lyrics", "generate_structure")
    }
    download = await visible_download(str(ref))

    async with st.queue_lock:
        extraction, message = await _request_extraction(download["id"], model, flags)
    extraction = await library.get_extraction(db(), extraction["id"])
    log.info(
        "user %s asked for %s of %s: %s",
        caller().username,
        model,
        download["video_id"],
        message,
    )
    return {
        "success": True,
        "extraction_id": extraction["id"],
        "video_id": download["video_id"],
        "model": model,
        "status": extraction["status"],
        "message": message,
    }


async def _request_extraction(
    download_id: int, model: str, flags: dict[str, bool]
) -> tuple[dict, str]:
    """Link the extraction to the caller; queue it unless done or under way.

    Returns the extraction's row and a message that says what happened.
    """
    st = state()
    # Every stem of the model is always produced, so the extraction can be
    # shared by users who asked for different subsets.
    extraction, created = await library.get_or_create_extraction(
        db(),
        download_id,
        model,
        settings_key(st.settings),
        flags,
    )
    await library.link_extraction(db(), caller().id, extraction["id"])

    message = "Extraction started"
    if extraction["status"] == library.COMPLETED:
        message = "Extraction already available"
    elif extraction["status"] == library.FAILED or created:
        await queue_extraction(extraction["id"])
        if not created:
            message = "Extraction restarted"
    elif await jobs.active_job_for(db(), KIND, extraction["id"]) is None:
        await queue_extraction(extraction["id"])
    else:
        message = "Extraction already in progress"
    return extraction, message


async def queue_extraction(extraction_id: int) -> None:
    await queue_job(KIND, extraction_id)


@bp.get("/api/extractions")
@schemas.answers(schemas.Extractions)
async def list_extractions():
    data_dir = state().settings.data_dir
    rows = await library.user_extractions(db(), caller().id)
    return {"extractions": [library.extraction_view(e, data_dir) for e in rows]}


@bp.get("/api/extractions/<int:extraction_id>")
@schemas.answers(schemas.ExtractionDetails)
async def get_extraction(extraction_id: int):
    extraction = await library.user_extraction(db(), caller().id, extraction_id)
    if extraction is None:
        raise ApiError(404, "EXTRACTION_NOT_FOUND", "Extraction not found")
    return library.extraction_view(
        extraction,
        state().settings.data_dir,
        detail=True,
        found=await library.analyses(db(), extraction["download_id"]),
    )


async def visible_extraction(extraction_id: int) -> dict:
    """An extraction on the caller's list, or 404."""
    extraction = await library.user_extraction(db(), caller().id, extraction_id)
    if extraction is None:
        raise ApiError(404, "EXTRACTION_NOT_FOUND", "Extraction not found")
    return extraction


async def drop_extraction(extraction: dict) -> None:
    """Take an extraction off the caller's list; stop work nobody waits for.

    An extraction that never finished and is on nobody's list any more is
    deleted with its partial files; finished stems stay for everyone.
    """
    await library.unlink_extractions(db(), caller().id, [extraction["id"]])
    if extraction["status"] == library.COMPLETED:
        return
    if await library.extraction_user_ids(db(), extraction["id"]):
        return
    await cancel_extraction_job(extraction["id"])
    await library.delete_extraction(db(), state().settings.data_dir, extraction)


async def cancel_extraction_job(extraction_id: int) -> None:
    await cancel_job(KIND, extraction_id)


@bp.delete("/api/extractions/<int:extraction_id>")
@schemas.answers(schemas.Said)
async def remove_extraction(extraction_id: int):
    extraction = await visible_extraction(extraction_id)
    async with state().queue_lock:
        await drop_extraction(extraction)
    return {"success": True, "message": "Extraction removed from your list"}


@bp.post("/api/extractions/<int:extraction_id>/retry")
@schemas.answers(schemas.Said)
async def retry_extraction(extraction_id: int):
    await visible_extraction(extraction_id)
    async with state().queue_lock:
        extraction = await library.get_extraction(db(), extraction_id)
        if extraction["status"] != library.FAILED:
            raise ApiError(
                409,
                "NOT_FAILED",
                "Only a failed extraction can be retried; this one is "
                f"{extraction['status']}.",
            )
        await queue_extraction(extraction_id)
    return {"success": True, "message": "Extraction retry initiated"}


@bp.delete("/api/extractions/<int:extraction_id>/delete")
@admin_required
@schemas.answers(schemas.FilesDeleted)
async def delete_extraction(extraction_id: int):
    extraction = await library.get_extraction(db(), extraction_id)
    if extraction is None:
        raise ApiError(404, "EXTRACTION_NOT_FOUND", "Extraction not found")
    async with state().queue_lock:
        await cancel_extraction_job(extraction_id)
        deleted = await library.delete_extraction(
            db(), state().settings.data_dir, extraction
        )
    log.warning(
        "admin %s deleted extraction %d and %d files",
        caller().username,
        extraction_id,
        deleted,
    )
    return {"success": True, "deleted_files": deleted}


async def _run_analysis(download_id: int, params: dict) -> dict:
    """Queue an analysis job and wait for it a while; its row, or its error.

    A job that failed is answered with its code: 503 for an engine that is
    not loaded, 500 for one that broke.
    """
    st = state()
    async with st.queue_lock:  # so that the same request twice joins one job
        job_id = await analysis.queue_analysis(db(), st.runner, download_id, params)
    await st.runner.wait(job_id, st.settings.jobs.regenerate_wait_seconds)
    job = await jobs.get_job(db(), job_id)
    if job["status"] == jobs.FAILED:
        status = 503 if job["error_code"] in _UNAVAILABLE else 500
        raise ApiError(status, job["error_code"], job["error_message"])
    return job


_UNAVAILABLE = {"BACKEND_UNAVAILABLE", "MODEL_UNAVAILABLE"}


def _still_running(job: dict, what: str, **extra: str) -> tuple[dict, int]:
    """The 202 answer for an analysis job that outlasted the wait."""
    return {
        "success": True,
        "job_id": job["id"],
        "status": job["status"],
        **extra,
        "message": f"Still finding the {what}; analysis_progress events follow.",
    }, 202


@bp.get("/api/extractions/<int:extraction_id>/lyrics")
@schemas.answers(schemas.Lyrics)
async def get_lyrics(extraction_id: int):
    extraction = await visible_extraction(extraction_id)
    download_id = extraction["download_id"]
    return library.lyrics_view(
        await library.analyses(db(), download_id),
        await library.lyrics_offset(db(), caller().id, download_id),
    )


@bp.post("/api/extractions/<int:extraction_id>/lyrics/offset")
@schemas.body(schemas.LyricsOffset)
@schemas.answers(schemas.OffsetSaved)
async def set_lyrics_offset(extraction_id: int, data: schemas.LyricsOffset):
    """The caller's timing correction for this song's lyrics, in milliseconds."""
    extraction = await visible_extraction(extraction_id)
    await library.set_lyrics_offset(
        db(), caller().id, extraction["download_id"], data.offset_ms
    )
    return {"success": True, "offset_ms": data.offset_ms}


@bp.get("/api/extractions/<int:extraction_id>/lyrics.lrc")
@validate_querystring(schemas.LrcQuery)
async def export_lyrics(extraction_id: int, query_args: schemas.LrcQuery):
    """The lyrics as an LRC file (word times as enhanced LRC), offset applied."""
    extraction = await visible_extraction(extraction_id)
    download_id = extraction["download_id"]
    view = library.lyrics_view(await library.analyses(db(), download_id))
    if not view["available"]:
        raise ApiError(404, "LYRICS_NOT_FOUND", view.get("reason") or "No lyrics.")
    download = await library.get_download(db(), download_id)
    text = lyrics.to_lrc(
        view["lyrics"],
        title=download["title"],
        artist=download["author"],
        enhanced=query_args.enhanced,
        offset_ms=await library.lyrics_offset(db(), caller().id, download_id),
    )
    response = Response(text, mimetype="text/plain; charset=utf-8")
    response.headers["Content-Disposition"] = content_disposition(
        safe_filename(download["title"], ".lrc")
    )
    return response


@bp.get("/api/extractions/<int:extraction_id>/chords")
@validate_querystring(schemas.ChordsQuery)
@schemas.answers(schemas.TransposedChords)
async def get_chords(extraction_id: int, query_args: schemas.ChordsQuery):
    """The song's chords moved by ``transpose`` semitones, with their notes.

    For playing along in another key: names as a musician writes them and
    each chord's notes, root first, for the mixer's diagrams.
    """
    extraction = await visible_extraction(extraction_id)
    found = await library.analyses(db(), extraction["download_id"])
    data = found.get("chords", {}).get("data") or {}
    shift = query_args.transpose
    rows = [
        {
            **row,
            "name": chords.display_name(row["label"], shift),
            "notes": chords.notes(row["label"], shift),
        }
        for row in data.get("segments", [])
    ]
    return {
        "chords": rows,
        "available": bool(rows),
        "transpose": shift,
        "backend": found.get("chords", {}).get("engine"),
    }


@bp.post("/api/extractions/<int:extraction_id>/chords/regenerate")
@schemas.body(schemas.ChordsRequest)
@schemas.answers(schemas.ChordsRegenerated)
async def regenerate_chords(extraction_id: int, data: schemas.ChordsRequest):
    """Find the chords again, with ``backend`` or the default, as a job.

    Waits for the job (``[jobs] regenerate_wait_seconds``) and answers with
    the new chords; a job still running then is answered 202 with its id.
    The beat grid and key stay; the previous chords stay if the run fails.
    """
    extraction = await visible_extraction(extraction_id)
    st = state()
    available = sorted(st.registry.chord_backends)
    if not available:
        raise ApiError(
            503, "CHORDS_UNAVAILABLE", "No chord backend is loaded on this server."
        )
    backend = data.backend or analysis.default_backend(
        st.registry.chord_backends, st.runtime["default_chord_backend"]
    )
    if backend not in available:
        raise ApiError(
            400,
            "UNKNOWN_BACKEND",
            f"Unknown chord backend {backend[:40]!r}; "
            f"available: {', '.join(available)}",
        )
    download_id = extraction["download_id"]
    params = analysis.analysis_params(extraction, backend, lyrics_wanted=False)
    stored = await library.analyses(db(), download_id)
    params["parts"] = ["chords"] + ([] if "rhythm" in stored else ["rhythm"])
    log.info("user %s asked for chords by %s", caller().username, backend)
    job = await _run_analysis(download_id, params)
    if job["status"] != jobs.COMPLETED:
        return _still_running(job, "chords", backend_used=backend)
    chords = (await library.analyses(db(), download_id))["chords"]
    return {
        "success": True,
        "chords_count": len(chords["data"]["segments"]),
        "backend_used": chords["engine"],
        "source": chords["source"],
        "chords": chords["data"]["segments"],
    }


@bp.post("/api/extractions/<int:extraction_id>/lyrics/generate")
@schemas.answers(schemas.LyricsGenerated)
async def generate_lyrics(extraction_id: int):
    """Look the lyrics up and time them again, as a job (waits like chords)."""
    extraction = await visible_extraction(extraction_id)
    params = analysis.analysis_params(extraction, None, chords_wanted=False)
    params["parts"] = ["lyrics"]
    log.info("user %s asked for the lyrics of %d", caller().username, extraction_id)
    job = await _run_analysis(extraction["download_id"], params)
    if job["status"] != jobs.COMPLETED:
        return _still_running(job, "lyrics")
    view = library.lyrics_view(await library.analyses(db(), extraction["download_id"]))
    return {
        "success": True,
        "lyrics_count": len(view["lyrics"]),
        "message": "Lyrics generated successfully"
        if view["available"]
        else view.get("reason", "No lyrics were found."),
        "engine": view["engine"],
        "source": view["source"],
    }


@bp.get("/api/extractions/<int:extraction_id>/structure")
@schemas.answers(schemas.Structure)
async def get_structure(extraction_id: int):
    """The song's sections, ``{start, end, label}`` covering it, and their analyser."""
    extraction = await visible_extraction(extraction_id)
    return library.structure_view(
        await library.analyses(db(), extraction["download_id"])
    )


@bp.post("/api/extractions/<int:extraction_id>/structure/regenerate")
@schemas.answers(schemas.StructureRegenerated)
async def regenerate_structure(extraction_id: int):
    """Find the sections again, as a job (waits like chords/regenerate).

    The beat grid is found again first when the song has none, or one from
    before the chords could move its bars; the previous sections stay if
    the run fails.
    """
    extraction = await visible_extraction(extraction_id)
    if state().registry.analyser_for("structure") is None:
        raise ApiError(
            503,
            "STRUCTURE_UNAVAILABLE",
            "No structure analyser is loaded on this server.",
        )
    download_id = extraction["download_id"]
    params = analysis.analysis_params(
        extraction, None, chords_wanted=False, lyrics_wanted=False
    )
    stored = await library.analyses(db(), download_id)
    # A beat grid from before the chords could fix its bars is found again.
    rhythm = stored.get("rhythm", {}).get("data", {})
    params["parts"] = ["structure"] + ([] if "bars_from" in rhythm else ["rhythm"])
    log.info("user %s asked for the sections of %d", caller().username, extraction_id)
    job = await _run_analysis(download_id, params)
    if job["status"] != jobs.COMPLETED:
        return _still_running(job, "sections")
    view = library.structure_view(await library.analyses(db(), download_id))
    return {
        "success": True,
        "sections_count": len(view["structure"]),
        "analyser": view["analyser"],
        "version": view["version"],
        "source": view["source"],
        "structure": view["structure"],
    }


@bp.get("/api/extractions/<int:extraction_id>/peaks")
@validate_querystring(schemas.PeaksQuery)
@schemas.answers(schemas.Peaks)
async def stem_peaks(extraction_id: int, query_args: schemas.PeaksQuery):
    """Each stem's waveform as ``points`` (min, max) pairs, for drawing.

    Computed from the WAV files on the first request and kept next to them.
    """
    extraction = await visible_extraction(extraction_id)
    if extraction["status"] != library.COMPLETED:
        raise ApiError(409, "EXTRACTION_NOT_READY", "The stems are not ready yet.")
    folder = library.stems_dir(
        state().settings.data_dir, extraction["download_id"], extraction_id
    )
    stems = json.loads(extraction["stems"] or "[]")
    async with state().peaks_lock:
        found = await asyncio.to_thread(peaks.song_peaks, folder, stems)
    if not found["peaks"]:
        raise ApiError(404, "STEM_NOT_FOUND", "The stem files are missing.")
    return {
        "duration": found["duration"],
        "points": query_args.points,
        "peaks": {
            stem: peaks.pooled(values, query_args.points)
            for stem, values in found["peaks"].items()
        },
    }
