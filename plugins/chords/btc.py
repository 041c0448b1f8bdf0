"""btc: the Bi-directional Transformer for Chord recognition (Park et al., ISMIR 2019).

StemTube's own implementation of the published architecture and feature
pipeline, written so that the authors' two checkpoint files load unchanged
(``btc_model.pt``: 25 classes, major and minor chords and N;
``btc_model_large_voca.pt``: 170 classes, 12 roots by 14 qualities, X and N).
BTC is not on PyPI, so there is no package to depend on; the module and
parameter names below follow the checkpoints' keys.

The model, as the paper and the published configuration give it:

- input: the log-magnitude constant-Q transform of the song at 22.05 kHz
  (144 bins, 24 per octave, hop 2048), computed in 10 s pieces, normalised
  with the mean and standard deviation stored in the checkpoint, and read
  in windows of 108 frames (10 s, one frame per 10/108 s);
- a linear projection to 128 dimensions plus a sinusoidal timing signal;
- 8 bi-directional self-attention layers: in each, one block attends to the
  past and one to the future (4 heads, key and value depth 128, pre-layer
  normalisation, a feed-forward of two width-3 convolutions), and a linear
  layer joins their outputs;
- a layer normalisation and a softmax over the chord classes per frame.

Weights are downloaded on first use from the authors' repository into
``<data>/models/btc/`` (``[plugins.btc] allow_download``), or imported with
``stemtube models import FILE``.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import shutil
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, ProgressFn, ProviderError, no_progress

log = logging.getLogger(__name__)

OFFICIAL_URL = "https://github.com/jayg996/BTC-ISMIR19/raw/master/test/"

#: The published configuration (the repository's run_config.yaml).
SAMPLE_RATE = 22050
N_BINS = 144
BINS_PER_OCTAVE = 24
HOP = 2048
PIECE_SECONDS = 10.0
TIMESTEP = 108
HIDDEN = 128
LAYERS = 8
HEADS = 4
FILTER = 128
FRAME_SECONDS = PIECE_SECONDS / TIMESTEP

_ROOTS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_QUALITIES = (
    "min",
    "maj",
    "dim",
    "aug",
    "min6",
    "maj6",
    "min7",
    "minmaj7",
    "maj7",
    "7",
    "dim7",
    "hdim7",
    "sus2",
    "sus4",
)


def majmin_labels() -> list[str]:
    """The 25 classes of ``btc_model.pt``: each root major then minor, then N."""
    labels = []
    for root in _ROOTS:
        labels += [f"{root}:maj", f"{root}:min"]
    return [*labels, "N"]


def large_labels() -> list[str]:
    """The 170 classes of ``btc_model_large_voca.pt``: 12 × 14 chords, X, N."""
    return [f"{r}:{q}" for r in _ROOTS for q in _QUALITIES] + ["X", "N"]


#: name -> (checkpoint file, class labels, vocabulary)
CHECKPOINTS = {
    "btc": ("btc_model_large_voca.pt", large_labels, "large"),
    "btc-majmin": ("btc_model.pt", majmin_labels, "majmin"),
}


# The network. Built lazily so that importing this plugin needs no torch.


def build_model(num_chords: int) -> Any:
    """A BTC network with ``num_chords`` output classes (random weights)."""
    import torch
    from torch import nn

    class LayerNorm(nn.Module):
        """Normalisation by the unbiased standard deviation plus eps.

        The published model normalises this way, not as ``nn.LayerNorm``
        does, and its parameters are named ``gamma`` and ``beta``.
        """

        def __init__(self, size: int, eps: float = 1e-6) -> None:
            super().__init__()
            self.gamma = nn.Parameter(torch.ones(size))
            self.beta = nn.Parameter(torch.zeros(size))
            self.eps = eps

        def forward(self, x):
            mean = x.mean(-1, keepdim=True)
            std = x.std(-1, keepdim=True)
            return self.gamma * (x - mean) / (std + self.eps) + self.beta

    class Attention(nn.Module):
        """Multi-head attention restricted to the past or to the future."""

        def __init__(self, future: bool) -> None:
            super().__init__()
            self.query_linear = nn.Linear(HIDDEN, HIDDEN, bias=False)
            self.key_linear = nn.Linear(HIDDEN, HIDDEN, bias=False)
            self.value_linear = nn.Linear(HIDDEN, HIDDEN, bias=False)
            self.output_linear = nn.Linear(HIDDEN, HIDDEN, bias=False)
            blocked = torch.ones(TIMESTEP, TIMESTEP, dtype=torch.bool)
            blocked = blocked.tril(-1) if future else blocked.triu(1)
            self.register_buffer("blocked", blocked, persistent=False)
            self.scale = (HIDDEN // HEADS) ** -0.5

        def _heads(self, x):
            batch, length, _ = x.shape
            return x.view(batch, length, HEADS, HIDDEN // HEADS).transpose(1, 2)

        def forward(self, x):
            batch, length, _ = x.shape
            query = self._heads(self.query_linear(x)) * self.scale
            key = self._heads(self.key_linear(x))
            value = self._heads(self.value_linear(x))
            scores = query @ key.transpose(-1, -2)
            scores = scores.masked_fill(self.blocked[:length, :length], float("-inf"))
            context = scores.softmax(-1) @ value
            context = context.transpose(1, 2).reshape(batch, length, HIDDEN)
            return self.output_linear(context)

    class Conv(nn.Module):
        """A width-3 convolution over time, padded on both sides."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(HIDDEN, FILTER, kernel_size=3, padding=1)

        def forward(self, x):
            return self.conv(x.transpose(1, 2)).transpose(1, 2)

    class FeedForward(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList([Conv(), Conv()])

        def forward(self, x):
            for layer in self.layers:  # the published model applies ReLU after both
                x = torch.relu(layer(x))
            return x

    class Block(nn.Module):
        def __init__(self, future: bool) -> None:
            super().__init__()
            self.multi_head_attention = Attention(future)
            self.positionwise_convolution = FeedForward()
            self.layer_norm_mha = LayerNorm(HIDDEN)
            self.layer_norm_ffn = LayerNorm(HIDDEN)

        def forward(self, x):
            x = x + self.multi_head_attention(self.layer_norm_mha(x))
            return x + self.positionwise_convolution(self.layer_norm_ffn(x))

    class BiLayer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn_block = Block(future=False)
            self.backward_attn_block = Block(future=True)
            self.linear = nn.Linear(2 * HIDDEN, HIDDEN)

        def forward(self, x):
            both = torch.cat([self.attn_block(x), self.backward_attn_block(x)], -1)
            return self.linear(both)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding_proj = nn.Linear(N_BINS, HIDDEN, bias=False)
            self.self_attn_layers = nn.Sequential(*[BiLayer() for _ in range(LAYERS)])
            self.layer_norm = LayerNorm(HIDDEN)
            self.register_buffer("timing", timing_signal(), persistent=False)

        def forward(self, x):
            x = self.embedding_proj(x) + self.timing[: x.shape[1]]
            return self.layer_norm(self.self_attn_layers(x))

    class Output(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.output_projection = nn.Linear(HIDDEN, num_chords)
            # In the checkpoints but unused by the published model's output.
            self.lstm = nn.LSTM(
                HIDDEN, HIDDEN // 2, batch_first=True, bidirectional=True
            )

        def forward(self, x):
            return self.output_projection(x)

    class BTC(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.self_attn_layers = Encoder()
            self.output_layer = Output()

        def forward(self, features):
            """(batch, frames ≤ 108, 144) normalised features -> class logits."""
            return self.output_layer(self.self_attn_layers(features))

    def timing_signal():
        """The sinusoidal position signal of the published model, (108, 128)."""
        half = HIDDEN // 2
        step = math.log(1.0e4) / (half - 1)
        rates = torch.exp(torch.arange(half, dtype=torch.float64) * -step)
        angles = torch.arange(TIMESTEP, dtype=torch.float64)[:, None] * rates[None]
        return torch.cat([angles.sin(), angles.cos()], 1).float()

    return BTC()


# Features.


def features(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """(frames, 144) log-magnitude CQT of mono audio, as the published model reads.

    The transform is taken in 10 s pieces, as the authors' pipeline does, so
    that every piece gives 108 frames.
    """
    import librosa

    mono = np.asarray(audio, dtype=np.float32)
    if sample_rate != SAMPLE_RATE:
        mono = librosa.resample(mono, orig_sr=sample_rate, target_sr=SAMPLE_RATE)
    piece = int(SAMPLE_RATE * PIECE_SECONDS)
    pieces = [mono[i : i + piece] for i in range(0, len(mono), piece)] or [mono]
    spectra = [
        librosa.cqt(
            p,
            sr=SAMPLE_RATE,
            n_bins=N_BINS,
            bins_per_octave=BINS_PER_OCTAVE,
            hop_length=HOP,
        )
        for p in pieces
        if len(p) > 0
    ]
    return np.log(np.abs(np.concatenate(spectra, axis=1)) + 1e-6).T


# Checkpoints.


def load_checkpoint(path: Path) -> tuple[Any, np.ndarray, np.ndarray, int]:
    """(network, mean, std, number of classes) from a published checkpoint file.

    Only tensors and plain numbers are unpickled (``weights_only``), so a
    file cannot run code when it is loaded.
    """
    import torch

    try:
        # The published files keep mean and std as NumPy numbers.
        numpy_numbers = [np._core.multiarray.scalar, np.dtype, type(np.dtype("f8"))]
        with torch.serialization.safe_globals(numpy_numbers):
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ProviderError(
            "CORRUPT_WEIGHTS",
            "The btc weights file cannot be read; import it again.",
            f"{path}: {exc!r}",
        ) from None
    try:
        state = checkpoint["model"]
        classes = int(state["output_layer.output_projection.weight"].shape[0])
        model = build_model(classes)
        model.load_state_dict(state, strict=True)
        mean = np.asarray(checkpoint["mean"], dtype=np.float32)
        std = np.asarray(checkpoint["std"], dtype=np.float32)
        if mean.size not in (1, N_BINS) or std.size not in (1, N_BINS):
            raise ValueError(f"mean and std of {mean.size} and {std.size} values")
    except (KeyError, TypeError, RuntimeError, ValueError) as exc:
        raise ProviderError(
            "CORRUPT_WEIGHTS",
            "The file is not one of btc's published checkpoints.",
            f"{path}: {exc!r}",
        ) from None
    model.eval()
    return model, mean, std, classes


def predict(
    model: Any, frames: np.ndarray, mean: np.ndarray, std: np.ndarray
) -> np.ndarray:
    """The class of every frame, read in 108-frame windows as published."""
    import torch

    normalised = (frames - mean) / std
    padded = np.pad(normalised, ((0, (-len(normalised)) % TIMESTEP), (0, 0)))
    windows = torch.from_numpy(padded.astype(np.float32)).view(-1, TIMESTEP, N_BINS)
    with torch.inference_mode():
        classes = model(windows).argmax(-1).reshape(-1).numpy()
    return classes[: len(frames)]


def to_rows(classes: np.ndarray, labels: list[str]) -> list[tuple[float, float, str]]:
    rows = []
    start = 0
    for i in range(1, len(classes) + 1):
        if i == len(classes) or classes[i] != classes[start]:
            rows.append(
                (start * FRAME_SECONDS, i * FRAME_SECONDS, labels[classes[start]])
            )
            start = i
    return rows


class BtcChords:
    """One of btc's two published checkpoints as a chord backend."""

    def __init__(
        self,
        name: str,
        models_dir: Path,
        *,
        allow_download: bool = True,
        base_url: str = OFFICIAL_URL,
    ) -> None:
        self.name = name
        self.file_name, self._labels, self.vocabulary = CHECKPOINTS[name]
        self.models_dir = models_dir
        self.allow_download = allow_download
        self.base_url = base_url.rstrip("/") + "/"
        self._loaded: tuple | None = None

    @property
    def weights(self) -> Path:
        return self.models_dir / self.file_name

    def has_weights(self) -> bool:
        return self.weights.is_file()

    def check(self) -> CheckResult:
        # Found, not imported: importing torch takes seconds, and every
        # worker checks its plugins.
        missing = [
            m for m in ("torch", "librosa") if importlib.util.find_spec(m) is None
        ]
        if missing:
            return CheckResult(False, f"btc needs {' and '.join(missing)}")
        if self.has_weights():
            return CheckResult(True)
        if self.allow_download:
            return CheckResult(True, f"{self.file_name} downloads on first use")
        return CheckResult(
            False,
            f"{self.file_name} missing and downloads are off; get it from the "
            "BTC-ISMIR19 repository and run `stemtube models import FILE`",
        )

    def ensure_weights(self, progress: ProgressFn = no_progress) -> Path:
        if self.has_weights():
            return self.weights
        if not self.allow_download:
            raise ProviderError(
                "MODEL_UNAVAILABLE",
                f"The btc weights ({self.file_name}) are not on this server and "
                "downloads are off: get the file from the BTC-ISMIR19 repository "
                "and run `stemtube models import FILE`.",
            )
        progress(0, f"Downloading {self.file_name}")
        self.models_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.models_dir / f".{self.file_name}.{uuid.uuid4().hex}.part"
        try:
            with (
                urllib.request.urlopen(self.base_url + self.file_name, timeout=60) as r,
                open(tmp, "wb") as out,
            ):
                shutil.copyfileobj(r, out)
            load_checkpoint(tmp)  # refuse what is not a btc checkpoint
            os.replace(tmp, self.weights)
        except (urllib.error.URLError, OSError) as exc:
            raise ProviderError(
                "MODEL_UNAVAILABLE",
                f"The btc weights could not be downloaded ({self.file_name}).",
                repr(exc),
            ) from None
        finally:
            tmp.unlink(missing_ok=True)
        return self.weights

    def recognize(
        self, audio: np.ndarray, sample_rate: int, progress: ProgressFn = no_progress
    ) -> list[tuple[float, float, str]]:
        path = self.ensure_weights(progress)
        if self._loaded is None:
            self._loaded = load_checkpoint(path)
        model, mean, std, classes = self._loaded
        labels = self._labels()
        if classes != len(labels):
            raise ProviderError(
                "CORRUPT_WEIGHTS",
                f"{self.file_name} has {classes} classes, not {len(labels)}.",
            )
        if len(audio) < sample_rate // 2:
            return []
        progress(10, f"Computing the constant-Q transform ({self.name})")
        frames = features(audio, sample_rate)
        progress(50, f"Finding chords ({self.name})")
        return to_rows(predict(model, frames, mean, std), labels)


def models_dir_for(settings: Any) -> Path:
    configured = settings.plugin_settings("btc").get("models_dir")
    return Path(configured) if configured else settings.data_dir / "models" / "btc"


def btc_backends(settings: Any) -> list[BtcChords]:
    own = settings.plugin_settings("btc")
    return [
        BtcChords(
            name,
            models_dir_for(settings),
            allow_download=bool(own.get("allow_download", True)),
            base_url=str(own.get("base_url", OFFICIAL_URL)),
        )
        for name in CHECKPOINTS
    ]


def import_weights(file: Path, models_dir: Path) -> str:
    """Copy a published checkpoint into the models folder; return its backend."""
    _, _, _, classes = load_checkpoint(file)
    for name, (file_name, labels, _) in CHECKPOINTS.items():
        if len(labels()) == classes:
            models_dir.mkdir(parents=True, exist_ok=True)
            tmp = models_dir / f".{file_name}.{uuid.uuid4().hex}.part"
            shutil.copyfile(file, tmp)
            os.replace(tmp, models_dir / file_name)
            return name
    raise ProviderError(
        "UNKNOWN_WEIGHTS", f"A btc checkpoint with {classes} classes is not published."
    )


@hookimpl
def register_chord_backends(settings):
    return btc_backends(settings)
