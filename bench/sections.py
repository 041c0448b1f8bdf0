"""Score the song sections on the test songs: boundaries and labels.

Reads ``../shared/testdata/songs/*/`` (the FLAC mixture, the six stems and
``truth.json``) and runs StemTube's own analysis path
(``stemtube.analysis.analyse_song``: madmom's beats and chords, the bar
phase the chords give, then the structure analyser), once with the true
stems as a perfect 4-stem separator would give them, once on the mix alone
(a song analysed before it is split). Prints a Markdown table for
bench/README.md:

- boundaries: ``mir_eval.segment.detection`` hit-rate F-measure within
  0.5 s and 3 s (song start and end included, as mir_eval counts them);
- labels: ``mir_eval.segment.pairwise`` F-measure (whether two moments
  share a label, whatever the labels are called);
- labels named right: the share of time whose label equals the truth's.

Usage: ``.venv/bin/python bench/sections.py [--songs DIR]``.
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
from stemtube.registry import PluginRegistry

SONGS = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "songs"
#: The true stems grouped as a 4-stem separator gives them.
FOUR_STEMS = {
    "vocals": ("vocals",),
    "drums": ("drums",),
    "bass": ("bass",),
    "other": ("piano", "guitar", "other"),
}


def write_stems(song: Path, folder: Path) -> list[str]:
    """The song's true stems as 4-stem WAV files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, parts in FOUR_STEMS.items():
        total, rate = None, 44100
        for part in parts:
            audio, rate = soundfile.read(
                song / "stems" / f"{part}.flac", dtype="float32", always_2d=True
            )
            total = audio if total is None else total + audio
        soundfile.write(folder / f"{name}.wav", total, rate)
    return list(FOUR_STEMS)


def time_share_right(ref: np.ndarray, ref_labels, est: np.ndarray, est_labels):
    """The share of the truth's time whose estimated label is the true one."""
    right = 0.0
    for (start, end), label in zip(ref, ref_labels, strict=True):
        for (s, e), guess in zip(est, est_labels, strict=True):
            if guess == label:
                right += max(0.0, min(end, e) - max(start, s))
    return right / float(ref[-1][1] - ref[0][0])


def measure(settings, registry, song: Path, truth: dict, stems_dir) -> tuple:
    spec = {
        "source": str(song / "mixture.flac"),
        "parts": ["rhythm", "chords", "structure"],
        "backend": "madmom",
        "stems_dir": None,
        "stems": [],
        "model": None,
    }
    if stems_dir is not None:
        spec.update(stems_dir=str(stems_dir), stems=list(FOUR_STEMS), model="truth")
    started = time.monotonic()
    found = analysis.analyse_song(settings, spec, lambda p, m: None, registry)
    seconds = time.monotonic() - started
    rows = found["structure"]["data"]["sections"]
    est = np.array([[r["start"], r["end"]] for r in rows])
    est_labels = [r["label"] for r in rows]
    ref = np.array([[s, e] for s, e, _ in truth["sections"]])
    ref_labels = [label for _, _, label in truth["sections"]]
    scores = mir_eval.segment.evaluate(ref, ref_labels, est, est_labels)
    named = time_share_right(ref, ref_labels, est, est_labels)
    return scores, named, seconds, rows, found["rhythm"]["data"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=Path, default=SONGS)
    args = parser.parse_args()
    if not args.songs.is_dir():
        print(f"no test songs at {args.songs}: nothing to measure", file=sys.stderr)
        return 1
    settings = Settings()
    registry = PluginRegistry(settings, kinds=("chords", "analysers"))
    print(
        "| song | input | boundary F@0.5 s | boundary F@3 s | pairwise F | "
        "named right | sections found | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for song in sorted(p for p in args.songs.iterdir() if p.is_dir()):
            truth = json.loads((song / "truth.json").read_text())
            inputs = {"mix": None}
            if (song / "stems").is_dir():
                inputs = {"true 4 stems": Path(tmp) / song.name, **inputs}
                write_stems(song, inputs["true 4 stems"])
            for input_name, stems_dir in inputs.items():
                scores, named, seconds, rows, _ = measure(
                    settings, registry, song, truth, stems_dir
                )
                found = ", ".join(f"{r['label']} {r['start']:g}" for r in rows)
                print(
                    f"| {song.name} | {input_name} | "
                    f"{scores['F-measure@0.5']:.2f} | {scores['F-measure@3.0']:.2f} | "
                    f"{scores['Pairwise F-measure']:.2f} | {100 * named:.0f} % | "
                    f"{found} | {seconds:.1f} |"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
