"""Fixtures for the separator tests: tiny demucs weights and a real clip."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parents[2]
# tests/ is no package; its helpers (demucs_models) are imported by name.
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import demucs_models  # noqa: E402

from stemtube.media import decode  # noqa: E402

REAL = TESTS / "data" / "real"


@pytest.fixture(scope="session")
def tiny_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demucs folder with tiny random-weight htdemucs and htdemucs_6s."""
    return demucs_models.build_tiny_repo(tmp_path_factory.mktemp("demucs-repo"))


@pytest.fixture(scope="session")
def clip() -> np.ndarray:
    """The first 10 s of a real song, decoded as every job decodes it."""
    return decode(REAL / "fishin.ogg")[:, : 10 * 44100].copy()
