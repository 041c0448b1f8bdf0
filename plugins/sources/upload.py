"""The upload source: songs users send from their own files.

An upload's id is ``upload_`` plus the start of its content's SHA-256, so the
same file sent twice, by one user or two, is one global download.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stemtube import media
from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, MediaItem

#: FFmpeg format names whose usual file extension differs from the name.
_EXTENSIONS = {"matroska": "mkv", "mov": "mp4", "asf": "wma"}


def extension_for(container: str, filename: str) -> str:
    """The stored file's extension, from what FFmpeg found inside it.

    The name the client gave is used only when it is one of the container's
    own names (``m4a`` for "mov,mp4,m4a,..."), so a renamed file is stored
    under what it really is.
    """
    names = [name.strip() for name in container.split(",") if name.strip()]
    given = Path(filename).suffix.lower().lstrip(".")
    if given in names:
        return given
    first = names[0] if names else "bin"
    return _EXTENSIONS.get(first, first if first.isalnum() else "bin")


class UploadSource:
    """File source: probes an uploaded file by decoding it."""

    name = "upload"

    def check(self) -> CheckResult:
        return CheckResult(True)

    def describe_file(self, path: Path, filename: str, content_hash: str) -> MediaItem:
        info = media.probe(path)
        stem = Path(filename).stem.strip() or "Untitled upload"
        return MediaItem(
            video_id=f"upload_{content_hash[:16]}",
            title=info.title or stem,
            author=info.artist,
            duration=info.duration,
            sample_rate=info.sample_rate,
            channels=info.channels,
            extension=extension_for(info.container, filename),
        )


@hookimpl
def register_sources(settings: Any) -> list[UploadSource]:
    """Offer the upload source."""
    return [UploadSource()]
