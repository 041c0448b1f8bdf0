"""Chord backends that misbehave, loaded by tests as ``[plugins.NAME] module``.

They run in the analysis workers like any plugin, so a test sees what a
user would when a third party's backend breaks.
"""

from __future__ import annotations

from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult


class Raising:
    name = "raising"
    vocabulary = "majmin"

    def check(self) -> CheckResult:
        return CheckResult(True)

    def recognize(self, audio, sample_rate, progress=None):
        raise RuntimeError("this backend always breaks")


class OutOfTime(Raising):
    """Answers chords long after the song has ended."""

    name = "out_of_time"

    def recognize(self, audio, sample_rate, progress=None):
        return [(0.0, 1.0, "C:maj"), (1.0, 10_000.0, "G:maj")]


@hookimpl
def register_chord_backends(settings):
    return [Raising(), OutOfTime()]
