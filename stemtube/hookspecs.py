"""Every hook a StemTube plugin can implement."""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("stemtube")
hookimpl = pluggy.HookimplMarker("stemtube")


@hookspec
def register_sources(settings: Any) -> list[Any]:
    """Return Source providers: where songs come from."""


@hookspec
def register_separators(settings: Any) -> list[Any]:
    """Return Separator providers: how songs are split into stems."""


@hookspec
def register_chord_backends(settings: Any) -> list[Any]:
    """Return chord-backend providers: how chords are recognised."""


@hookspec
def register_lyrics_engines(settings: Any) -> list[Any]:
    """Return lyric-engine providers: how lyrics are found and timed."""


@hookspec
def register_analysers(settings: Any) -> list[Any]:
    """Return analyser providers: tempo, key, beats, sections."""


@hookspec
def startup(settings: Any) -> None:
    """Called once when the server has started and its database is ready."""


@hookspec
def download_finished(download: dict[str, Any]) -> None:
    """Called when a song has been stored in the library."""


@hookspec
def extraction_finished(extraction: dict[str, Any]) -> None:
    """Called when an extraction has produced its stems."""
