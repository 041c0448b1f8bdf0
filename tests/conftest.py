"""Fixtures: tiny demucs models, settings on a temporary data folder, a live server."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

# tests/ is no package; its helper modules are imported by name.
sys.path.insert(0, str(Path(__file__).parent))

from stemtube.config import Settings
from stemtube.logs import configure_logging
from stemtube.media import decode
from stemtube.testing import running

from demucs_models import build_tiny_repo
from support import TEST_DATA, LiveServer, make_settings


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demucs weights folder with small random-weight htdemucs and htdemucs_6s."""
    return build_tiny_repo(tmp_path_factory.mktemp("demucs-models"))


@pytest.fixture(scope="session")
def clip() -> np.ndarray:
    """The first 10 s of a real song, decoded as every job decodes it."""
    return decode(TEST_DATA / "real" / "fishin.ogg")[:, : 10 * 44100].copy()


@pytest.fixture
def settings(tmp_path: Path, tiny_models: Path) -> Settings:
    return make_settings(tmp_path / "data", tiny_models)


@pytest.fixture
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    async with running(settings) as server:
        yield server


# Users of a live server, each a logged-in client session.


@pytest.fixture
async def alice(live_server):
    await live_server.add_user("alice")
    return await live_server.login("alice")


@pytest.fixture
async def bob(live_server):
    await live_server.add_user("bob")
    return await live_server.login("bob")


@pytest.fixture
async def root(live_server):
    await live_server.add_user("root", admin=True)
    return await live_server.login("root")


@pytest.fixture
def server_log(settings):
    """The server's log file, as `stemtube serve` writes it; removed after."""
    configure_logging(settings, console=False)
    yield settings.data_dir / "logs" / settings.logging.file
    for handler in list(logging.getLogger().handlers):
        if getattr(handler, "_stemtube", False):
            logging.getLogger().removeHandler(handler)
            handler.close()
