"""Helpers the tests share: test data paths, settings, a live server on loopback.

Kept out of conftest.py so that test modules import them by a name no other
conftest can shadow.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from stemtube.config import Settings
from stemtube.testing import PASSWORD, LiveServer, free_port, kit_settings, upload

TEST_DATA = Path(__file__).parent / "data"
__all__ = ["PASSWORD", "TEST_DATA", "LiveServer", "free_port", "upload"]


def make_settings(data_dir: Path, models_dir: Path, **sections: dict) -> Settings:
    """The test kit's settings (large or networked plugins off: their own
    tests turn them on), with the tiny demucs models and two threads."""
    # Plugins installed beside StemTube (the example) stay out of the core's
    # tests; their own tests turn them on.
    plugins = {"demucs": {"models_dir": str(models_dir)}, "hpss": {"enabled": False}}
    for name, values in sections.pop("plugins", {}).items():
        plugins.setdefault(name, {}).update(values)
    jobs = {"threads": 2, **sections.pop("jobs", {})}
    return kit_settings(data_dir, plugins, jobs=jobs, **sections)


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
