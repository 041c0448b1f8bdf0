"""The key of a song from a key model's probabilities and the song's chords.

A key model that reads only chroma (madmom's CNN among them) often confuses a
key with its relative (A minor and C major share every note), since the
difference is which chord is home, not which notes sound. The chords say
that: how long the tonic chord lasts, whether the song starts and ends on
it, and how often the dominant resolves to it. No maintained library does
this combination; it is small and it is our product, so it lives here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stemtube import chords
from stemtube.chords import NOTES, Segment

MAJOR, MINOR = "major", "minor"

#: How much each piece of chord evidence weighs against the model's
#: probability (0..1). Chosen on the test songs and recordings; see
#: bench/README.md for the scores.
TONIC_WEIGHT = 1.0
ENDING_WEIGHT = 0.3
OPENING_WEIGHT = 0.2
CADENCE_WEIGHT = 0.5


@dataclass(frozen=True)
class Key:
    tonic: int
    mode: str  # major | minor
    confidence: float = 0.0

    @property
    def name(self) -> str:
        """``"A minor"``: how the API reference writes a key, and ``mir_eval.key``."""
        return f"{NOTES[self.tonic]} {self.mode}"

    @property
    def label(self) -> str:
        """``"A:min"``, the Harte-style form of the test songs' truth."""
        return f"{NOTES[self.tonic]}:{'maj' if self.mode == MAJOR else 'min'}"

    @property
    def relative(self) -> Key:
        if self.mode == MAJOR:
            return Key((self.tonic + 9) % 12, MINOR)
        return Key((self.tonic + 3) % 12, MAJOR)

    def as_dict(self) -> dict:
        return {
            "key": self.name,
            "label": self.label,
            "confidence": round(self.confidence, 3),
        }


def parse_key(name: str) -> Key:
    """``"Bb major"`` or ``"A:min"`` -> Key; raises ValueError otherwise."""
    if ":" in name:
        tonic, mode = name.split(":", 1)
        mode = {"maj": MAJOR, "min": MINOR}.get(mode, "")
    else:
        tonic, _, mode = name.strip().partition(" ")
    if mode not in (MAJOR, MINOR):
        raise ValueError(f"not a key: {name!r}")
    return Key(chords.pitch_class(tonic), mode)


def _tonic_triad(key: Key) -> str:
    return f"{NOTES[key.tonic]}:{'maj' if key.mode == MAJOR else 'min'}"


def chord_evidence(key: Key, segments: Sequence[Segment]) -> float:
    """How strongly the chords point at ``key`` as home (0 when no chords)."""
    sounding = [s for s in segments if chords.parse(s.label) is not None]
    if not sounding:
        return 0.0
    tonic = _tonic_triad(key)
    triads = [chords.triad(s.label) for s in sounding]
    total = sum(s.end - s.start for s in sounding)
    on_tonic = sum(
        s.end - s.start for s, t in zip(sounding, triads, strict=True) if t == tonic
    )
    roots = [chords.root_of(s.label) for s in sounding]
    dominant = (key.tonic + 7) % 12
    changes = list(zip(roots[:-1], triads[1:], strict=True))
    cadences = sum(1 for root, nxt in changes if root == dominant and nxt == tonic)
    return (
        TONIC_WEIGHT * on_tonic / total
        + ENDING_WEIGHT * (triads[-1] == tonic)
        + OPENING_WEIGHT * (triads[0] == tonic)
        + CADENCE_WEIGHT * min(1.0, 4 * cadences / max(1, len(changes)))
    )


def choose_key(
    probabilities: Mapping[Key, float], segments: Sequence[Segment]
) -> Key | None:
    """The most likely key, weighing the model's top keys and their relatives.

    ``probabilities`` maps keys (confidence ignored) to the model's
    probability; the answer's confidence is the model's probability of it.
    """
    if not probabilities:
        return None
    by_key = {Key(k.tonic, k.mode): p for k, p in probabilities.items()}
    top = sorted(by_key, key=by_key.get, reverse=True)[:3]
    candidates = {k for key in top for k in (key, key.relative)}

    def score(key: Key) -> float:
        return by_key.get(key, 0.0) + chord_evidence(key, segments)

    best = max(candidates, key=lambda k: (score(k), by_key.get(k, 0.0)))
    return Key(best.tonic, best.mode, by_key.get(best, 0.0))
