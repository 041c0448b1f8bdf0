"""Score every chord backend, the beat grid, the tempo and the key on the test songs.

Reads ``../shared/testdata/songs/*/`` (the FLAC mixture and the harmonic
stems, ``chords.lab`` and ``truth.json``) and runs StemTube's own analysis
path (``stemtube.analysis.analyse_song``) with each loaded chord backend,
once on the mix and once on the sum of the harmonic stems (what a split
song's chords are read from). Prints a Markdown table for bench/README.md:

- chords: ``mir_eval.chord`` root, majmin and sevenths, weighted by duration;
- beats: ``mir_eval.beat.f_measure`` (70 ms window);
- tempo: the relative error of the bpm against the truth;
- key: whether it equals the truth.

Usage: ``.venv/bin/python bench/chords.py [--songs DIR] [--backend NAME]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import mir_eval
import numpy as np
import soundfile

from stemtube import analysis
from stemtube.config import Settings
from stemtube.keys import parse_key
from stemtube.registry import PluginRegistry
from stemtube.scoring import chord_scores

SONGS = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "songs"
HARMONIC = ("bass", "piano", "guitar", "other")


def harmonic_file(song: Path, folder: Path) -> Path:
    """The harmonic stems of a song summed into one WAV file."""
    total = None
    rate = 44100
    for name in HARMONIC:
        path = song / "stems" / f"{name}.flac"
        if path.is_file():
            audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
            total = audio if total is None else total + audio
    out = folder / f"{song.name}-harmonic.wav"
    soundfile.write(out, total, rate)
    return out


def measure(
    registry: PluginRegistry,
    song: Path,
    truth: dict,
    backend: str,
    input_name: str,
    path: Path,
) -> str:
    """One table row: ``backend``'s chords on ``path``, beats and key on the mix."""
    settings = registry.settings
    started = time.monotonic()
    spec = {"source": str(path), "parts": ["chords"], "backend": backend}
    found = analysis.analyse_song(settings, spec, lambda p, m: None, registry)
    segments = found["chords"]["data"]["segments"]
    # Beats, tempo and key from the mix, as the server finds them.
    mix_spec = {
        "source": str(song / "mixture.flac"),
        "parts": ["rhythm", "key"],
        "chords": segments,
    }
    mix = analysis.analyse_song(settings, mix_spec, lambda p, m: None, registry)
    seconds = time.monotonic() - started
    scores = chord_scores(segments, song / "chords.lab")
    rhythm = mix["rhythm"]["data"]
    reference = np.array([t for t, _ in truth["beats"]])
    beat_f = mir_eval.beat.f_measure(
        mir_eval.beat.trim_beats(reference),
        mir_eval.beat.trim_beats(np.array(rhythm["beats"])),
    )
    tempo_error = abs(rhythm["bpm"] - truth["bpm"]) / truth["bpm"]
    key = mix["key"]["data"]["key"]
    right = key is not None and parse_key(key) == parse_key(truth["key"])
    return (
        f"| {song.name} | {backend} | {input_name} | "
        f"{scores['root']:.3f} | {scores['majmin']:.3f} | "
        f"{scores['sevenths']:.3f} | {beat_f:.3f} | "
        f"{100 * tempo_error:.1f} % | "
        f"{key} ({'right' if right else 'wrong'}) | {seconds:.1f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=Path, default=SONGS)
    parser.add_argument("--backend", action="append", help="only these backends")
    args = parser.parse_args()
    if not args.songs.is_dir():
        print(f"no test songs at {args.songs}: nothing to measure", file=sys.stderr)
        return 1

    settings = Settings()
    registry = PluginRegistry(settings, kinds=("chords", "analysers"))
    backends = args.backend or sorted(registry.chord_backends)
    print(
        "| song | backend | input | root | majmin | sevenths | beat F | "
        "tempo error | key | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for song in sorted(p for p in args.songs.iterdir() if p.is_dir()):
            truth = json.loads((song / "truth.json").read_text())
            inputs = {"mix": song / "mixture.flac"}
            if (song / "stems").is_dir():
                inputs["harmonic stems"] = harmonic_file(song, Path(tmp))
            for backend in backends:
                provider = registry.chord_backends[backend]
                if not getattr(provider, "has_weights", lambda: True)():
                    print(
                        f"| {song.name} | {backend} | – | not scored: its "
                        "published weights are not on this machine |||||||"
                    )
                    continue
                for input_name, path in inputs.items():
                    print(measure(registry, song, truth, backend, input_name, path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
