"""hybrid: madmom and a large-vocabulary backend, combined as documented."""

from __future__ import annotations

import pytest

from stemtube.chords import Segment
from stemtube.config import Settings
from stemtube.plugins.chords import hybrid

from support import TEST_DATA, analyse, majmin_score

POP = TEST_DATA / "songs" / "pop_c_major"


def test_the_rich_label_wins_and_madmom_fills_the_silences():
    madmom = [Segment(0, 2, "A:min"), Segment(2, 4, "C:maj"), Segment(4, 6, "G:maj")]
    large = [Segment(0, 0.5, "N"), Segment(0.5, 2, "A:min7"), Segment(2, 6, "E:min")]
    combined = hybrid.combine(madmom, large)
    assert combined == [
        Segment(0, 0.5, "A:min"),  # the large backend heard nothing yet
        Segment(0.5, 2, "A:min7"),  # roots agree: the richer label
        Segment(2, 6, "E:min"),  # roots differ: the more accurate backend
    ]


def test_hybrid_is_at_least_as_good_as_its_parts_on_a_real_song():
    from stemtube.registry import PluginRegistry

    registry = PluginRegistry(Settings(), kinds=("chords", "analysers"))
    assert registry.chord_backends["hybrid"].check().message == "madmom with lvchordia"
    scores = {}
    for backend in ("madmom", "lvchordia", "hybrid"):
        found = analyse(registry, POP / "mixture.ogg", ["rhythm", "chords"], backend)
        scores[backend] = majmin_score(
            found["chords"]["data"]["segments"], POP / "chords.lab"
        )
    assert scores["hybrid"] >= max(scores["madmom"], scores["lvchordia"]) - 1e-9
    assert scores["hybrid"] >= 0.95, scores


def test_hybrid_without_a_large_backend_says_what_it_needs():
    backend = hybrid.HybridChords(None, [])
    assert backend.check().ok is False
    assert "madmom" in backend.check().message
    with pytest.raises(Exception, match="btc or lvchordia"):
        hybrid.HybridChords(object(), []).recognize([], 44100)
