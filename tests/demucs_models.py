"""Small HTDemucs networks with random weights, saved like the published ones.

They have the published architectures' classes, sources and sample rate but
few channels, so a test separates a song in seconds. They are written in
demucs's repository layout (``<signature>-<sha256 prefix>.th`` and one yaml
per model) under the published signatures, and load through the same code
path as the real weights.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import torch

SIGNATURES = {"htdemucs": "955717e8", "htdemucs_6s": "5c90dfd2"}
SOURCES = {
    "htdemucs": ["drums", "bass", "other", "vocals"],
    "htdemucs_6s": ["drums", "bass", "other", "vocals", "guitar", "piano"],
}
#: The published configurations (demucs's remote files, read with torch.load).
FULL_KWARGS = {
    "htdemucs": dict(
        samplerate=44100,
        audio_channels=2,
        segment=Fraction(39, 5),
        bottom_channels=512,
        dconv_mode=3,
        t_dropout=0.02,
    ),
    "htdemucs_6s": dict(
        samplerate=44100,
        audio_channels=2,
        segment=Fraction(39, 5),
        bottom_channels=0,
        dconv_mode=3,
        t_dropout=0.02,
    ),
}
#: Small enough for tests; depth stays at 4 (a smaller depth is slower).
TINY_KWARGS = dict(channels=8, t_layers=1, t_heads=2, bottom_channels=0)


def build_model(name: str, *, tiny: bool = True, seed: int = 0) -> torch.nn.Module:
    """An HTDemucs of the published architecture ``name``, random weights."""
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(seed)
    kwargs = dict(FULL_KWARGS[name])
    if tiny:
        kwargs.update(TINY_KWARGS)
    model = HTDemucs(sources=SOURCES[name], **kwargs)
    model._stemtube_kwargs = kwargs
    return model.eval()


def save_model(model: torch.nn.Module, name: str, folder: Path) -> Path:
    """Save as demucs publishes: a package dict with an fp16 state, plus yaml."""
    from demucs.htdemucs import HTDemucs

    folder.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.half() if v.is_floating_point() else v
        for k, v in model.state_dict().items()
    }
    package = {
        "klass": HTDemucs,
        "args": (),
        "kwargs": {"sources": SOURCES[name], **model._stemtube_kwargs},
        "state": state,
        "training_args": {},
    }
    tmp = folder / f"{name}.tmp"
    torch.save(package, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
    target = folder / f"{SIGNATURES[name]}-{digest}.th"
    tmp.rename(target)
    (folder / f"{name}.yaml").write_text(f"models: ['{SIGNATURES[name]}']\n")
    return target


def build_tiny_repo(folder: Path, names: tuple[str, ...] = tuple(SIGNATURES)) -> Path:
    """Write tiny random-weight models for ``names`` into ``folder``."""
    for name in names:
        save_model(build_model(name), name, folder)
    return folder
