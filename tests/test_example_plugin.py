"""The example plugin in examples/hpss-separator, installed as a third
party's would be: listed, checked, switched off and on, and splitting a real
song through the API like htdemucs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile

from stemtube import media
from stemtube.testing import running

from support import TEST_DATA, make_settings, upload

pytest.importorskip(
    "stemtube_hpss", reason="install it: pip install -e examples/hpss-separator"
)


def plugins_command(config, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "stemtube.cli", "--config", str(config)]
    return subprocess.run(
        [*command, "plugins", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_it_is_listed_with_its_version_and_switched_off_and_on(tmp_path):
    config = tmp_path / "stemtube.toml"
    config.write_text(
        '# my settings\n[storage]\ndata_dir = "data"  # kept here\n'
        "[plugins.demucs]\nallow_download = false\n"
    )
    listed = plugins_command(config)
    assert listed.returncode == 0, listed.stderr
    (line,) = [ln for ln in listed.stdout.splitlines() if ln.startswith("hpss ")]
    assert line.split()[1:3] == ["0.1.0", "loaded"]
    assert "no weights needed" in line

    off = plugins_command(config, "disable", "hpss")
    assert off.returncode == 0 and "restart the server" in off.stdout
    text = config.read_text()
    assert "# my settings" in text and "# kept here" in text
    assert "[plugins.hpss]\nenabled = false" in text
    listed = plugins_command(config, "list")
    assert any(
        ln.startswith("hpss ") and " disabled " in ln
        for ln in listed.stdout.splitlines()
    )
    on = plugins_command(config, "enable", "hpss")
    assert on.returncode == 0
    assert "enabled = true" in config.read_text()

    unknown = plugins_command(config, "disable", "nosuchplugin")
    assert unknown.returncode == 1
    assert "no plugin 'nosuchplugin'" in unknown.stderr


@pytest.fixture
async def live_server(tmp_path, tiny_models):
    settings = make_settings(
        tmp_path / "data", tiny_models, plugins={"hpss": {"enabled": True}}
    )
    async with running(settings) as server:
        yield server


async def test_it_splits_a_real_song_through_the_api(live_server):
    await live_server.add_user("alice")
    alice = await live_server.login("alice")
    async with alice.get("/api/config") as answer:
        config = await answer.json()
    assert "hpss" in config["models"]
    assert config["model_stems"]["hpss"] == ["vocals", "drums", "other"]

    song = TEST_DATA / "real" / "fishin.ogg"
    _, item = await upload(alice, song)
    body = {"video_id": item["video_id"], "model": "hpss", "generate_lyrics": False}
    async with alice.post("/api/extractions", json=body) as answer:
        assert answer.status == 200
        extraction_id = (await answer.json())["extraction_id"]
    await live_server.app.state.runner.wait_idle()
    async with alice.get(f"/api/extractions/{extraction_id}") as answer:
        extraction = await answer.json()
    assert extraction["status"] == "completed", extraction
    assert extraction["stems"] == ["vocals", "drums", "other"]

    samples = media.decode(song).shape[1]
    heard = {}
    for stem in extraction["stems"]:
        async with alice.get(f"/api/extracted_stems/{extraction_id}/{stem}") as answer:
            assert answer.status == 200
            path = live_server.settings.data_dir / f"{stem}.check"
            path.write_bytes(await answer.read())
        audio, rate = soundfile.read(path, always_2d=True)
        assert (len(audio), rate) == (samples, 44100), stem
        heard[stem] = np.sqrt(np.mean(audio**2))
    assert all(level > 1e-3 for level in heard.values()), heard
