"""Waveform peaks of a song's stems, so the mixer draws them before they load.

For each stem, the lowest and highest sample of the mono mix-down in each of
``RESOLUTION`` equal slices of the song, computed once from the WAV files
and kept next to them as ``peaks.json``; a request for fewer points takes
the min and max over neighbouring slices. Our own code: it is a few lines of
NumPy over soundfile's block reader, and the libraries that draw waveforms
(wavesurfer.js, audiowaveform) either decode in the browser, which is what
this avoids, or are a separate program to install.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import soundfile

#: Slices kept per stem: enough for a 4K-wide waveform.
RESOLUTION = 4000
CACHE_NAME = "peaks.json"
_BLOCK = 1 << 18


def stem_peaks(path: Path, slices: int = RESOLUTION) -> tuple[np.ndarray, float]:
    """``(slices x 2)`` min and max of ``path``'s mono samples, and its seconds."""
    with soundfile.SoundFile(path) as wav:
        frames, rate = wav.frames, wav.samplerate
        edges = np.linspace(0, frames, slices + 1).astype(np.int64)
        low = np.zeros(slices, np.float32)
        high = np.zeros(slices, np.float32)
        done = 0
        for block in wav.blocks(blocksize=_BLOCK, dtype="float32", always_2d=True):
            mono = block.mean(axis=1)
            first = int(np.searchsorted(edges, done, side="right")) - 1
            last = int(np.searchsorted(edges, done + len(mono), side="left"))
            for i in range(max(first, 0), min(last, slices)):
                start = max(edges[i] - done, 0)
                stop = min(edges[i + 1] - done, len(mono))
                if stop > start:
                    part = mono[start:stop]
                    low[i] = min(low[i], float(part.min()))
                    high[i] = max(high[i], float(part.max()))
            done += len(mono)
    return np.stack([low, high], axis=1), frames / rate if rate else 0.0


def song_peaks(folder: Path, stems: list[str]) -> dict:
    """Every stem's peaks at ``RESOLUTION``, from the cache when it is current.

    Returns ``{"duration": seconds, "peaks": {stem: [[min, max], ...]}}``.
    """
    cache = folder / CACHE_NAME
    paths = [folder / f"{stem}.wav" for stem in stems]
    newest = max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)
    if cache.is_file() and cache.stat().st_mtime >= newest:
        try:
            found = json.loads(cache.read_text())
            if sorted(found.get("peaks", {})) == sorted(stems):
                return found
        except (OSError, ValueError):
            pass  # a damaged cache is made again
    peaks, duration = {}, 0.0
    for stem, path in zip(stems, paths, strict=True):
        if not path.is_file():
            continue
        values, duration = stem_peaks(path)
        peaks[stem] = np.round(values, 4).tolist()
    found = {"duration": round(duration, 3), "peaks": peaks}
    part = cache.with_suffix(".part")
    part.write_text(json.dumps(found))
    os.replace(part, cache)
    return found


def pooled(values: list[list[float]], points: int) -> list[list[float]]:
    """``values`` (min, max pairs) brought down to ``points`` pairs."""
    array = np.asarray(values, dtype=np.float32).reshape(-1, 2)
    if len(array) <= points:
        return array.tolist()
    edges = np.linspace(0, len(array), points + 1).astype(np.int64)
    low = np.minimum.reduceat(array[:, 0], edges[:-1])
    high = np.maximum.reduceat(array[:, 1], edges[:-1])
    return np.round(np.stack([low, high], axis=1), 4).tolist()
