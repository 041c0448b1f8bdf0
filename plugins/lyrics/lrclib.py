"""lrclib: synced lyrics from LRCLIB (https://lrclib.net), looked up by title.

Uses LRCLIB's documented API: ``GET /api/search`` with ``track_name`` and
``artist_name``, then ``GET /api/get`` with the duration too when the search
found nothing usable. A candidate is refused when its duration is more than
5 % off the song's, or when its last synced line starts after the song
ends; synced lyrics win over plain ones; ``instrumental: true`` means the
song has no words. Unreachable or slow (``timeout_seconds``) is "not found":
the transcriber takes over.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from stemtube import __version__, lyrics
from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, LyricSheet

log = logging.getLogger(__name__)

BASE_URL = "https://lrclib.net"
USER_AGENT = f"StemTube/{__version__} (self-hosted music server)"
#: A candidate's duration may be off the song's by this share.
DURATION_TOLERANCE = 0.05


class LrcLib:
    name = "lrclib"

    def __init__(self, base_url: str = BASE_URL, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def check(self) -> CheckResult:
        return CheckResult(True)

    def _get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v})
        request = urllib.request.Request(
            f"{self.base_url}{path}?{query}", headers={"User-Agent": USER_AGENT}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return json.loads(answer.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                log.warning("LRCLIB answered %s for %s", exc.code, path)
            return None
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            log.warning("LRCLIB could not be reached: %r", exc)
            raise _Unreachable from None

    def acceptable(self, candidate: dict, duration: float) -> bool:
        """Whether a candidate can be this recording's lyrics."""
        length = candidate.get("duration")
        if not isinstance(length, int | float) or duration <= 0:
            return False
        if abs(length - duration) > DURATION_TOLERANCE * duration:
            return False
        synced = lyrics.parse_lrc(candidate.get("syncedLyrics") or "")
        return not (synced and synced[-1][0] > duration)

    def best(self, candidates: list[dict], duration: float) -> dict | None:
        usable = [
            c
            for c in candidates
            if isinstance(c, dict) and self.acceptable(c, duration)
        ]

        def rank(c: dict) -> tuple:
            return (
                bool(c.get("syncedLyrics")),
                bool(c.get("plainLyrics")) or bool(c.get("instrumental")),
                -abs(c["duration"] - duration),
            )

        return max(usable, key=rank, default=None)

    def lookup(self, track: str, artist: str, duration: float) -> LyricSheet | None:
        if not track:
            return None
        try:
            found = self._get("/api/search", track_name=track, artist_name=artist)
            choice = self.best(found if isinstance(found, list) else [], duration)
            if choice is None:
                record = self._get(
                    "/api/get",
                    track_name=track,
                    artist_name=artist,
                    duration=round(duration),
                )
                choice = self.best([record] if record else [], duration)
        except _Unreachable:
            return None
        if choice is None:
            return None
        source = f"lrclib:{choice.get('id')}"
        if choice.get("instrumental"):
            return LyricSheet(instrumental=True, source=source)
        synced = lyrics.parse_lrc(choice.get("syncedLyrics") or "")
        plain = (choice.get("plainLyrics") or "").splitlines()
        return LyricSheet(
            synced=synced or None,
            plain=[p for p in plain if p.strip()] or None,
            source=source,
        )


class _Unreachable(Exception):
    pass


@hookimpl
def register_lyrics_engines(settings):
    own = settings.plugin_settings("lrclib")
    return [
        LrcLib(
            base_url=str(own.get("base_url", BASE_URL)),
            timeout=float(own.get("timeout_seconds", 10)),
        )
    ]
