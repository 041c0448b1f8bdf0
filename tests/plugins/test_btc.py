"""btc: StemTube's implementation loads checkpoints of the published layout."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from btc_models import build_btc_dir, published_layout, write_checkpoint

from stemtube import media
from stemtube.config import Settings, settings_from_dict
from stemtube.plugins.chords import btc, hybrid
from stemtube.providers import ProviderError

from support import TEST_DATA


@pytest.fixture(scope="module")
def btc_dir(tmp_path_factory) -> object:
    return build_btc_dir(tmp_path_factory.mktemp("btc"))


def test_the_network_has_the_published_names_and_shapes(btc_dir):
    for classes in (25, 170):
        ours = {
            k: tuple(v.shape) for k, v in btc.build_model(classes).state_dict().items()
        }
        assert ours == published_layout(classes)
    model, mean, std, classes = btc.load_checkpoint(btc_dir / "btc_model_large_voca.pt")
    assert classes == 170 and float(mean) == -5.5 and float(std) == pytest.approx(2.4)
    logits = model(torch.zeros(2, btc.TIMESTEP, btc.N_BINS))
    assert logits.shape == (2, btc.TIMESTEP, 170)


def test_the_vocabularies_are_the_published_ones():
    large = btc.large_labels()
    assert len(large) == 170 and large[-2:] == ["X", "N"]
    assert large[:3] == ["C:min", "C:maj", "C:dim"] and large[167] == "B:sus4"
    majmin = btc.majmin_labels()
    assert len(majmin) == 25 and majmin[:2] == ["C:maj", "C:min"] and majmin[24] == "N"


def test_features_have_the_published_shape():
    ten_seconds = np.random.default_rng(0).standard_normal(441000).astype(np.float32)
    frames = btc.features(ten_seconds * 0.1, 44100)
    assert frames.shape == (108, 144)
    song = media.decode(TEST_DATA / "songs" / "pop_c_major" / "mixture.ogg").mean(0)
    frames = btc.features(song, 44100)
    # 10 s pieces of 108 frames; the last 9 s piece gives 1 + 9 * 22050 // 2048.
    assert frames.shape == (4 * 108 + 1 + 9 * 22050 // 2048, 144)
    assert np.isfinite(frames).all()


def test_every_frame_gets_a_chord_of_the_vocabulary(btc_dir):
    backend = btc.BtcChords("btc", btc_dir, allow_download=False)
    song = media.decode(TEST_DATA / "songs" / "pop_c_major" / "mixture.ogg").mean(0)
    rows = backend.recognize(song, 44100)
    assert rows[0][0] == 0.0
    assert rows[-1][1] == pytest.approx(len(btc.features(song, 44100)) * 10 / 108)
    assert all(a[1] == pytest.approx(b[0]) for a, b in itertools.pairwise(rows))
    assert {label for _, _, label in rows} <= set(btc.large_labels())


def test_missing_or_foreign_weights_are_clear_errors(tmp_path):
    backend = btc.BtcChords("btc-majmin", tmp_path, allow_download=False)
    assert not backend.check().ok and "downloads are off" in backend.check().message
    with pytest.raises(ProviderError) as missing:
        backend.recognize(np.zeros(44100, dtype=np.float32), 44100)
    assert missing.value.code == "MODEL_UNAVAILABLE"

    wrong = write_checkpoint(tmp_path / "btc_model.pt", 25)
    state = torch.load(wrong, weights_only=False)
    state["model"]["self_attn_layers.extra"] = torch.zeros(1)
    torch.save(state, wrong)
    with pytest.raises(ProviderError) as foreign:
        btc.load_checkpoint(wrong)
    assert foreign.value.code == "CORRUPT_WEIGHTS"


def test_an_imported_checkpoint_lands_under_its_published_name(tmp_path):
    source = write_checkpoint(tmp_path / "downloaded.pt", 170)
    assert btc.import_weights(source, tmp_path / "models") == "btc"
    assert (tmp_path / "models" / "btc_model_large_voca.pt").is_file()


def test_hybrid_takes_btc_when_its_weights_are_there(btc_dir, tmp_path):
    with_weights = settings_from_dict(
        {"plugins": {"btc": {"models_dir": str(btc_dir)}}}, base_dir=tmp_path
    )
    [backend] = hybrid.register_chord_backends(with_weights)
    assert backend._large_backend().name == "btc"
    [backend] = hybrid.register_chord_backends(Settings())
    assert backend._large_backend().name == "lvchordia"
