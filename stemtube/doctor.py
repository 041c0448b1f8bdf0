"""What StemTube will run with, and whether each part works.

``stemtube doctor`` prints these checks; the admin console shows them on its
health screen. A check that fails (``ok`` False) means StemTube cannot do
its main work (split songs); a note (``ok`` None) is something missing that
only costs a feature.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from stemtube.config import Settings


@dataclass(frozen=True)
class Check:
    #: True: works; False: a problem; None: a note.
    ok: bool | None
    what: str
    detail: str

    @property
    def mark(self) -> str:
        return {True: "ok", False: "FAIL", None: "note"}[self.ok]


# TODO: flag the default model's missing weights when downloads cannot work.
def checks(settings: Settings, registry=None) -> list[Check]:
    """Every check, in the order ``stemtube doctor`` prints them.

    ``registry`` is a loaded PluginRegistry; one is made when not given.
    """
    import av

    from stemtube import media
    from stemtube.extraction import resolve_device

    found: list[Check] = []

    def line(ok: bool | None, what: str, detail: str) -> None:
        found.append(Check(ok, what, detail))

    line(True, "settings", str(settings.source or "built-in defaults"))
    data = settings.data_dir
    writable = data.is_dir() and os.access(data, os.W_OK | os.X_OK)
    creatable = not data.exists() and os.access(_existing_parent(data), os.W_OK)
    line(
        writable or creatable,
        "data folder",
        f"{data}{'' if data.exists() else ' (created at first start)'}",
    )
    if registry is None:
        from stemtube.registry import PluginRegistry

        registry = PluginRegistry(settings)
    for info in registry.plugins.values():
        ok = {"loaded": True, "disabled": None}.get(info.status, False)
        detail = info.status + (f": {info.message}" if info.message else "")
        line(ok, f"plugin {info.name}", detail)
    models = registry.models()
    line(bool(models), "separation models", ", ".join(models) or "none")
    for model in models:
        separator = registry.separator_for(model)
        has = getattr(separator, "has_weights", lambda m: True)(model)
        can_fetch = getattr(separator, "allow_download", True)
        line(
            True if has else (None if can_fetch else False),
            f"weights {model}",
            "present"
            if has
            else "missing; fetched on first use or by `stemtube models download`"
            if can_fetch
            else "missing and downloads are off; `stemtube models import FILE`",
        )
    backends = sorted(registry.chord_backends)
    line(
        True if backends else None,
        "chord backends",
        ", ".join(backends) or "none loaded: songs get no chords",
    )
    engines = sorted(registry.lyrics_engines)
    line(
        True if engines else None,
        "lyric engines",
        ", ".join(engines) or "none loaded: songs get no lyrics",
    )
    for what in ("rhythm", "key", "structure"):
        analyser = registry.analyser_for(what)
        line(
            True if analyser else None,
            f"{what} analyser",
            analyser.name if analyser else "none loaded",
        )
    for source in registry.sources.values():
        for ok, what, detail in getattr(source, "diagnostics", list)():
            line(ok, what, detail)
    line(True, "audio decoding", f"PyAV {av.__version__}")
    exe = media.ffmpeg_executable()
    line(
        True if exe else None,
        "ffmpeg program",
        f"{exe} ({media.ffmpeg_version()})" if exe else "not found",
    )
    try:
        import torch

        device = resolve_device(settings.separation.device)
        line(True, "device", f"{device} (torch {torch.__version__})")
    except ImportError:
        line(False, "device", "torch is not installed")
    return found


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
