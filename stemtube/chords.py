"""Chord labels and segments: the one format every chord backend's output takes.

Labels are Harte's (``C:maj``, ``A:min7``, ``Bb:hdim7``, ``N``), as MIREX and
``mir_eval`` use them. This is StemTube's own code rather than a library's:
``mir_eval.chord`` parses Harte labels for scoring but has no display names,
no merging of a backend's segments and no alignment to a beat grid, which is
what the mixer needs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

NO_CHORD = "N"
UNKNOWN = "X"

NOTES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_NATURAL = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

#: Harte shorthand -> what a musician writes after the root.
_DISPLAY = {
    "maj": "",
    "min": "m",
    "dim": "dim",
    "aug": "aug",
    "maj7": "maj7",
    "min7": "m7",
    "7": "7",
    "dim7": "dim7",
    "hdim7": "m7b5",
    "minmaj7": "m(maj7)",
    "maj6": "6",
    "min6": "m6",
    "9": "9",
    "maj9": "maj9",
    "min9": "m9",
    "sus2": "sus2",
    "sus4": "sus4",
    "5": "5",
    "1": "",
}

#: Harte shorthand -> the triad it simplifies to for majmin comparisons.
_TRIAD = {
    "min": "min",
    "min7": "min",
    "min6": "min",
    "min9": "min",
    "minmaj7": "min",
    "hdim7": "min",
    "dim": "min",
    "dim7": "min",
}

_LABEL = re.compile(r"^([A-G])([#b]*):?([^/]*)(?:/(.+))?$")


@dataclass(frozen=True)
class Segment:
    """One chord from ``start`` to ``end`` seconds."""

    start: float
    end: float
    label: str

    def as_dict(self) -> dict:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "label": self.label,
            "name": display_name(self.label),
        }


def pitch_class(note: str) -> int:
    """``"Bb"`` -> 10; raises ValueError for what is not a note name."""
    if not note or note[0] not in _NATURAL or set(note[1:]) - {"#", "b"}:
        raise ValueError(f"not a note name: {note!r}")
    return (_NATURAL[note[0]] + note.count("#") - note.count("b")) % 12


def parse(label: str) -> tuple[int, str, str] | None:
    """(root pitch class, quality, bass) of a Harte label; None for N and X.

    A root without a quality (``"C"``) is a major chord, as Harte defines.
    """
    label = label.strip()
    if label in (NO_CHORD, UNKNOWN, ""):
        return None
    match = _LABEL.match(label)
    if match is None:
        raise ValueError(f"not a Harte chord label: {label!r}")
    letter, accidentals, quality, bass = match.groups()
    quality = quality.split("(")[0] or "maj"
    return pitch_class(letter + accidentals), quality, bass or ""


def normalize(label: str) -> str:
    """The label in one spelling (roots as in ``NOTES``), the quality given."""
    parsed = parse(label)
    if parsed is None:
        return label.strip() or NO_CHORD
    root, quality, bass = parsed
    return f"{NOTES[root]}:{quality}" + (f"/{bass}" if bass else "")


def root_of(label: str) -> int | None:
    parsed = parse(label)
    return None if parsed is None else parsed[0]


def triad(label: str) -> str:
    """The label reduced to a major or minor triad (``A:min7`` -> ``A:min``)."""
    parsed = parse(label)
    if parsed is None:
        return label.strip() or NO_CHORD
    root, quality, _ = parsed
    return f"{NOTES[root]}:{_TRIAD.get(quality, 'maj')}"


def display_name(label: str, transpose: int = 0) -> str:
    """What a musician reads: ``A:min7`` -> ``Am7``, ``N`` -> ``N.C.``."""
    parsed = parse(label)
    if parsed is None:
        return "N.C." if label.strip() != UNKNOWN else "?"
    root, quality, bass = parsed
    name = NOTES[(root + transpose) % 12] + _DISPLAY.get(quality, quality)
    bass_class = _bass_pitch(root, bass) if bass else None
    if bass_class is not None:
        name += "/" + NOTES[(bass_class + transpose) % 12]
    return name


_DEGREES = {"1": 0, "2": 2, "3": 4, "4": 5, "5": 7, "6": 9, "7": 11, "9": 2}

#: Harte shorthand -> the chord's notes as semitones above the root.
_INTERVALS = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "7": (0, 4, 7, 10),
    "dim7": (0, 3, 6, 9),
    "hdim7": (0, 3, 6, 10),
    "minmaj7": (0, 3, 7, 11),
    "maj6": (0, 4, 7, 9),
    "min6": (0, 3, 7, 9),
    "9": (0, 4, 7, 10, 2),
    "maj9": (0, 4, 7, 11, 2),
    "min9": (0, 3, 7, 10, 2),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "5": (0, 7),
    "1": (0,),
}


def notes(label: str, transpose: int = 0) -> list[str]:
    """The chord's note names, root first (``A:min7`` -> A C E G); [] for N.

    A quality Harte defines but this table does not is read as its triad.
    """
    parsed = parse(label)
    if parsed is None:
        return []
    root, quality, _ = parsed
    if quality not in _INTERVALS:
        quality = _TRIAD.get(quality, "maj")
    root_name = NOTES[(root + transpose) % 12]
    root_letter = _LETTERS.index(root_name[0])
    spelled = []
    for step in _INTERVALS[quality]:
        # Each tone is written on the letter of its degree above the root,
        # so E7 holds G# (not Ab) and Bdim7 holds Ab (not G#).
        degree = _DIM7_DEGREE if quality == "dim7" and step == 9 else _DEGREE[step]
        letter = (root_letter + degree - 1) % 7
        pitch = (root + transpose + step) % 12
        shift = (pitch - _NATURAL[_LETTERS[letter]] + 6) % 12 - 6
        spelled.append(_LETTERS[letter] + ("#" * shift if shift > 0 else "b" * -shift))
    return spelled


_LETTERS = "CDEFGAB"
#: The scale degree a chord tone this many semitones above the root is
#: written as (a 9th shares the 2nd's letter).
_DEGREE = {0: 1, 2: 2, 3: 3, 4: 3, 5: 4, 6: 5, 7: 5, 8: 5, 9: 6, 10: 7, 11: 7}
#: A diminished seventh's top note is a 7th, lowered twice.
_DIM7_DEGREE = 7


def _bass_pitch(root: int, bass: str) -> int | None:
    """The pitch class of a Harte bass: a scale degree (``b7``) or a note."""
    digits = bass.lstrip("#b")
    if digits in _DEGREES:
        shift = bass.count("#") - bass.count("b")
        return (root + _DEGREES[digits] + shift) % 12
    try:
        return pitch_class(bass)
    except ValueError:
        return None


def merge(segments: Iterable[Segment], *, min_length: float = 0.0) -> list[Segment]:
    """Sorted segments with consecutive equal labels joined.

    A segment shorter than ``min_length`` seconds (a backend's flicker) is
    given to the chord before it.
    """
    merged: list[Segment] = []
    for segment in sorted(segments, key=lambda s: s.start):
        if segment.end <= segment.start:
            continue
        if merged and (
            merged[-1].label == segment.label
            or segment.end - segment.start < min_length
        ):
            merged[-1] = Segment(merged[-1].start, segment.end, merged[-1].label)
        else:
            merged.append(segment)
    return merged


def snap_to_beats(segments: Sequence[Segment], beats: Sequence[float]) -> list[Segment]:
    """Move each chord change to the nearest beat, then merge again.

    A change more than half a beat from any beat stays where it is, so
    chords that really change off the beat keep their place.
    """
    if len(beats) < 2 or not segments:
        return list(segments)
    grid = sorted(beats)
    spacing = (grid[-1] - grid[0]) / (len(grid) - 1)
    changes = [segments[0].start]
    for segment in segments[1:]:
        nearest = min(grid, key=lambda beat: abs(beat - segment.start))
        changes.append(
            nearest if abs(nearest - segment.start) <= spacing / 2 else segment.start
        )
    changes.append(segments[-1].end)
    snapped = [
        Segment(changes[i], max(changes[i + 1], changes[i]), segment.label)
        for i, segment in enumerate(segments)
    ]
    return merge(snapped)


def to_segments(rows: Iterable[Sequence]) -> list[Segment]:
    """``(start, end, label)`` rows (a backend's output) as normalised segments."""
    segments = []
    for start, end, label in rows:
        try:
            label = normalize(str(label))
        except ValueError:
            label = UNKNOWN
        segments.append(Segment(float(start), float(end), label))
    return segments


def duration_by_label(segments: Iterable[Segment]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for segment in segments:
        totals[segment.label] = totals.get(segment.label, 0.0) + (
            segment.end - segment.start
        )
    return totals


#: A chord change within this share of a beat of a beat is on that beat.
_ON_THE_BEAT = 0.25


def bar_phase_from_chords(
    beats: Sequence[float],
    positions: Sequence[int],
    meter: int | None,
    segments: Sequence[Segment],
) -> list[int] | None:
    """Beat positions moved so that most chord changes fall on a downbeat.

    Beat trackers often hear the bar right but start it on the wrong beat
    (on the third beat of a 4/4 song whose kick and snare alternate);
    harmony changes on the downbeat far more often than elsewhere. Returns
    the corrected positions, or None when the chords do not argue clearly
    for another phase (at least 4 changes and 1.5 times as many on the new
    downbeats as on the old ones).
    """
    try:
        meter = int(meter or 0)
    except (TypeError, ValueError):
        return None
    if meter < 2 or len(beats) < 2 or len(beats) != len(positions):
        return None
    grid = np.asarray(beats, dtype=float)
    spacing = float(np.median(np.diff(grid)))
    on_beat: Counter[int] = Counter()
    previous = None
    for segment in segments:
        if segment.label in (NO_CHORD, UNKNOWN) or segment.label == previous:
            previous = segment.label
            continue
        previous = segment.label
        index = int(np.argmin(np.abs(grid - segment.start)))
        if abs(grid[index] - segment.start) <= spacing * _ON_THE_BEAT:
            on_beat[(int(positions[index]) - 1) % meter] += 1
    if sum(on_beat.values()) < 4:
        return None
    best = max(range(meter), key=lambda phase: on_beat[phase])
    if best == 0 or on_beat[best] < 1.5 * max(on_beat[0], 1):
        return None
    return [(int(p) - 1 - best) % meter + 1 for p in positions]
