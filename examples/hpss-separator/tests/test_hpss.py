"""The example plugin, tested with StemTube's test kit only."""

from __future__ import annotations

import numpy as np
import pytest
from stemtube_hpss import HpssSeparator

from stemtube.providers import ProviderError
from stemtube.testing import check_separator, load_audio, upload, wait_for_extraction


def test_the_stems_pass_the_core_checks_and_add_up_to_the_song(short_audio):
    stems = check_separator(HpssSeparator(), "hpss", short_audio)
    assert list(stems) == ["vocals", "drums", "other"]
    song = load_audio(short_audio)
    together = sum(stems.values())
    assert np.max(np.abs(together - song)) < 1e-3
    for name, stem in stems.items():
        assert np.sqrt(np.mean(stem**2)) > 1e-4, name


def test_a_sound_at_one_side_is_not_vocals(short_audio):
    song = load_audio(short_audio)
    left_only = song.copy()
    left_only[1] = 0
    stems = HpssSeparator().separate(left_only, "hpss", device="cpu")
    centred = HpssSeparator().separate(
        song.mean(axis=0, keepdims=True).repeat(2, 0), "hpss", device="cpu"
    )
    assert np.sqrt(np.mean(stems["vocals"] ** 2)) < 0.1 * np.sqrt(
        np.mean(centred["vocals"] ** 2)
    )


def test_an_unknown_model_is_refused():
    with pytest.raises(ProviderError) as refused:
        HpssSeparator().ensure_model("htdemucs")
    assert refused.value.code == "UNKNOWN_MODEL"


async def test_it_splits_an_upload_through_the_api(stemtube_client, short_audio):
    async with stemtube_client.get("/api/config") as answer:
        assert "hpss" in (await answer.json())["models"]
    status, item = await upload(stemtube_client, short_audio)
    assert status == 200
    body = {"video_id": item["video_id"], "model": "hpss"}
    async with stemtube_client.post("/api/extractions", json=body) as answer:
        assert answer.status == 200
        extraction_id = (await answer.json())["extraction_id"]
    extraction = await wait_for_extraction(stemtube_client, extraction_id)
    assert extraction["status"] == "completed", extraction
    assert extraction["stems"] == ["vocals", "drums", "other"]
