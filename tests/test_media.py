"""Probing and decoding real files of several shapes."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from stemtube import media
from stemtube.providers import ProviderError

from support import TEST_DATA


def test_probe_measures_a_real_song_exactly():
    info = media.probe(TEST_DATA / "real" / "fishin.ogg")
    assert info.samples == sf.info(TEST_DATA / "real" / "fishin.ogg").frames
    assert (info.sample_rate, info.channels) == (44100, 2)
    assert info.title == "Let's Go Fishin'"


def test_decode_matches_the_file_sample_for_sample():
    path = TEST_DATA / "real" / "trumpet_loop.ogg"
    reference, _ = sf.read(path, dtype="float32", always_2d=True)
    audio = media.decode(path)
    assert audio.shape == (2, len(reference))
    np.testing.assert_allclose(audio, reference.T, atol=1e-5)


def test_mono_16k_speech_becomes_stereo_at_44k_with_the_same_duration():
    path = TEST_DATA / "real" / "speech.ogg"
    frames = sf.info(path).frames
    audio = media.decode(path)
    assert audio.shape == (2, round(frames * 44100 / 16000))
    np.testing.assert_array_equal(audio[0], audio[1])
    assert np.abs(audio).max() > 0.05


def test_six_channels_are_mixed_down_to_stereo(tmp_path):
    tone = np.sin(np.linspace(0, 2000, 48000, dtype=np.float32)) * 0.3
    path = tmp_path / "surround.wav"
    sf.write(path, np.stack([tone] * 6, axis=1), 48000)
    audio = media.decode(path)
    assert audio.shape == (2, 44100)
    assert np.abs(audio).max() > 0.1


@pytest.mark.parametrize("content", [b"", b"hello world\n" * 100])
def test_probe_refuses_what_is_not_audio(tmp_path, content):
    path = tmp_path / "x.mp3"
    path.write_bytes(content)
    with pytest.raises(ProviderError) as error:
        media.probe(path)
    assert error.value.code in ("EMPTY_FILE", "NOT_AUDIO")


def test_ffmpeg_is_found_without_a_system_package():
    assert media.ffmpeg_executable()
    assert media.ffmpeg_version()
