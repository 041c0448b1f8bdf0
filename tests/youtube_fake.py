"""YouTube without the network: a local audio server and recorded answers.

``AudioServer`` serves real recordings over HTTP on 127.0.0.1 and counts the
requests it gets. ``recorded_extractors(server)`` gives yt-dlp extractor
classes that answer YouTube watch URLs and ``ytsearch`` queries from the
recorded info dictionaries in ``tests/data/youtube``, with formats that point
at the local server, so yt-dlp's own format selection, HTTP downloader and
progress hooks do the real work.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from yt_dlp.extractor.common import InfoExtractor, SearchInfoExtractor
from yt_dlp.utils import ExtractorError

from support import TEST_DATA

RECORDINGS = TEST_DATA / "youtube"
FISHIN, VIBE_ACE, ROBIN = "kH9fG2x4LsA", "vA7eQm3pZ0c", "rB1n5dW7tQ8"


def recording(video_id: str) -> dict:
    return json.loads((RECORDINGS / f"video_{video_id}.json").read_text())


def recorded_errors() -> list[dict]:
    return json.loads((RECORDINGS / "errors.json").read_text())


class AudioServer:
    """Serves ``/<video id>.<ext>`` from tests/data/real; counts every GET.

    ``chunk_delay`` slows the answer down (seconds per 64 KB) so a download
    stays under way long enough to be joined or cancelled.
    """

    def __init__(self, chunk_delay: float = 0.0) -> None:
        self.chunk_delay = chunk_delay
        self.hits: Counter[str] = Counter()
        self.files: dict[str, Path] = {}
        for path in RECORDINGS.glob("video_*.json"):
            info = json.loads(path.read_text())
            self.files[f"/{info['id']}.ogg"] = TEST_DATA / "real" / info["_served_file"]
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] += 1
                path = server.files.get(self.path)
                if path is None:
                    self.send_error(404)
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "audio/ogg")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    for start in range(0, len(data), 1 << 16):
                        self.wfile.write(data[start : start + (1 << 16)])
                        if server.chunk_delay:
                            time.sleep(server.chunk_delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped the download

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> AudioServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def fetches(self, video_id: str) -> int:
        return self.hits[f"/{video_id}.ogg"]


def recorded_extractors(
    server: AudioServer, failures: dict[str, str] | None = None
) -> tuple[type, type]:
    """yt-dlp extractors answering from recordings.

    ``failures`` maps a video id or a search query to the error yt-dlp raises.

    The failures dict is read at each extraction, so a test can change it.
    """
    failures = failures if failures is not None else {}

    class RecordedYoutubeIE(InfoExtractor):
        IE_NAME = "recorded:youtube"
        _VALID_URL = r"https?://www\.youtube\.com/watch\?v=(?P<id>[A-Za-z0-9_-]{11})"

        def _real_extract(self, url):
            video_id = self._match_id(url)
            if video_id in failures:
                raise ExtractorError(failures[video_id], expected=True)
            if not (RECORDINGS / f"video_{video_id}.json").is_file():
                raise ExtractorError("Video unavailable", expected=True)
            info = copy.deepcopy(recording(video_id))
            served = server.files[f"/{video_id}.ogg"]
            info.pop("_served_file")
            info["formats"] = [
                {
                    "format_id": "251",
                    "url": f"{server.url}/{video_id}.ogg",
                    "ext": "ogg",
                    "acodec": "vorbis",
                    "vcodec": "none",
                    "abr": 128,
                    "asr": 44100,
                    "filesize": served.stat().st_size,
                }
            ]
            return info

    class RecordedYoutubeSearchIE(SearchInfoExtractor):
        IE_NAME = "recorded:ytsearch"
        _SEARCH_KEY = "ytsearch"
        calls: ClassVar[list[str]] = []

        def _search_results(self, query):
            RecordedYoutubeSearchIE.calls.append(query)
            if query in failures:  # raised while the entries are read, as yt-dlp does
                raise ExtractorError(failures[query], expected=True)
            name = "search_" + "_".join(query.lower().split()) + ".json"
            path = RECORDINGS / name
            if not path.is_file():
                return
            yield from json.loads(path.read_text())["entries"]

    return RecordedYoutubeIE, RecordedYoutubeSearchIE
