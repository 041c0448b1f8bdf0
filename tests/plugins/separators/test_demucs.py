"""The demucs separator: weights in demucs's layout, demucs's own stems, downloads.

The published weights cannot be downloaded here, so the models are the
published architectures with random weights (tests/demucs_models.py), tiny
ones for separating and full-size ones only to count parameters. They are
saved exactly as demucs publishes its files and load through the same path.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import random
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from demucs.apply import apply_model
from demucs.pretrained import get_model

from stemtube.media import decode
from stemtube.plugins.separators import demucs as plugin
from stemtube.plugins.separators.demucs import DemucsSeparator, import_weights
from stemtube.providers import ProviderError

import demucs_models

REAL = Path(__file__).resolve().parents[2] / "data" / "real"
STEMS = {
    "htdemucs": {"vocals", "drums", "bass", "other"},
    "htdemucs_6s": {"vocals", "drums", "bass", "other", "guitar", "piano"},
}
#: Shifts move the input by a random offset; both sides draw it from this seed.
SEED = 20240611


class Recorder:
    """A progress callback that keeps what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    def __call__(self, percent: float, message: str) -> None:
        self.calls.append((percent, message))


def separate_seeded(
    separator: DemucsSeparator,
    audio: np.ndarray,
    model: str,
    progress: Recorder | None = None,
) -> dict[str, np.ndarray]:
    random.seed(SEED)
    return separator.separate(
        audio, model, device="cpu", progress=progress or Recorder()
    )


@pytest.fixture(scope="module", params=sorted(STEMS))
def separation(
    request: pytest.FixtureRequest, tiny_models: Path, clip: np.ndarray
) -> tuple[str, dict[str, np.ndarray], Recorder]:
    """One model's stems of the clip, made by the plugin, and its progress."""
    progress = Recorder()
    separator = DemucsSeparator(tiny_models, allow_download=False)
    stems = separate_seeded(separator, clip, request.param, progress)
    return request.param, stems, progress


