"""The upload source: songs users send from their own files.

An upload's id is ``upload_`` plus the start of its content's SHA-256, so the
same file sent twice, by one user or two, is one global download.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from stemtube import media
from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, MediaItem

_SAFE_EXTENSION = re.compile(r"^[a-z0-9]{1,5}$")


class UploadSource:
    """File source: probes an uploaded file by decoding it."""

    name = "upload"

    def check(self) -> CheckResult:
        return CheckResult(True)

    def describe_file(self, path: Path, filename: str, content_hash: str) -> MediaItem:
        info = media.probe(path)
        stem = Path(filename).stem.strip() or "Untitled upload"
        suffix = Path(filename).suffix.lower().lstrip(".")
        if not _SAFE_EXTENSION.match(suffix):
            suffix = info.container.split(",")[0]
        return MediaItem(
            video_id=f"upload_{content_hash[:16]}",
            title=info.title or stem,
            author=info.artist,
            duration=info.duration,
            sample_rate=info.sample_rate,
            channels=info.channels,
            extension=suffix,
        )


@hookimpl
def register_sources(settings: Any) -> list[UploadSource]:
    """Offer the upload source."""
    return [UploadSource()]
