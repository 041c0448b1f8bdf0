"""The YouTube source: search, video details and audio downloads through yt-dlp.

yt-dlp is used as a library. The audio is fetched in its best original
format and stored as it came (no re-encode); analysis decodes it later.
yt-dlp's failures are mapped to stable error codes with a message a user
can act on (:func:`classify_error`).
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from stemtube import media
from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, MediaItem, ProviderError

log = logging.getLogger(__name__)

PLUGIN_NAME = "youtube"
VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
WATCH_URL = "https://www.youtube.com/watch?v={}"
#: The JavaScript runtimes yt-dlp can solve YouTube's challenges with.
JS_RUNTIMES = ("deno", "node", "bun", "quickjs")

_YOUTUBE_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
}
_SHORT_HOSTS = {"youtu.be", "www.youtu.be"}
#: Paths whose next segment is the video id: /shorts/ID, /embed/ID...
_ID_PATHS = {"shorts", "embed", "live", "v", "e"}

#: progress(percent, message, details) where details has speed and eta.
DownloadProgress = Callable[[float, str, dict], None]


# URLs.


def video_id_from_url(url: str) -> str:
    """The video id a YouTube URL points at, or ProviderError.

    Accepts watch, youtu.be, shorts, embed and live links on www, m and music
    hosts, with any extra query parameters or timestamp. A playlist link
    without a video is refused: taking its first item would be a guess.
    """
    text = url.strip()
    if len(text) > 2048:
        raise _invalid_url()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise _invalid_url() from None
    if parts.scheme not in ("http", "https"):
        raise _invalid_url()

    query = parse_qs(parts.query)
    segments = [s for s in parts.path.split("/") if s]
    candidate = None
    if host in _SHORT_HOSTS:
        candidate = segments[0] if segments else None
    elif host in _YOUTUBE_HOSTS:
        if segments[:1] == ["watch"]:
            candidate = (query.get("v") or [None])[0]
        elif len(segments) >= 2 and segments[0] in _ID_PATHS:
            candidate = segments[1]
        if candidate is None and (segments[:1] == ["playlist"] or "list" in query):
            raise ProviderError(
                "PLAYLIST_NOT_SUPPORTED",
                "This is a playlist link. StemTube downloads one song at a time: "
                "open the song you want and use its own link.",
            )
    else:
        raise _invalid_url()
    if candidate is None or not VIDEO_ID.fullmatch(candidate):
        raise _invalid_url()
    return candidate


def _invalid_url() -> ProviderError:
    return ProviderError(
        "INVALID_URL",
        "This is not a YouTube video link. Use a link like "
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ or https://youtu.be/dQw4w9WgXcQ.",
    )


# Errors.

_JS_PROBLEM = (
    r"javascript runtime|n challenge|signature (extraction|solving) failed|"
    r"challenge solv"
)
#: (pattern in yt-dlp's message, code, what the user is told). First match wins,
#: so the specific cases come before the general ones ("Private video. Sign
#: in..." is about privacy, not cookies; "Video unavailable" may open a
#: geo block or a rate limit).
_ERROR_RULES: list[tuple[str, str, str]] = [
    (
        r"available in your country|not available from your location|"
        r"geo.?restrict|blocked it in your country",
        "GEO_BLOCKED",
        "This video is not available in the server's country.",
    ),
    (
        r"not a bot|captcha|rate.?limited|too many requests|http error 429",
        "BOT_CHECK",
        "YouTube asks this server to prove it is not a bot. An admin can set a "
        "cookies file from a logged-in browser ([plugins.youtube] cookies_file), "
        "or try again later.",
    ),
    (
        r"private video|video unavailable|has been removed|no longer available|"
        r"account .* terminated|does not exist|is not a valid url",
        "PRIVATE_OR_REMOVED",
        "This video is private, removed or does not exist.",
    ),
    (
        r"confirm your age|age-restricted|inappropriate for some users|"
        r"members-only|join this channel|sign in|login required|cookies",
        "NEEDS_COOKIES",
        "This video needs a signed-in YouTube account (age check or members "
        "only). An admin can set a cookies file from a logged-in browser "
        "([plugins.youtube] cookies_file).",
    ),
    (
        _JS_PROBLEM,
        "NEEDS_JS_RUNTIME",
        "YouTube needs a JavaScript runtime to unlock this video's audio, and "
        "none that yt-dlp can use was found. Install deno (pip install deno) or "
        "Node.js 22+ on the server.",
    ),
    (
        r"requested format is not available|no video formats found|"
        r"only images are available|drm protected",
        "FORMAT_UNAVAILABLE",
        "YouTube offers no audio this server can download for this video.",
    ),
    (
        r"unable to download (webpage|api page|json metadata)|urlopen error|"
        r"transporterror|connection (refused|reset|aborted)|timed out|"
        r"name resolution|name or service not known|network is unreachable|"
        r"remote end closed|incompleteread|ssl:",
        "NETWORK",
        "The server could not reach YouTube. Check its internet connection and "
        "try again.",
    ),
]
_MESSAGES = {code: plain for _, code, plain in _ERROR_RULES}


def classify_error(message: str, warnings: Sequence[str] = ()) -> ProviderError:
    """A yt-dlp error message (and the warnings before it) as a ProviderError.

    A missing format after a warning about JavaScript challenges is the
    runtime's fault, not the video's, so it is reported as such.
    """
    text = message.lower()
    code, plain = next(
        (
            (code, plain)
            for pattern, code, plain in _ERROR_RULES
            if re.search(pattern, text)
        ),
        ("DOWNLOAD_FAILED", "YouTube refused or broke off the download."),
    )
    if code == "FORMAT_UNAVAILABLE" and any(
        re.search(_JS_PROBLEM, w.lower()) for w in warnings
    ):
        code, plain = "NEEDS_JS_RUNTIME", _MESSAGES["NEEDS_JS_RUNTIME"]
    return ProviderError(code, plain, _strip_ansi(message)[:500])


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


class _Collector:
    """yt-dlp's ``logger``: keeps warnings and errors, sends the rest to DEBUG."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.errors: list[str] = []

    def debug(self, message: str) -> None:
        log.debug("yt-dlp: %s", message)

    def info(self, message: str) -> None:
        log.debug("yt-dlp: %s", message)

    def warning(self, message: str) -> None:
        self.warnings.append(message)
        log.info("yt-dlp warning: %s", message)

    def error(self, message: str) -> None:
        self.errors.append(message)
        log.info("yt-dlp error: %s", message)


