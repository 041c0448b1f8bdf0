"""A local LRCLIB: its documented /api/search and /api/get, on a loopback port."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def lrc(lines: list[tuple[float, str]]) -> str:
    return "\n".join(f"[{int(t // 60):02d}:{t % 60:05.2f}] {text}" for t, text in lines)


class FakeLrcLib:
    """Serves ``records`` (LRCLIB's JSON objects); remembers every request."""

    def __init__(self, records: list[dict], *, delay: float = 0.0) -> None:
        self.records = records
        self.delay = delay
        self.requests: list[tuple[str, dict, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(url.query))
                fake.requests.append(
                    (url.path, params, self.headers.get("User-Agent", ""))
                )
                if fake.delay:
                    threading.Event().wait(fake.delay)
                if url.path == "/api/search":
                    self._send(200, fake.search(params))
                elif url.path == "/api/get" and (found := fake.get(params)):
                    self._send(200, found)
                else:
                    self._send(
                        404,
                        {
                            "code": 404,
                            "name": "TrackNotFound",
                            "message": "Failed to find specified track",
                        },
                    )

            def _send(self, status: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def search(self, params: dict) -> list[dict]:
        wanted = params.get("track_name", params.get("q", "")).lower()
        return [r for r in self.records if wanted and wanted in r["trackName"].lower()]

    def get(self, params: dict) -> dict | None:
        for record in self.records:
            if (
                record["trackName"].lower() == params.get("track_name", "").lower()
                and abs(record["duration"] - float(params.get("duration", -99))) <= 2
            ):
                return record
        return None

    def __enter__(self) -> FakeLrcLib:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
