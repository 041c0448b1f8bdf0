"""The core's rules for sections: bar grid, names, checks, bar phase."""

from __future__ import annotations

import numpy as np
import pytest

from stemtube import chords, sections
from stemtube.providers import ProviderError


def test_bar_grid_extends_the_downbeats_to_cover_the_song():
    edges = sections.bar_grid([1.0, 3.0, 5.0, 7.0], 12.0)
    # A pickup of half a bar or more is a bar of its own; bars go on past
    # the last downbeat until less than half a bar is left.
    assert edges.tolist() == [0.0, 1.0, 3.0, 5.0, 7.0, 9.0]
    assert sections.bar_grid([0.4, 2.4, 4.4], 6.0).tolist() == [0.0, 2.4, 4.4]


def test_bar_grid_without_downbeats_uses_fixed_bars():
    edges = sections.bar_grid([], 7.0)
    assert edges.tolist() == [0.0, 2.0, 4.0, 6.0]
    assert sections.bar_grid([3.0], 0.5).tolist() == [0.0]
    assert sections.bar_grid([1.0, 2.0], float("nan")).tolist() == [0.0]


@pytest.mark.parametrize(
    "downbeats",
    [[1.0, 1.0], [1.0, 1.0001], [0.0, 0.1, 0.2, 0.3], [0.0, 30.0], [float("nan")]],
)
def test_bar_grid_falls_back_on_downbeats_no_one_plays(downbeats):
    assert sections.bar_grid(downbeats, 10.0).tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_bar_grid_ignores_a_doubled_downbeat():
    assert sections.bar_grid([0, 2, 2.1, 4, 6, 8], 10.0).tolist() == [
        0.0,
        2.0,
        4.0,
        6.0,
        8.0,
    ]


def test_from_boundaries_covers_the_song():
    edges = np.array([0.0, 2.0, 4.0, 6.0, 8.0])
    spans = sections.from_boundaries(edges, [2, 0, 9, 2], 9.5)
    assert spans == [(0.0, 4.0), (4.0, 9.5)]


@pytest.mark.parametrize(
    ("groups", "sung", "expected"),
    [
        # The shared pop song: intro and verse share chords, not vocals.
        ([0, 0, 1, 2], [0.0, 0.5, 0.5, 0.0], ["intro", "verse", "chorus", "outro"]),
        # Verse, chorus, verse: the opening group is heard most but the
        # other one only once less: that one is the chorus.
        (
            [0, 1, 2, 1, 3],
            [0.0, 0.6, 0.6, 0.6, 0.0],
            ["intro", "verse", "chorus", "verse", "outro"],
        ),
        # The most heard sung group is the chorus; a part first heard after
        # it, once, is the bridge; an unsung part between is instrumental.
        (
            [0, 1, 0, 1, 2, 3, 1],
            [0.5, 0.5, 0.5, 0.5, 0.5, 0.0, 0.5],
            ["verse", "chorus", "verse", "chorus", "bridge", "instrumental", "chorus"],
        ),
        # Nothing sung in a vocals stem: instrumental throughout.
        ([0, 1, 0], [0.0, 0.05, 0.1], ["instrumental"] * 3),
        # One sung section.
        ([0], [0.9], ["verse"]),
        # A bridge comes after a sung chorus, not after an unsung one.
        (
            [1, 0, 2, 1, 1],
            [0.0, 0.5, 0.5, 0.5, 0.5],
            ["intro", "verse", "verse", "chorus", "chorus"],
        ),
        # No vocals stem: unique first and last sections frame the song...
        ([0, 1, 2, 1, 3], None, ["intro", "verse", "chorus", "verse", "outro"]),
        # ...and without structure nothing says it is sung.
        ([0, 0, 0], None, ["instrumental"] * 3),
        ([0, 1], None, ["instrumental"] * 2),
        ([0], None, ["instrumental"]),
        ([], None, []),
    ],
)
def test_name_sections(groups, sung, expected):
    assert sections.name_sections(groups, sung) == expected


def test_checked_closes_gaps_and_covers_the_song():
    rows = [
        {"start": 0.5, "end": 10.0, "label": "intro"},
        {"start": 12.0, "end": 30.0, "label": "verse"},
    ]
    found = sections.checked(rows, 31.0, "test")
    assert [s.as_dict() for s in found] == [
        {"start": 0.0, "end": 12.0, "label": "intro"},
        {"start": 12.0, "end": 31.0, "label": "verse"},
    ]


@pytest.mark.parametrize(
    "rows",
    [
        None,
        [],
        [{"start": 0, "end": 5}],
        [{"start": "soon", "end": 5, "label": "intro"}],
        [{"start": 0, "end": 5, "label": "drop"}],
        [{"start": 0, "end": 500, "label": "verse"}],
        [{"start": 5, "end": 2, "label": "verse"}],
        [{"start": float("nan"), "end": 2, "label": "verse"}],
        [{"start": 0, "end": float("inf"), "label": "verse"}],
        [{"start": 0, "end": 1e-9, "label": "verse"}],
        # Starts where the song ends.
        [
            {"start": 0, "end": 30, "label": "verse"},
            {"start": 30.2, "end": 30.8, "label": "outro"},
        ],
        [object()],
        "verse",
        [
            {"start": 0, "end": 20, "label": "verse"},
            {"start": 10, "end": 30, "label": "chorus"},
        ],
    ],
)
def test_checked_refuses_what_it_cannot_trust(rows):
    with pytest.raises(ProviderError) as caught:
        sections.checked(rows, 30.0, "test")
    assert caught.value.code == "BAD_ANALYSER_RESULT"


def _song(phase: int, bars: int = 12):
    """Beats of a 4/4 song at 120 BPM whose tracker starts bars ``phase`` late."""
    beats = [i * 0.5 for i in range(4 * bars)]
    positions = [(i - phase) % 4 + 1 for i in range(len(beats))]
    progression = ["C:maj", "G:maj", "A:min", "F:maj"]
    segments = [
        chords.Segment(2.0 * bar, 2.0 * bar + 2.0, progression[bar % 4])
        for bar in range(bars)
    ]
    return beats, positions, segments


def test_the_chords_put_the_downbeats_back_on_the_bar():
    beats, late, segments = _song(phase=2)
    fixed = chords.bar_phase_from_chords(beats, late, 4, segments)
    assert fixed == _song(phase=0)[1]
    # A meter or positions given as floats (a third party's rhythm) too.
    floats = chords.bar_phase_from_chords(
        beats, [float(p) for p in late], 4.0, segments
    )
    assert floats == fixed


def test_the_bar_phase_stays_without_clear_evidence():
    beats, right, segments = _song(phase=0)
    assert chords.bar_phase_from_chords(beats, right, 4, segments) is None
    # Too few changes, or no chords at all.
    assert chords.bar_phase_from_chords(beats, right, 4, segments[:3]) is None
    assert chords.bar_phase_from_chords(beats, right, 4, []) is None
    assert chords.bar_phase_from_chords(beats, right, None, segments) is None
    assert chords.bar_phase_from_chords(beats, right, "four", segments) is None
    # A chord on every beat says nothing about where the bar starts.
    every_beat = [
        chords.Segment(t, t + 0.5, ["C:maj", "G:maj"][i % 2])
        for i, t in enumerate(beats)
    ]
    assert chords.bar_phase_from_chords(beats, right, 4, every_beat) is None