# What the API shows.


def format_duration(seconds: float | None) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour; "" when unknown (a live stream)."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _thumbnails(info: dict) -> list[dict]:
    """The thumbnails as ``{url, width, height}``, largest first."""
    found = []
    for thumb in info.get("thumbnails") or []:
        url = thumb.get("url")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            found.append(
                {"url": url, "width": thumb.get("width"), "height": thumb.get("height")}
            )
    if not found and isinstance(info.get("thumbnail"), str):
        found.append({"url": info["thumbnail"], "width": None, "height": None})
    found.sort(key=lambda t: (t["width"] or 0) * (t["height"] or 0), reverse=True)
    return found


def _author(info: dict) -> str:
    for key in ("artist", "creator", "uploader", "channel"):
        value = info.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def video_summary(info: dict) -> dict:
    """One search result or video as the API shows it."""
    return {
        "id": info.get("id"),
        "title": info.get("title") or "",
        "author": _author(info),
        "duration": format_duration(info.get("duration")),
        "thumbnails": _thumbnails(info),
    }


def _speed(bytes_per_second: float | None) -> str:
    if not bytes_per_second:
        return ""
    for unit in ("B/s", "KB/s", "MB/s"):
        if bytes_per_second < 1024 or unit == "MB/s":
            return f"{bytes_per_second:.1f} {unit}"
        bytes_per_second /= 1024
    return ""  # pragma: no cover


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


# The source.


class _TimedCache:
    """A small thread-safe cache whose entries expire after ``seconds``."""

    def __init__(self, seconds: float, size: int = 512) -> None:
        self.seconds = seconds
        self.size = size
        self._items: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None or time.monotonic() - entry[0] > self.seconds:
                self._items.pop(key, None)
                return None
            return entry[1]

    def put(self, key: Any, value: Any) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            if len(self._items) >= self.size:
                oldest = min(self._items, key=lambda k: self._items[k][0])
                del self._items[oldest]
            self._items[key] = (time.monotonic(), value)