@pytest.fixture
def weights_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on loopback serving a folder; gives its URL and folder."""
    root = tmp_path / "site"
    (root / "hybrid_transformer").mkdir(parents=True)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def publish(
    monkeypatch: pytest.MonkeyPatch, site: Path, weights: Path, name: str
) -> Path:
    """Serve ``weights`` as hybrid_transformer/``name``, htdemucs's published file.

    The plugin takes the expected checksum from the published file name, so
    the name's suffix decides whether the download counts as intact.
    """
    served = site / "hybrid_transformer" / name
    shutil.copyfile(weights, served)
    monkeypatch.setattr(
        plugin, "_published_files", lambda: {"955717e8": f"hybrid_transformer/{name}"}
    )
    return served


def tiny_weights(folder: Path, name: str = "htdemucs", seed: int = 0) -> Path:
    """A tiny weights file named ``<signature>-<its sha256 prefix>.th``."""
    return demucs_models.save_model(
        demucs_models.build_model(name, seed=seed), name, folder
    )


def sha256_prefix(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


# The models.


@pytest.mark.parametrize(
    ("name", "parameters"), [("htdemucs", 41_984_456), ("htdemucs_6s", 27_414_996)]
)
def test_full_size_models_have_the_published_parameter_counts(
    name: str, parameters: int
) -> None:
    model = demucs_models.build_model(name, tiny=False)

    assert sum(p.numel() for p in model.parameters()) == parameters


@pytest.mark.parametrize("name", sorted(STEMS))
def test_tiny_models_are_in_demucs_layout(tiny_models: Path, name: str) -> None:
    signature = demucs_models.SIGNATURES[name]
    (weights,) = tiny_models.glob(f"{signature}-*.th")
    package = torch.load(weights, map_location="cpu", weights_only=False)

    assert weights.stem == f"{signature}-{sha256_prefix(weights)}"
    assert yaml.safe_load((tiny_models / f"{name}.yaml").read_text()) == {
        "models": [signature]
    }
    assert set(package) == {"klass", "args", "kwargs", "state", "training_args"}
    assert package["klass"].__name__ == "HTDemucs"
    assert {v.dtype for v in package["state"].values() if v.is_floating_point()} == {
        torch.float16
    }


# Separating.


def test_plugin_gives_the_stems_each_model_is_named_for(separation) -> None:
    name, stems, _ = separation

    assert set(stems) == STEMS[name]


def test_every_stem_is_stereo_float32_exactly_as_long_as_the_input(
    separation, clip: np.ndarray
) -> None:
    _, stems, _ = separation

    for stem in stems.values():
        assert stem.shape == clip.shape
        assert stem.dtype == np.float32


def test_no_stem_is_silent(separation) -> None:
    _, stems, _ = separation

    for name, stem in stems.items():
        assert np.isfinite(stem).all(), name
        assert np.sqrt(np.mean(stem.astype(np.float64) ** 2)) > 1e-4, name


def test_progress_rises_to_100_while_separating(separation) -> None:
    _, _, progress = separation
    percents = [percent for percent, _ in progress.calls]

    assert len(percents) >= 2  # 10 s is more than one 7.8 s chunk
    assert percents == sorted(percents)
    assert percents[-1] == pytest.approx(100)
    assert all(message == "Separating stems" for _, message in progress.calls)


def test_stems_equal_what_demucs_own_apply_code_makes(
    separation, tiny_models: Path, clip: np.ndarray
) -> None:
    name, stems, _ = separation
    defaults = DemucsSeparator(tiny_models)
    model = get_model(name, repo=tiny_models)
    wav = torch.from_numpy(clip)
    # demucs.api normalises by the mono mix's mean and standard deviation.
    mono = wav.mean(0)
    mean, std = mono.mean(), mono.std() + 1e-8

    random.seed(SEED)
    with torch.no_grad():
        out = apply_model(
            model,
            ((wav - mean) / std)[None],
            shifts=defaults.shifts,
            split=True,
            overlap=defaults.overlap,
            device="cpu",
        )
    expected = dict(zip(model.sources, (out * std + mean)[0].numpy(), strict=True))

    assert set(stems) == set(expected)
    for stem, audio in expected.items():
        np.testing.assert_allclose(stems[stem], audio, rtol=0, atol=1e-5, err_msg=stem)


def test_unknown_model_is_refused(tiny_models: Path, clip: np.ndarray) -> None:
    separator = DemucsSeparator(tiny_models, allow_download=False)

    with pytest.raises(ProviderError) as error:
        separator.separate(clip, "mdx_extra", device="cpu")

    assert error.value.code == "UNKNOWN_MODEL"


@pytest.mark.parametrize("file_format", ["WAV", "OGG"])
def test_mono_48khz_file_separates_to_its_length_at_44100(
    tmp_path: Path, tiny_models: Path, file_format: str
) -> None:
    # An odd sample count, so the length at 44.1 kHz has to be rounded.
    mono = decode(REAL / "trumpet_loop.ogg", 48000).mean(axis=0)[:144_007]
    path = tmp_path / f"mono48k.{file_format.lower()}"
    sf.write(path, mono, 48000, format=file_format)
    info = sf.info(path)
    assert (info.channels, info.samplerate) == (1, 48000)
    expected = round(info.frames * 44100 / 48000)

    audio = decode(path)
    stems = DemucsSeparator(tiny_models, allow_download=False).separate(
        audio, "htdemucs", device="cpu"
    )

    assert audio.shape == (2, expected)
    np.testing.assert_array_equal(audio[0], audio[1])
    assert set(stems) == STEMS["htdemucs"]
    for stem in stems.values():
        assert stem.shape == (2, expected)


# Missing weights and downloads.


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that is bound but never listens: connections fail."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_missing_weights_that_cannot_be_downloaded_are_unavailable(
    tmp_path: Path, refusing_port: int, clip: np.ndarray
) -> None:
    separator = DemucsSeparator(
        tmp_path / "models", base_url=f"http://127.0.0.1:{refusing_port}/"
    )

    with pytest.raises(ProviderError) as error:
        separator.separate(clip, "htdemucs", device="cpu")

    assert error.value.code == "MODEL_UNAVAILABLE"
    assert "stemtube models download htdemucs" in error.value.message


def test_missing_weights_with_downloads_off_are_unavailable(
    tmp_path: Path, refusing_port: int, clip: np.ndarray
) -> None:
    separator = DemucsSeparator(
        tmp_path / "models",
        base_url=f"http://127.0.0.1:{refusing_port}/",
        allow_download=False,
    )

    with pytest.raises(ProviderError) as error:
        separator.separate(clip, "htdemucs_6s", device="cpu")

    assert error.value.code == "MODEL_UNAVAILABLE"
    assert "stemtube models download htdemucs_6s" in error.value.message
    assert "downloads are turned off" in error.value.message


def test_server_that_does_not_speak_http_makes_weights_unavailable(
    tmp_path: Path,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()

        def answer_garbage() -> None:
            conn, _ = sock.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"garbage\r\n\r\n")

        thread = threading.Thread(target=answer_garbage, daemon=True)
        thread.start()
        separator = DemucsSeparator(
            tmp_path / "models", base_url=f"http://127.0.0.1:{sock.getsockname()[1]}/"
        )

        with pytest.raises(ProviderError) as error:
            separator.ensure_model("htdemucs")
        thread.join(5)

    assert error.value.code == "MODEL_UNAVAILABLE"


def test_base_url_without_a_scheme_makes_weights_unavailable(tmp_path: Path) -> None:
    separator = DemucsSeparator(tmp_path / "models", base_url="mirror.lan/demucs")

    with pytest.raises(ProviderError) as error:
        separator.ensure_model("htdemucs")

    assert error.value.code == "MODEL_UNAVAILABLE"


def test_weights_download_from_a_site_laid_out_like_the_official_one(
    tmp_path: Path,
    weights_server: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    clip: np.ndarray,
) -> None:
    url, site = weights_server
    weights = tiny_weights(tmp_path / "built")
    publish(monkeypatch, site, weights, weights.name)
    models_dir = tmp_path / "models"
    separator = DemucsSeparator(models_dir, base_url=url)
    progress = Recorder()

    separator.ensure_model("htdemucs", progress)

    assert (models_dir / weights.name).read_bytes() == weights.read_bytes()
    assert separator.has_weights("htdemucs")
    assert progress.calls
    assert progress.calls[-1][0] == pytest.approx(100)
    assert "Downloading htdemucs weights" in progress.calls[-1][1]
    stems = separator.separate(clip[:, :44100], "htdemucs", device="cpu")
    assert set(stems) == STEMS["htdemucs"]


def test_corrupt_download_is_unavailable_and_leaves_no_file(
    tmp_path: Path, weights_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, site = weights_server
    weights = tiny_weights(tmp_path / "built")
    publish(monkeypatch, site, weights, "955717e8-00000000.th")
    models_dir = tmp_path / "models"
    separator = DemucsSeparator(models_dir, base_url=url)

    with pytest.raises(ProviderError) as error:
        separator.ensure_model("htdemucs")

    assert error.value.code == "MODEL_UNAVAILABLE"
    assert "corrupt" in error.value.message
    assert [p.name for p in models_dir.iterdir()] == ["htdemucs.yaml"]
    assert not separator.has_weights("htdemucs")


# Importing weights.


@pytest.mark.parametrize("name", sorted(STEMS))
def test_import_accepts_a_published_name_with_a_matching_checksum(
    tmp_path: Path, name: str
) -> None:
    weights = tiny_weights(tmp_path / "built", name)
    models_dir = tmp_path / "models"

    owners = import_weights(weights, models_dir)

    assert owners == [name]
    assert (models_dir / weights.name).read_bytes() == weights.read_bytes()
    assert DemucsSeparator(models_dir, allow_download=False).has_weights(name)
    assert get_model(name, repo=models_dir).sources == demucs_models.SOURCES[name]


@pytest.mark.parametrize("file_name", ["deadbeef-{sha}.th", "955717e8.th"])
def test_import_rejects_a_name_demucs_does_not_publish(
    tmp_path: Path, file_name: str
) -> None:
    weights = tiny_weights(tmp_path / "built")
    renamed = weights.rename(
        weights.with_name(file_name.format(sha=sha256_prefix(weights)))
    )
    models_dir = tmp_path / "models"

    with pytest.raises(ProviderError) as error:
        import_weights(renamed, models_dir)

    assert error.value.code == "UNKNOWN_WEIGHTS"
    assert not models_dir.exists()


def test_import_rejects_a_file_that_fails_its_checksum(tmp_path: Path) -> None:
    weights = tiny_weights(tmp_path / "built")
    renamed = weights.rename(weights.with_name("955717e8-00000000.th"))
    models_dir = tmp_path / "models"

    with pytest.raises(ProviderError) as error:
        import_weights(renamed, models_dir)

    assert error.value.code == "CORRUPT_WEIGHTS"
    assert not models_dir.exists()


def test_import_replaces_earlier_weights_of_the_same_model(tmp_path: Path) -> None:
    first = tiny_weights(tmp_path / "first", seed=0)
    second = tiny_weights(tmp_path / "second", seed=1)
    models_dir = tmp_path / "models"
    import_weights(first, models_dir)

    import_weights(second, models_dir)

    assert sorted(p.name for p in models_dir.glob("*.th")) == [second.name]
    # demucs refuses a folder holding two files for one signature.
    get_model("htdemucs", repo=models_dir)
