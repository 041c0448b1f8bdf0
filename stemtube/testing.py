"""A test kit for plugin authors, also registered as a pytest plugin.

Installed with StemTube's ``test`` extra (``pip install 'stemtube[test]'``),
it gives a plugin's own tests what StemTube's tests use:

- fixtures: ``stemtube_settings`` (a temporary data folder; override
  ``stemtube_plugins`` to set ``[plugins.NAME]`` tables), ``stemtube_server``
  (the real app served on a loopback port), ``stemtube_client`` (a session
  logged in as an admin) and ``short_audio`` (a real five-second stereo
  recording, CC-BY, see ``testing_data/LICENSES.md``);
- ``check_separator``, ``check_chord_backend`` and ``check_structure``: run a
  provider and put its answer through the very checks the core applies
  (stems named and shaped, times inside the song, labels valid), raising
  the ``ProviderError`` the job would fail with;
- ``upload`` and ``wait_for_extraction``, to drive the API like a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
import pytest_asyncio
import socketio
from hypercorn.asyncio import serve
from hypercorn.config import Config

from stemtube import media, users
from stemtube.app import create_app
from stemtube.config import Settings, settings_from_dict

#: The recording ``short_audio`` gives: 5.3 s of a jazz trumpet, stereo.
SHORT_AUDIO = Path(__file__).parent / "testing_data" / "trumpet_loop.ogg"
#: The password of the users the kit makes.
PASSWORD = "correct horse battery"

#: What a plugin's tests run without: no network, no large models.
QUIET_PLUGINS: dict[str, dict[str, Any]] = {
    "demucs": {"allow_download": False},
    "btc": {"allow_download": False},
    "lvchordia": {"enabled": False},
    "hybrid": {"enabled": False},
    "lrclib": {"enabled": False},
    "faster_whisper": {"enabled": False},
    "structure": {"enabled": False},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kit_settings(
    data_dir: Path, plugins: dict[str, dict] | None = None, **sections: dict
) -> Settings:
    """Settings on ``data_dir``: the quiet plugin defaults with ``plugins``'
    tables merged in, and any other ``[section]`` tables given."""
    tables = {name: dict(values) for name, values in QUIET_PLUGINS.items()}
    for name, values in (plugins or {}).items():
        tables.setdefault(name, {}).update(values)
    raw: dict[str, Any] = {
        "storage": {"data_dir": str(data_dir)},
        "auth": {"login_attempts_per_minute": 1000},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    raw["plugins"] = tables
    return settings_from_dict(raw, base_dir=data_dir.parent)


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


@contextlib.asynccontextmanager
async def running(settings: Settings):
    """A LiveServer on ``settings``, started, and stopped on leaving."""
    server = LiveServer(settings)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def upload(session: aiohttp.ClientSession, path: Path, name: str | None = None):
    """POST a file to /api/upload-file; returns (status, JSON answer)."""
    form = aiohttp.FormData()
    form.add_field("file", path.read_bytes(), filename=name or path.name)
    async with session.post("/api/upload-file", data=form) as answer:
        return answer.status, await answer.json()


async def wait_for_extraction(
    session: aiohttp.ClientSession, extraction_id: int, timeout: float = 300
) -> dict:
    """Poll an extraction until it completed or failed; its last answer."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with session.get(f"/api/extractions/{extraction_id}") as answer:
            extraction = await answer.json()
        if extraction.get("status") in ("completed", "failed"):
            return extraction
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {extraction.get('status')} after {timeout} s")
        await asyncio.sleep(0.25)


# Providers through the core's checks.


def load_audio(path: Path = SHORT_AUDIO) -> np.ndarray:
    """A file decoded as the core hands it to separators: (2, n) at 44.1 kHz."""
    return media.decode(path)


def check_separator(
    separator: Any, model: str | None = None, path: Path = SHORT_AUDIO
) -> dict[str, np.ndarray]:
    """Split ``path`` with ``separator`` as an extraction would; the stems.

    Runs ``check()``, ``ensure_model`` and ``separate`` as a job does: an
    exception becomes ``PLUGIN_FAILED``, a malformed answer
    ``BAD_SEPARATOR_RESULT``.
    """
    from stemtube.extraction import call_separator

    result = separator.check()
    assert result.ok, f"check() failed: {result.message}"
    model = model or next(iter(separator.models()))
    separator.ensure_model(model)
    return call_separator(separator, load_audio(path), model, device="cpu")


def check_chord_backend(backend: Any, path: Path = SHORT_AUDIO) -> list:
    """Chords of ``path`` as the core keeps them (``BAD_BACKEND_RESULT``)."""
    from stemtube.analysis import checked_chord_rows

    audio = load_audio(path).mean(axis=0)
    rows = backend.recognize(audio, media.CANONICAL_RATE)
    duration = audio.shape[0] / media.CANONICAL_RATE
    return checked_chord_rows(rows, duration, backend.name)


def check_structure(analyser: Any, path: Path = SHORT_AUDIO, context=None) -> list:
    """Sections of ``path`` as the core keeps them (``BAD_ANALYSER_RESULT``)."""
    from stemtube import sections

    audio = load_audio(path).mean(axis=0)
    found = analyser.analyse(audio, media.CANONICAL_RATE, context or {})
    duration = audio.shape[0] / media.CANONICAL_RATE
    return sections.checked(found.get("sections"), duration, analyser.name)


# The pytest plugin's fixtures.


@pytest.fixture
def stemtube_plugins() -> dict[str, dict]:
    """``[plugins.NAME]`` tables for the kit's settings; override to set yours."""
    return {}


@pytest.fixture
def stemtube_settings(tmp_path, stemtube_plugins) -> Settings:
    return kit_settings(tmp_path / "data", stemtube_plugins)


@pytest_asyncio.fixture
async def stemtube_server(stemtube_settings):
    async with running(stemtube_settings) as server:
        yield server


@pytest_asyncio.fixture
async def stemtube_client(stemtube_server) -> aiohttp.ClientSession:
    """A session of the admin ``admin`` on ``stemtube_server``."""
    await stemtube_server.add_user("admin", admin=True)
    return await stemtube_server.login("admin")


@pytest.fixture
def short_audio() -> Path:
    return SHORT_AUDIO
