"""madmom's chords, beats, tempo and key on real audio, through the core's path.

(The last test runs every shipped chord backend on audio without music.)

The models are the ones the madmom package ships; the songs have exact
ground truth (tests/data/songs/README.md).
"""

from __future__ import annotations

import itertools
import json

import mir_eval
import numpy as np
import pytest
import soundfile

from stemtube.config import Settings
from stemtube.registry import PluginRegistry

from support import TEST_DATA, analyse, majmin_score

SONGS = TEST_DATA / "songs"


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    registry = PluginRegistry(Settings(), kinds=("chords", "analysers"))
    assert "madmom" in registry.chord_backends, registry.plugins["madmom"]
    return registry


def test_pop_song_chords_tempo_and_key(registry):
    truth = json.loads((SONGS / "pop_c_major" / "truth.json").read_text())
    found = analyse(registry, SONGS / "pop_c_major" / "mixture.ogg")

    chords = found["chords"]["data"]
    assert chords["backend"] == "madmom" and chords["source"] == "mix"
    assert chords["aligned_to_beats"] is True
    assert majmin_score(chords["segments"], SONGS / "pop_c_major" / "chords.lab") >= 0.9
    assert {s["name"] for s in chords["segments"]} >= {"C", "G", "Am", "F"}
    labels = [s["label"] for s in chords["segments"]]
    assert all(a != b for a, b in itertools.pairwise(labels))  # merged

    rhythm = found["rhythm"]["data"]
    assert rhythm["bpm"] == pytest.approx(truth["bpm"], rel=0.02)
    assert rhythm["meter"] == truth["meter"]
    reference = np.array([t for t, _ in truth["beats"]])
    f_measure = mir_eval.beat.f_measure(
        mir_eval.beat.trim_beats(reference),
        mir_eval.beat.trim_beats(np.array(rhythm["beats"])),
    )
    assert f_measure >= 0.9
    assert found["key"]["data"]["key"] == "C major"


def test_the_ballad_is_in_a_minor_not_its_relative(registry):
    found = analyse(registry, SONGS / "ballad_a_minor_sevenths" / "mixture.ogg")
    assert found["key"]["data"]["key"] == "A minor"
    assert found["rhythm"]["data"]["bpm"] == pytest.approx(84, rel=0.02)


def test_the_trumpet_loop_is_counted_at_90_bpm(registry):
    found = analyse(registry, TEST_DATA / "real" / "trumpet_loop.ogg", ["rhythm"])
    assert found["rhythm"]["data"]["bpm"] == pytest.approx(90, rel=0.02)
    assert set(found) == {"rhythm"}


@pytest.mark.parametrize("backend", ["madmom", "lvchordia", "hybrid"])
@pytest.mark.parametrize("kind", ["silence", "one second", "robin.ogg"])
def test_no_music_gives_no_chords_and_no_crash(registry, tmp_path, kind, backend):
    if kind == "robin.ogg":
        path = TEST_DATA / "real" / "robin.ogg"
    else:
        seconds = 10 if kind == "silence" else 1
        audio = np.zeros((44100 * seconds, 2), dtype=np.float32)
        if kind == "one second":
            audio[:, :] = 0.2 * np.sin(np.linspace(0, 2 * np.pi * 440, 44100))[:, None]
        path = tmp_path / "clip.wav"
        soundfile.write(path, audio, 44100)
    found = analyse(registry, path, backend=backend)
    labels = {s["label"] for s in found["chords"]["data"]["segments"]}
    assert labels <= {"N"}
    if kind == "silence":
        assert found["key"]["data"]["key"] is None
        assert found["rhythm"]["data"]["beats"] == []


def test_the_meter_is_the_usual_bar_not_a_short_first_one():
    from stemtube.plugins.analysis.madmom import bar_length

    assert bar_length([3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1]) == 4
    assert bar_length([2, 1, 2, 3, 1, 2, 3, 1]) == 3  # an upbeat, then 3/4
    assert bar_length([1, 2]) == 2
    assert bar_length([]) is None
