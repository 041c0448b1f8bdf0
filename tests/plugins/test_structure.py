"""Song sections on real audio, through the core's analysis path.

madmom finds the beats and chords, the chords fix the bar phase, and the
structure analyser finds and names the sections; the songs have exact
ground truth (tests/data/songs/README.md).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import mir_eval
import numpy as np
import pytest

from stemtube import analysis, media, sections
from stemtube.config import Settings
from stemtube.registry import PluginRegistry

from support import TEST_DATA

POP = TEST_DATA / "songs" / "pop_c_major"
RATE = media.CANONICAL_RATE


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    registry = PluginRegistry(Settings(), kinds=("chords", "analysers"))
    assert registry.analyser_for("structure") is not None, registry.plugins
    return registry


def _stems(folder: Path, mix: Path, vocals: np.ndarray | None) -> Path:
    """A vocals stem and the rest, as a separator leaves them."""
    folder.mkdir(parents=True, exist_ok=True)
    audio = media.decode(mix)
    voice = (
        np.zeros_like(audio)
        if vocals is None
        else media.fit_length(vocals, audio.shape[1])
    )
    media.write_wav(folder / "vocals.wav", voice, RATE, "FLOAT")
    media.write_wav(folder / "other.wav", audio - voice, RATE, "FLOAT")
    return folder


def _analyse(registry, source: Path, stems_dir: Path | None) -> dict:
    spec = {
        "source": str(source),
        "parts": ["rhythm", "chords", "structure"],
        "backend": "madmom",
        "stems_dir": str(stems_dir) if stems_dir else None,
        "stems": ["vocals", "other"] if stems_dir else [],
        "model": "test" if stems_dir else None,
    }
    return analysis.analyse_song(Settings(), spec, lambda p, m: None, registry)


def _assert_covers(rows: list[dict], duration: float) -> None:
    assert rows[0]["start"] == 0.0
    assert rows[-1]["end"] == pytest.approx(duration, abs=1e-3)
    for before, after in itertools.pairwise(rows):
        assert before["end"] == after["start"]
        assert before["start"] < before["end"]
    assert {row["label"] for row in rows} <= set(sections.LABELS)


def test_pop_song_sections_match_the_truth(registry, tmp_path):
    truth = json.loads((POP / "truth.json").read_text())
    stems = _stems(
        tmp_path / "stems", POP / "mixture.ogg", media.decode(POP / "vocals.ogg")
    )
    found = _analyse(registry, POP / "mixture.ogg", stems)

    structure = found["structure"]
    assert structure["engine"] == "librosa-structure"
    assert structure["data"]["analyser"] == "librosa-structure"
    assert structure["data"]["version"] and structure["source"] == "stems:test"
    rows = structure["data"]["sections"]
    duration = media.decode(POP / "mixture.ogg").shape[1] / RATE
    _assert_covers(rows, duration)

    reference = np.array([[s, e] for s, e, _ in truth["sections"]])
    estimate = np.array([[r["start"], r["end"]] for r in rows])
    _, _, f_measure = mir_eval.segment.detection(reference, estimate, window=3.0)
    assert f_measure >= 0.75, rows
    # The sung verse and chorus are named apart from the unsung ends.
    labels = [r["label"] for r in rows]
    assert labels[0] == "intro" and labels[-1] == "outro", rows
    assert "chorus" in labels and "verse" in labels, rows

    # Every boundary is a downbeat, and the chords moved madmom's downbeats
    # (two beats late on this song) onto the true bars.
    rhythm = found["rhythm"]["data"]
    assert rhythm["bars_from"] == "chords"
    true_downbeats = [t for t, position in truth["beats"] if position == 1]
    hits = [min(abs(d - t) for t in true_downbeats) < 0.1 for d in rhythm["downbeats"]]
    assert np.mean(hits) > 0.9
    for row in rows[1:]:
        assert min(abs(row["start"] - d) for d in rhythm["downbeats"]) < 1e-3


def test_the_mix_alone_still_gives_sections_that_cover_it(registry):
    found = _analyse(registry, POP / "mixture.ogg", None)
    rows = found["structure"]["data"]["sections"]
    assert found["structure"]["source"] == "mix"
    _assert_covers(rows, media.decode(POP / "mixture.ogg").shape[1] / RATE)
    assert len(rows) >= 2


def test_a_short_clip_is_one_section(registry, tmp_path):
    clip = tmp_path / "clip.wav"
    audio = media.decode(POP / "mixture.ogg")[:, 10 * RATE : 15 * RATE]
    media.write_wav(clip, audio, RATE, "PCM_16")
    found = _analyse(registry, clip, None)
    rows = found["structure"]["data"]["sections"]
    assert len(rows) == 1
    _assert_covers(rows, 5.0)


def test_silence_is_one_instrumental_section(registry, tmp_path):
    silence = tmp_path / "silence.wav"
    media.write_wav(silence, np.zeros((2, 30 * RATE), np.float32), RATE, "PCM_16")
    found = _analyse(registry, silence, None)
    assert found["structure"]["data"]["sections"] == [
        {"start": 0.0, "end": 30.0, "label": "instrumental"}
    ]


def test_an_instrumental_has_no_sung_sections(registry, tmp_path):
    song = TEST_DATA / "real" / "vibe_ace.ogg"
    duration = media.decode(song).shape[1] / RATE
    # Split: the vocals stem of an instrumental is silent.
    found = _analyse(registry, song, _stems(tmp_path / "stems", song, None))
    rows = found["structure"]["data"]["sections"]
    _assert_covers(rows, duration)
    assert {r["label"] for r in rows} == {"instrumental"}
    # Not split: no crash, and sections that cover it.
    rows = _analyse(registry, song, None)["structure"]["data"]["sections"]
    _assert_covers(rows, duration)


def test_stems_of_another_length_or_missing_are_fitted_or_skipped(registry, tmp_path):
    mix = media.decode(POP / "mixture.ogg")
    folder = _stems(
        tmp_path / "stems", POP / "mixture.ogg", media.decode(POP / "vocals.ogg")
    )
    longer = np.pad(media.decode(folder / "vocals.wav"), ((0, 0), (0, 4410)))
    media.write_wav(folder / "vocals.wav", longer, RATE, "FLOAT")
    found = _analyse(registry, POP / "mixture.ogg", folder)
    _assert_covers(found["structure"]["data"]["sections"], mix.shape[1] / RATE)

    (folder / "vocals.wav").unlink()  # removed by hand from the data folder
    found = _analyse(registry, POP / "mixture.ogg", folder)
    assert found["structure"]["source"] == "stems:test"  # the other stem is used
    _assert_covers(found["structure"]["data"]["sections"], mix.shape[1] / RATE)
