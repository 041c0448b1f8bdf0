"""Chord labels, segments and keys: StemTube's own code around the backends."""

from __future__ import annotations

import pytest

from stemtube import chords, keys
from stemtube.chords import Segment


@pytest.mark.parametrize(
    ("label", "name", "up_two"),
    [
        ("C:maj", "C", "D"),
        ("A:min7", "Am7", "Bm7"),
        ("Bb:hdim7", "Bbm7b5", "Cm7b5"),
        ("F#:sus4", "F#sus4", "Absus4"),
        ("C:maj/3", "C/E", "D/F#"),
        ("G:7/b7", "G7/F", "A7/G"),
        ("Db", "C#", "Eb"),
        ("N", "N.C.", "N.C."),
        ("X", "?", "?"),
    ],
)
def test_display_names_are_what_a_musician_writes(label, name, up_two):
    assert chords.display_name(label) == name
    assert chords.display_name(label, transpose=2) == up_two


def test_labels_are_normalised_and_reduced_to_triads():
    assert chords.normalize("Db:min7") == "C#:min7"
    assert chords.normalize("E") == "E:maj"
    assert chords.triad("A:min7") == "A:min"
    assert chords.triad("B:hdim7") == "B:min"
    assert chords.triad("G:7") == "G:maj"
    with pytest.raises(ValueError):
        chords.parse("H:maj")
    assert chords.to_segments([(0, 1, "H:maj")])[0].label == chords.UNKNOWN


def test_equal_neighbours_merge_and_flickers_join_the_chord_before():
    merged = chords.merge(
        [
            Segment(2.0, 4.0, "G:maj"),
            Segment(0.0, 2.0, "C:maj"),
            Segment(4.0, 4.1, "D:maj"),  # a flicker
            Segment(4.1, 6.0, "G:maj"),
            Segment(6.0, 6.0, "F:maj"),  # empty
        ],
        min_length=0.3,
    )
    assert merged == [Segment(0.0, 2.0, "C:maj"), Segment(2.0, 6.0, "G:maj")]


def test_chord_changes_move_to_the_nearest_beat_only_when_close():
    beats = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    snapped = chords.snap_to_beats(
        [
            Segment(0.0, 1.08, "C:maj"),
            Segment(1.08, 2.2, "G:maj"),
            Segment(2.2, 3.0, "C:maj"),
        ],
        beats,
    )
    assert [(s.start, s.end) for s in snapped] == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]
    # No beats found in a break: a change there is far from every beat.
    gap = [0.0, 0.5, 1.0, 3.0, 3.5, 4.0]
    far = chords.snap_to_beats(
        [Segment(0.0, 2.0, "C:maj"), Segment(2.0, 4.0, "G:maj")], gap
    )
    assert far[1].start == 2.0


def _progression(labels: list[str], bar: float = 2.0) -> list[Segment]:
    return [Segment(i * bar, (i + 1) * bar, label) for i, label in enumerate(labels)]


def test_the_chords_decide_between_a_key_and_its_relative():
    a_minor = keys.parse_key("A minor")
    c_major = keys.parse_key("C major")
    # A chroma model torn between the two, as madmom is on the ballad.
    model = {c_major: 0.49, a_minor: 0.42}
    ballad = _progression(["A:min7", "D:min7", "A:min7", "E:7", "A:min", "A:min"])
    pop = _progression(["C:maj", "G:maj", "A:min", "F:maj", "G:maj", "C:maj"])
    assert keys.choose_key(model, ballad) == keys.Key(9, keys.MINOR, 0.42)
    assert keys.choose_key({a_minor: 0.6, c_major: 0.3}, pop).name == "C major"
    # Without chords the model's own choice stands.
    assert keys.choose_key(model, []).name == "C major"
    assert keys.choose_key({}, pop) is None


def test_key_names_read_both_ways():
    key = keys.parse_key("Bb major")
    assert (key.name, key.label, key.relative.name) == ("Bb major", "Bb:maj", "G minor")
    assert keys.parse_key("F#:min").name == "F# minor"
    with pytest.raises(ValueError):
        keys.parse_key("C dorian")


@pytest.mark.parametrize(
    ("label", "shift", "expected"),
    [
        ("A:min7", 0, ["A", "C", "E", "G"]),
        ("C:maj", 2, ["D", "F#", "A"]),
        ("B:hdim7", 0, ["B", "D", "F", "A"]),
        ("G:7/b7", 0, ["G", "B", "D", "F"]),
        ("G:sus4", -2, ["F", "Bb", "C"]),
        ("D:sus4(b7)", 0, ["D", "G", "A"]),
        # Written on the letters of the chord's degrees, in its own key.
        ("E:7", 0, ["E", "G#", "B", "D"]),
        ("G#:maj", 0, ["Ab", "C", "Eb"]),
        ("B:dim7", 0, ["B", "D", "F", "Ab"]),
        ("C:aug", 1, ["C#", "E#", "G##"]),
        ("Bb:min9", 0, ["Bb", "Db", "F", "Ab", "C"]),
        ("N", 3, []),
    ],
)
def test_a_chords_notes_root_first(label, shift, expected):
    assert chords.notes(label, shift) == expected
