"""The protocols that plugin providers meet, and the errors they raise.

A plugin's hook returns provider objects; the core only relies on what is
declared here. Long work runs in a worker process, reports progress through
a ``progress(percent, message)`` callable and is cancelled by ending that
process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

#: progress(percent from 0 to 100, a short message a user can read)
ProgressFn = Callable[[float, str], None]


def no_progress(percent: float, message: str) -> None:
    """A progress callback that ignores what it is told."""


@dataclass(frozen=True)
class CheckResult:
    """Whether a provider can work here, and a message an admin can act on."""

    ok: bool
    message: str = ""


class ProviderError(Exception):
    """A failure with a stable error code and a message a user can act on.

    ``message`` reaches the browser, so it names no server path; ``detail``
    (paths, the underlying cause) goes only to the log and the console.
    """

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.message} ({self.detail})" if self.detail else self.message


@dataclass(frozen=True)
class MediaItem:
    """What a source knows about one song once it is on disk."""

    video_id: str
    title: str
    author: str = ""
    duration: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    extension: str = ""
    thumbnail_url: str | None = None
    extra: dict = field(default_factory=dict)


@runtime_checkable
class Source(Protocol):
    """Where songs come from (an upload, a video site...)."""

    name: str

    def check(self) -> CheckResult:
        """Say whether the source's dependencies are present."""
        ...


@runtime_checkable
class FileSource(Source, Protocol):
    """A source that turns a file the user sent into a library item."""

    def describe_file(self, path: Path, filename: str, content_hash: str) -> MediaItem:
        """Probe the file and describe it; raise ProviderError if it is unusable."""
        ...


#: progress(percent, message, details): details has "speed" and "eta" as text.
DownloadProgressFn = Callable[[float, str, dict], None]


@runtime_checkable
class VideoSource(Source, Protocol):
    """A source that finds songs on a video site and fetches them by id."""

    def is_video_id(self, video_id: str) -> bool:
        """Whether ``video_id`` has the site's id form (no network)."""
        ...

    def video_id_from_url(self, url: str) -> str:
        """The id a link points at; ProviderError INVALID_URL or a playlist's."""
        ...

    def search(self, query: str) -> list[dict]:
        """Videos for a query: ``{id, title, author, duration, thumbnails}``."""
        ...

    def video_info(self, video_id: str) -> dict:
        """One video's details: the search fields plus ``description``."""
        ...

    def known_title(self, video_id: str) -> str | None:
        """A title seen recently (in a search), without using the network."""
        ...

    def download(
        self, video_id: str, folder: Path, progress: DownloadProgressFn
    ) -> tuple[MediaItem, Path]:
        """Fetch the audio as it comes into ``folder``; return it and its path."""
        ...


@runtime_checkable
class Separator(Protocol):
    """Splits a song into stems."""

    name: str

    def models(self) -> dict[str, list[str]]:
        """Model names this separator offers, each with the stems it produces."""
        ...

    def check(self) -> CheckResult:
        """Say whether the separator's dependencies are present."""
        ...

    def ensure_model(self, model: str, progress: ProgressFn = no_progress) -> None:
        """Make the model's weights available, downloading them if allowed."""
        ...

    def separate(
        self,
        audio: np.ndarray,
        model: str,
        *,
        device: str,
        progress: ProgressFn = no_progress,
    ) -> dict[str, np.ndarray]:
        """Split float32 audio (channels, samples) at 44.1 kHz into stems."""
        ...


@runtime_checkable
class ChordBackend(Protocol):
    """Finds the chords of a song."""

    name: str
    #: "majmin" (24 chords and N) or "large" (sevenths, sus, dim...).
    vocabulary: str

    def check(self) -> CheckResult:
        """Say whether the backend's dependencies and weights are present."""
        ...

    def recognize(
        self, audio: np.ndarray, sample_rate: int, progress: ProgressFn = no_progress
    ) -> list[tuple[float, float, str]]:
        """``(start, end, Harte label)`` rows for mono float32 audio."""
        ...


@runtime_checkable
class Analyser(Protocol):
    """Finds something about a song: its beats and tempo, key, sections...

    ``provides`` names what ``analyse`` returns (``"rhythm"``, ``"key"``,
    ``"structure"``); ``context`` holds what was found before it: the
    rhythm (``beats``, ``downbeats``, ``bpm``) and the chords as
    ``stemtube.chords.Segment`` lists, and the stems as mono arrays by name
    when the song has been split.
    """

    name: str
    provides: tuple[str, ...]

    def check(self) -> CheckResult:
        """Say whether the analyser's dependencies are present."""
        ...

    def analyse(
        self,
        audio: np.ndarray,
        sample_rate: int,
        context: dict,
        progress: ProgressFn = no_progress,
    ) -> dict:
        """What it found about mono float32 audio, as JSON-ready values."""
        ...


@dataclass(frozen=True)
class LyricSheet:
    """Lyrics looked up by title: synced lines, plain lines, or none."""

    synced: list[tuple[float, str]] | None = None
    plain: list[str] | None = None
    instrumental: bool = False
    #: Where they came from, e.g. ``"lrclib:12345"``.
    source: str = ""


@runtime_checkable
class LyricsLookup(Protocol):
    """Finds a song's lyrics by its title, artist and duration."""

    name: str

    def check(self) -> CheckResult: ...

    def lookup(self, track: str, artist: str, duration: float) -> LyricSheet | None:
        """The best sheet found, or None; never raises for "not found"."""
        ...


@runtime_checkable
class Transcriber(Protocol):
    """Hears the words of a vocals stem, with their times."""

    name: str

    def check(self) -> CheckResult: ...

    def transcribe(
        self, vocals: np.ndarray, sample_rate: int, progress: ProgressFn = no_progress
    ) -> list[tuple[float | None, float | None, str]]:
        """``(start, end, word)`` per word; times None where it has none."""
        ...