class YouTubeSource:
    """Video source backed by yt-dlp.

    ``extractors`` are yt-dlp extractor classes tried before yt-dlp's own;
    tests use them to answer from recordings and from a local server.
    """

    name = PLUGIN_NAME

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        search_results: int = 10,
        cache_seconds: float = 600,
        cookies_file: str = "",
        socket_timeout: float = 30,
        js_runtimes: Sequence[str] = JS_RUNTIMES,
        extractors: Sequence[type] = (),
    ) -> None:
        self.cache_dir = cache_dir
        self.search_results = search_results
        self.cookies_file = cookies_file
        self.socket_timeout = socket_timeout
        self.js_runtimes = tuple(js_runtimes)
        self.extractors = tuple(extractors)
        self._searches = _TimedCache(cache_seconds)
        self._videos = _TimedCache(cache_seconds)

    # Checks.

    def check(self) -> CheckResult:
        try:
            import yt_dlp  # noqa: F401
        except ImportError as exc:
            return CheckResult(False, f"yt-dlp cannot be imported: {exc}")
        if self.cookies_file and not Path(self.cookies_file).expanduser().is_file():
            return CheckResult(
                False, f"[plugins.youtube] cookies_file not found: {self.cookies_file}"
            )
        if self.javascript_runtime() is None:
            return CheckResult(
                True,
                "no JavaScript runtime yt-dlp can use; many YouTube videos will "
                "fail with NEEDS_JS_RUNTIME (pip install deno)",
            )
        return CheckResult(True)

    def diagnostics(self) -> list[tuple[bool | None, str, str]]:
        """Lines for ``stemtube doctor``: (ok, what, detail)."""
        from yt_dlp.version import __version__

        runtime = self.javascript_runtime()
        lines: list[tuple[bool | None, str, str]] = [
            (True, "yt-dlp", __version__),
            (
                True if runtime else None,
                "JavaScript runtime",
                f"{runtime[0]} {runtime[1]} ({runtime[2]})"
                if runtime
                else "none usable; YouTube needs one for most videos "
                "(pip install deno, or Node.js 22+)",
            ),
        ]
        try:
            import yt_dlp_ejs

            lines.append((True, "yt-dlp-ejs", yt_dlp_ejs.version))
        except ImportError:
            lines.append((None, "yt-dlp-ejs", "missing; pip install yt-dlp-ejs"))
        if self.cookies_file:
            lines.append((True, "YouTube cookies", self.cookies_file))
        return lines

    def javascript_runtime(self) -> tuple[str, str, str] | None:
        """(name, version, path) of the first runtime yt-dlp can use, if any."""
        import yt_dlp  # noqa: F401  (registers the runtimes)
        from yt_dlp.globals import supported_js_runtimes

        for name, path in self._runtime_paths().items():
            runtime_class = supported_js_runtimes.value.get(name)
            info = runtime_class(path=path).info if runtime_class else None
            if info is not None and info.supported:
                return info.name, info.version, info.path
        return None

    def _runtime_paths(self) -> dict[str, str | None]:
        """Runtime name -> its program (None: yt-dlp looks on PATH)."""
        paths: dict[str, str | None] = {name: None for name in self.js_runtimes}
        if "deno" in paths:
            try:
                import deno  # the deno wheel from PyPI ships the program

                paths["deno"] = deno.find_deno_bin()
            except (ImportError, OSError, FileNotFoundError):
                pass
        return paths

    # IDs and URLs.

    def is_video_id(self, video_id: str) -> bool:
        return isinstance(video_id, str) and bool(VIDEO_ID.fullmatch(video_id))

    def video_id_from_url(self, url: str) -> str:
        return video_id_from_url(url)

    # yt-dlp.

    def _options(self, collector: _Collector, **extra: Any) -> dict[str, Any]:
        options: dict[str, Any] = {
            "quiet": True,
            "noprogress": True,
            "no_color": True,
            "logger": collector,
            "noplaylist": True,
            "socket_timeout": self.socket_timeout,
            "cachedir": str(self.cache_dir) if self.cache_dir else False,
            "js_runtimes": {
                name: ({"path": path} if path else {})
                for name, path in self._runtime_paths().items()
            },
            "extractor_retries": 1,
        }
        if self.cookies_file:
            options["cookiefile"] = str(Path(self.cookies_file).expanduser())
        ffmpeg = media.ffmpeg_executable()
        if ffmpeg:
            options["ffmpeg_location"] = ffmpeg
        options.update(extra)
        return options

    def _run(self, url: str, *, download: bool, **extra: Any) -> dict:
        """``extract_info`` with our extractors first; errors as ProviderError."""
        from yt_dlp import YoutubeDL
        from yt_dlp.utils import DownloadError, ExtractorError

        collector = _Collector()
        try:
            with YoutubeDL(self._options(collector, **extra), auto_init=False) as ydl:
                for extractor in self.extractors:
                    ydl.add_info_extractor(extractor())
                ydl.add_default_info_extractors()
                info = ydl.extract_info(url, download=download, process=download)
                if info is not None and info.get("entries") is not None:
                    # A search's entries are fetched lazily: fetch them here,
                    # where yt-dlp's errors are caught.
                    info["entries"] = list(info["entries"])
        except (DownloadError, ExtractorError) as exc:
            raise classify_error(str(exc), collector.warnings) from None
        except Exception as exc:
            if download:
                raise  # the progress callback's own exception, or a crash
            log.exception("yt-dlp failed on %s", url)
            raise classify_error(str(exc), collector.warnings) from None
        if info is None:  # yt-dlp reported an error without raising
            message = collector.errors[-1] if collector.errors else "no information"
            raise classify_error(message, collector.warnings)
        return info

    # Searching and details.

    def search(self, query: str) -> list[dict]:
        """Up to ``search_results`` videos for ``query``, as the API shows them."""
        key = " ".join(query.split()).lower()
        cached = self._searches.get(key)
        if cached is not None:
            return cached
        # Channels and playlists count among yt-dlp's results and are dropped
        # here, so a few more are asked for (one page of YouTube's holds 20).
        info = self._run(
            f"ytsearch{self.search_results + 5}:{query}",
            download=False,
            extract_flat="in_playlist",
        )
        results = []
        for entry in info.get("entries") or []:
            if not isinstance(entry, dict) or not self.is_video_id(entry.get("id")):
                continue  # channels and playlists among the results
            summary = video_summary(entry)
            results.append(summary)
            self._videos.put(("brief", summary["id"]), summary)
            if len(results) == self.search_results:
                break
        self._searches.put(key, results)
        return results

    def video_info(self, video_id: str) -> dict:
        """Details of one video, as the API shows them."""
        cached = self._videos.get(("full", video_id))
        if cached is not None:
            return cached
        info = self._run(WATCH_URL.format(video_id), download=False)
        details = {**video_summary(info), "description": info.get("description") or ""}
        details["id"] = video_id
        self._videos.put(("full", video_id), details)
        self._videos.put(("brief", video_id), details)
        return details

    def known_title(self, video_id: str) -> str | None:
        """The title from a recent search or details call, without the network."""
        summary = self._videos.get(("brief", video_id))
        return summary["title"] if summary else None

    # Downloading.

    def download(
        self, video_id: str, folder: Path, progress: DownloadProgress
    ) -> tuple[MediaItem, Path]:
        """Fetch the best original audio into ``folder``; return it and its path.

        ``progress`` may raise to stop the download; the exception passes
        through unchanged.
        """
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

        def hook(state: dict) -> None:
            if state.get("status") != "downloading":
                return
            done = state.get("downloaded_bytes") or 0
            total = state.get("total_bytes") or state.get("total_bytes_estimate")
            percent = min(99.0, 100 * done / total) if total else 0.0
            progress(
                percent,
                "Downloading audio",
                {"speed": _speed(state.get("speed")), "eta": _eta(state.get("eta"))},
            )

        info = self._run(
            WATCH_URL.format(video_id),
            download=True,
            format="bestaudio/best",
            outtmpl={"default": "source.%(ext)s"},
            paths={"home": str(folder), "temp": str(folder)},
            progress_hooks=[hook],
            overwrites=True,
            continuedl=False,
            writethumbnail=False,
            postprocessors=[],
        )
        downloaded = info.get("requested_downloads") or [{}]
        path = Path(downloaded[0].get("filepath") or "")
        if not path.is_file() or folder not in path.parents:
            raise ProviderError(
                "DOWNLOAD_FAILED",
                "YouTube's answer held no audio file.",
                f"yt-dlp reported {path}",
            )
        item = MediaItem(
            video_id=video_id,
            title=info.get("track") or info.get("title") or video_id,
            author=_author(info),
            duration=info.get("duration"),
            extension=path.suffix.lstrip(".").lower() or "bin",
            thumbnail_url=(_thumbnails(info) or [{"url": None}])[0]["url"],
            extra={
                key: info.get(key)
                for key in ("format_id", "acodec", "abr", "asr", "webpage_url")
                if info.get(key) is not None
            },
        )
        return item, path


