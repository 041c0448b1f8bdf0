"""Chord scores against ground truth, for the tests and the benchmarks.

Needs ``mir_eval`` (a test extra), imported when a score is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

METRICS = ("root", "majmin", "sevenths")


def chord_scores(
    segments: Sequence[dict], lab: Path, metrics: Sequence[str] = METRICS
) -> dict[str, float]:
    """``mir_eval.chord`` accuracies, weighted by duration, against a .lab file."""
    import mir_eval
    import numpy as np

    ref_intervals, ref_labels = mir_eval.io.load_labeled_intervals(str(lab))
    est_intervals = np.array([[s["start"], s["end"]] for s in segments] or [[0, 1]])
    est_labels = [s["label"] for s in segments] or ["N"]
    est_intervals, est_labels = mir_eval.util.adjust_intervals(
        est_intervals,
        est_labels,
        ref_intervals.min(),
        ref_intervals.max(),
        mir_eval.chord.NO_CHORD,
        mir_eval.chord.NO_CHORD,
    )
    intervals, ref, est = mir_eval.util.merge_labeled_intervals(
        ref_intervals, ref_labels, est_intervals, est_labels
    )
    durations = mir_eval.util.intervals_to_durations(intervals)
    return {
        name: mir_eval.chord.weighted_accuracy(
            getattr(mir_eval.chord, name)(ref, est), durations
        )
        for name in metrics
    }
