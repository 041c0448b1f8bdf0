"""The plugin test kit applies the core's own checks to a provider."""

from __future__ import annotations

import pytest

from stemtube import media
from stemtube.config import Settings
from stemtube.providers import CheckResult, ProviderError
from stemtube.registry import PluginRegistry
from stemtube.testing import (
    SHORT_AUDIO,
    check_chord_backend,
    check_separator,
    check_structure,
)

from misbehaving_separators import Misbehaving


@pytest.mark.parametrize(
    ("model", "code"),
    [("raising", "PLUGIN_FAILED"), ("misshapen", "BAD_SEPARATOR_RESULT")],
)
def test_a_misbehaving_separator_fails_as_its_job_would(model, code):
    with pytest.raises(ProviderError) as failed:
        check_separator(Misbehaving(), model)
    assert failed.value.code == code


def test_a_chord_backend_runs_on_the_kits_real_audio():
    backend = PluginRegistry(Settings(), kinds=("chords",)).chord_backends["madmom"]
    segments = check_chord_backend(backend)
    duration = media.decode(SHORT_AUDIO).shape[1] / media.CANONICAL_RATE
    assert segments and all(0 <= s.start <= s.end <= duration + 1 for s in segments)


class Outside:
    name = "outside"

    def check(self) -> CheckResult:
        return CheckResult(True)

    def recognize(self, audio, sample_rate, progress=None):
        return [(0.0, 99.0, "C:maj")]

    def analyse(self, audio, sample_rate, context, progress=None):
        return {"sections": [{"start": 0.0, "end": 2.0, "label": "solo"}]}


def test_answers_the_core_refuses_are_refused_with_its_codes():
    with pytest.raises(ProviderError) as chords:
        check_chord_backend(Outside())
    assert chords.value.code == "BAD_BACKEND_RESULT"
    with pytest.raises(ProviderError) as sections:
        check_structure(Outside())
    assert sections.value.code == "BAD_ANALYSER_RESULT"