@hookimpl
def register_sources(settings: Any) -> list[YouTubeSource]:
    """Offer YouTube search and downloads."""
    own = settings.plugin_settings(PLUGIN_NAME)
    known = {
        "search_results",
        "cache_seconds",
        "cookies_file",
        "socket_timeout",
        "js_runtimes",
    }
    unknown = set(own) - known
    if unknown:
        raise ValueError(
            f"unknown keys in [plugins.youtube]: {', '.join(sorted(unknown))}"
        )
    results = own.get("search_results", 10)
    if not isinstance(results, int) or isinstance(results, bool) or not results >= 1:
        raise ValueError("[plugins.youtube] search_results must be 1 or more")
    runtimes = own.get("js_runtimes", list(JS_RUNTIMES))
    if not isinstance(runtimes, list) or set(runtimes) - set(JS_RUNTIMES):
        raise ValueError(
            f"[plugins.youtube] js_runtimes must list some of {', '.join(JS_RUNTIMES)}"
        )
    return [
        YouTubeSource(
            cache_dir=settings.data_dir / "cache" / "yt-dlp",
            search_results=min(results, 50),
            cache_seconds=float(own.get("cache_seconds", 600)),
            cookies_file=str(own.get("cookies_file", "")),
            socket_timeout=float(own.get("socket_timeout", 30)),
            js_runtimes=runtimes,
        )
    ]
