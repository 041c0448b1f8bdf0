"""Configuration: what this server offers and runs on, and what admins change."""

from __future__ import annotations

import asyncio
import logging
import shutil

from quart import Blueprint

from stemtube import analysis, media, server_config
from stemtube.api import schemas
from stemtube.api.common import ApiError, admin_required, caller, db, state

log = logging.getLogger(__name__)
bp = Blueprint("config", __name__)

#: The keys of POST /api/config; browser logging has routes of its own.
GENERAL_KEYS = ("default_model", "default_chord_backend")


def gpu_facts() -> tuple[bool, str | None]:
    """Whether the running process sees a CUDA GPU, and torch's CUDA version."""
    try:
        import torch
    except ImportError:
        return False, None
    return torch.cuda.is_available(), torch.version.cuda


def chord_backends() -> list[str]:
    return sorted(state().registry.chord_backends)


@bp.get("/api/config")
@schemas.answers(schemas.Config)
async def get_config():
    st = state()
    models = st.registry.models()
    gpu, cuda = gpu_facts()
    return {
        "models": list(models),
        "model_stems": models,
        "chord_backends": chord_backends(),
        "default_model": st.runtime["default_model"],
        "default_chord_backend": analysis.default_backend(
            st.registry.chord_backends, st.runtime["default_chord_backend"]
        ),
        "gpu_available": gpu,
        "cuda_version": cuda,
        "max_upload_mb": st.settings.storage.max_upload_mb,
        "lyrics_engines": [
            name
            for name in st.settings.analysis.lyrics_engines
            if name in st.registry.lyrics_engines
        ],
    }


async def apply_changes(body: schemas.Settings, keys: dict[str, str]) -> dict:
    """Check the settings sent in ``body``, store them and apply them at once.

    ``keys`` maps the API's names to ``server_config`` keys (the body's
    model refuses any other name); nothing is stored unless every value is
    right.
    """
    st = state()
    data = body.model_dump(exclude_unset=True)
    if not data:
        raise ApiError(
            400, "UNKNOWN_SETTING", f"Send at least one of: {', '.join(keys)}"
        )
    checks = server_config.checkers(list(st.registry.models()), chord_backends())
    changes = {}
    for name, value in data.items():
        try:
            changes[keys[name]] = checks[keys[name]](value)
        except server_config.ConfigValueError as exc:
            raise ApiError(400, exc.code, f"{name}: {exc.message}") from None
    await server_config.store(db(), changes)
    st.runtime.update(changes)
    log.info("admin %s changed %s", caller().username, ", ".join(changes))
    return changes


@bp.post("/api/config")
@admin_required
@schemas.body(schemas.ConfigChange)
@schemas.answers(schemas.ConfigChanged)
async def set_config(data: schemas.ConfigChange):
    await apply_changes(data, {k: k for k in GENERAL_KEYS})
    return {"success": True, **{k: state().runtime[k] for k in GENERAL_KEYS}}


_LOGGING_KEYS = {"enabled": "browser_logging_enabled", "log_level": "browser_log_level"}


@bp.get("/api/config/browser-logging")
@schemas.answers(schemas.BrowserLoggingState)
async def get_browser_logging():
    runtime = state().runtime
    return {name: runtime[key] for name, key in _LOGGING_KEYS.items()}


@bp.post("/api/config/browser-logging")
@admin_required
@schemas.body(schemas.BrowserLogging)
@schemas.answers(schemas.BrowserLoggingChanged)
async def set_browser_logging(data: schemas.BrowserLogging):
    await apply_changes(data, _LOGGING_KEYS)
    runtime = state().runtime
    return {"success": True, **{n: runtime[k] for n, k in _LOGGING_KEYS.items()}}


def _ffmpeg_facts() -> dict:
    exe = media.ffmpeg_executable()
    if exe is None:
        return {"installed": False, "version": None, "source": None}
    source = "system" if shutil.which("ffmpeg") == exe else "bundled"
    return {"installed": True, "version": media.ffmpeg_version(), "source": source}


@bp.get("/api/config/ffmpeg/check")
@schemas.answers(schemas.Ffmpeg)
async def check_ffmpeg():
    """The ffmpeg program StemTube uses: the system's, else imageio-ffmpeg's."""
    return await asyncio.to_thread(_ffmpeg_facts)


@bp.post("/api/config/ffmpeg/download")
@admin_required
@schemas.answers(schemas.FfmpegReady)
async def download_ffmpeg():
    """Make an ffmpeg available without a system package.

    StemTube's own dependency imageio-ffmpeg carries one, so there is
    nothing to fetch: this answers which one is used, or why none is.
    """
    facts = await asyncio.to_thread(_ffmpeg_facts)
    if not facts["installed"]:
        raise ApiError(
            503,
            "FFMPEG_UNAVAILABLE",
            "No ffmpeg program was found and imageio-ffmpeg's is missing on this "
            "platform; install ffmpeg with the system's package manager.",
        )
    return {"success": True, **facts}
