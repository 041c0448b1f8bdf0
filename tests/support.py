"""Helpers the tests share: test data paths, settings, a live server on loopback.

Kept out of conftest.py so that test modules import them by a name no other
conftest can shadow.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import aiohttp
import socketio
from hypercorn.asyncio import serve
from hypercorn.config import Config

from stemtube import users
from stemtube.app import create_app
from stemtube.config import Settings, settings_from_dict

TEST_DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery"


def make_settings(data_dir: Path, models_dir: Path, **sections: dict) -> Settings:
    raw = {
        "storage": {"data_dir": str(data_dir)},
        "auth": {"login_attempts_per_minute": 1000},
        "jobs": {"threads": 2},
        "plugins": {
            "demucs": {"models_dir": str(models_dir), "allow_download": False},
            # Songs get madmom's chords: the large-vocabulary backends take
            # seconds per song, and btc's weights are not here. Their own
            # tests turn them on.
            "lvchordia": {"enabled": False},
            "hybrid": {"enabled": False},
            "btc": {"allow_download": False},
            # No lyrics unless a test asks: LRCLIB is not reachable and
            # Whisper's weights are not here. The lyrics tests turn them on.
            "lrclib": {"enabled": False},
            "faster_whisper": {"enabled": False},
            # Sections take a few seconds per song; their tests turn them on.
            "structure": {"enabled": False},
        },
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return settings_from_dict(raw, base_dir=data_dir.parent)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The real app served by hypercorn on a loopback port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Short pings so clients notice a stopped server at once; 5 s for the
        # answer, so a busy machine (a song being split) does not drop them.
        self.app = create_app(
            settings, socketio_options={"ping_interval": 1, "ping_timeout": 5}
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._sessions: list[aiohttp.ClientSession] = []
        self._sockets: list[socketio.AsyncClient] = []

    @property
    def db(self):
        return self.app.state.db

    async def start(self) -> None:
        config = Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.graceful_timeout = 2
        config.accesslog = None
        # Hypercorn closes a connection idle for 5 s; a client that sends its
        # next request on it at that moment is disconnected (a race a loaded
        # CI machine loses now and then while a test waits for its jobs).
        config.keep_alive_timeout = 300
        self._task = asyncio.create_task(
            serve(self.app, config, shutdown_trigger=self._stop.wait)
        )
        async with aiohttp.ClientSession() as probe:
            for _ in range(200):
                with contextlib.suppress(aiohttp.ClientError):
                    async with probe.get(f"{self.url}/login") as answer:
                        if answer.status == 200 and self.db is not None:
                            return
                await asyncio.sleep(0.05)
        raise RuntimeError("the server did not start")

    async def stop(self) -> None:
        for sio in self._sockets:
            with contextlib.suppress(Exception):
                await sio.disconnect()
        for session in self._sessions:
            await session.close()
        self._stop.set()
        if self._task:
            await asyncio.wait_for(self._task, 30)

    async def add_user(self, name: str, *, admin: bool = False) -> users.User:
        return await users.create_user(self.db, name, PASSWORD, is_admin=admin)

    def session(self) -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(
            base_url=self.url, cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        self._sessions.append(session)
        return session

    async def login(self, name: str, password: str = PASSWORD) -> aiohttp.ClientSession:
        """A client session logged in as ``name``."""
        session = self.session()
        async with session.post(
            "/login", json={"username": name, "password": password}
        ) as answer:
            assert answer.status == 200, await answer.text()
        return session

    async def socket(self, session: aiohttp.ClientSession) -> socketio.AsyncClient:
        """A Socket.IO client connected with the session's cookie."""
        sio = socketio.AsyncClient(reconnection=False)
        cookies = "; ".join(f"{c.key}={c.value}" for c in session.cookie_jar)
        await sio.connect(self.url, headers={"Cookie": cookies}, wait_timeout=10)
        self._sockets.append(sio)
        return sio


async def upload(session: aiohttp.ClientSession, path: Path, name: str | None = None):
    """POST a file to /api/upload-file; returns (status, JSON answer)."""
    form = aiohttp.FormData()
    form.add_field("file", path.read_bytes(), filename=name or path.name)
    async with session.post("/api/upload-file", data=form) as answer:
        return answer.status, await answer.json()


async def extract(
    server: LiveServer, session: aiohttp.ClientSession, song: str = "robin.ogg"
) -> tuple[dict, int]:
    """Upload a real song, extract it and wait for every job to end.

    Returns the upload's answer and the extraction's id.
    """
    status, item = await upload(session, TEST_DATA / "real" / song)
    assert status == 200, item
    async with session.post(
        "/api/extractions", json={"video_id": item["video_id"]}
    ) as answer:
        assert answer.status == 200, await answer.text()
        extraction_id = (await answer.json())["extraction_id"]
    await server.app.state.runner.wait_idle()
    return item, extraction_id


def analyse(registry, path, parts=None, backend: str = "madmom") -> dict:
    """The core's analysis of one file, in this process."""
    from stemtube import analysis
    from stemtube.config import Settings

    spec = {
        "source": str(path),
        "parts": list(parts or analysis.PARTS),
        "backend": backend,
    }
    return analysis.analyse_song(Settings(), spec, lambda p, m: None, registry)


def majmin_score(segments: list[dict], lab: Path) -> float:
    """``mir_eval``'s majmin accuracy of chord segments against a .lab file."""
    from stemtube.scoring import chord_scores

    return chord_scores(segments, lab, ["majmin"])["majmin"]
