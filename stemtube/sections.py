"""Song sections: the bar grid they sit on, their checks and their names.

A structure analyser finds where sections begin and which ones sound alike
(a group number per section); this module turns that into what a musician
reads. The naming rules, in order:

- A song with a vocals stem in which nothing is sung is ``instrumental``
  throughout.
- Sections without vocals before the first sung one are the ``intro``, those
  after the last sung one the ``outro``, the others ``instrumental``.
- Among the sung sections, the group heard most often is the ``chorus``.
  On a tie, the group first heard later (verses come first). Songs far
  more often open with a verse than with a chorus, so when that
  group is the one the vocals open with and another sung group is heard
  nearly as often (one time less at most), the other group is the chorus.
  With no group heard twice, the first sung group is the verse and the next
  one the chorus; a song with one sung group has verses only.
- The group the vocals open with is the ``verse`` (unless it is the
  chorus); a group first heard after a chorus and only once is the
  ``bridge``; any other sung group is a ``verse``.
- Without a vocals stem, a song of fewer than three sections or of one
  group is ``instrumental`` (nothing says it is sung); otherwise every
  section counts as sung, except that a first (last) section whose group is
  heard nowhere else is the intro (outro).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stemtube.providers import ProviderError

LABELS = ("intro", "verse", "chorus", "bridge", "instrumental", "outro")
#: A section in which vocals sound for less of its time than this is unsung.
SUNG_SHARE = 0.15
#: Bar length used when the song has no downbeats (silence, speech, a clip).
FALLBACK_BAR_SECONDS = 2.0
#: The shortest section an analyser may give.
MIN_SECTION_SECONDS = 0.01
#: Bars a musician plays: 3/4 at 240 BPM to 4/4 at 24 BPM.
BAR_SECONDS = (0.5, 10.0)


@dataclass(frozen=True)
class Section:
    start: float
    end: float
    label: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "label": self.label,
        }


def bar_grid(downbeats: Sequence[float], duration: float) -> np.ndarray:
    """Bar starts covering ``[0, duration)``, the first at 0.

    The song's downbeats, extended by their usual bar length before the
    first and after the last one; a pickup shorter than half a bar joins the
    first bar, and so does a downbeat less than half a bar after another.
    Without two downbeats, or with bars outside ``BAR_SECONDS``, bars of
    ``FALLBACK_BAR_SECONDS``.
    """
    if not np.isfinite(duration) or duration <= 0:
        return np.zeros(1)
    marks = np.unique(
        [float(t) for t in downbeats if np.isfinite(t) and 0 <= t < duration]
    )
    bar = float(np.median(np.diff(marks))) if len(marks) >= 2 else 0.0
    if not BAR_SECONDS[0] <= bar <= BAR_SECONDS[1]:
        return np.arange(0.0, duration, FALLBACK_BAR_SECONDS)
    edges = [float(marks[0])]
    for mark in marks[1:]:
        if mark - edges[-1] >= bar / 2:
            edges.append(float(mark))
    while edges[0] - bar > 0:
        edges.insert(0, edges[0] - bar)
    if edges[0] < bar / 2:
        edges[0] = 0.0
    else:
        edges.insert(0, 0.0)
    while edges[-1] + bar < duration - bar / 2:
        edges.append(edges[-1] + bar)
    return np.asarray(edges)


def from_boundaries(
    edges: np.ndarray, boundaries: Sequence[int], duration: float
) -> list[tuple[float, float]]:
    """``(start, end)`` spans cut at the given bar indices, covering the song."""
    cuts = sorted({0, *(b for b in boundaries if 0 < b < len(edges))})
    starts = [float(edges[b]) for b in cuts]
    return list(zip(starts, [*starts[1:], duration], strict=True))


def name_sections(groups: Sequence[int], sung: Sequence[float] | None) -> list[str]:
    """Labels for sections in order, from their groups and sung shares.

    ``sung`` is each section's share of time with vocals, or None when the
    song has no vocals stem. The rules are in this module's docstring.
    """
    count = len(groups)
    if count == 0:
        return []
    repeats = Counter(groups)
    if sung is None:
        if count < 3 or len(repeats) == 1:
            return ["instrumental"] * count  # no structure to name, no voice
        voiced = [True] * count
    else:
        voiced = [share >= SUNG_SHARE for share in sung]
        if not any(voiced):
            return ["instrumental"] * count
    labels: list[str | None] = [None] * count

    if sung is not None:
        first = voiced.index(True)
        last = count - 1 - voiced[::-1].index(True)
        for i in range(count):
            if not voiced[i]:
                labels[i] = "intro" if i < first else "outro" if i > last else None
                labels[i] = labels[i] or "instrumental"
    elif count >= 3:
        if repeats[groups[0]] == 1:
            labels[0], voiced[0] = "intro", False
        if repeats[groups[-1]] == 1:
            labels[-1], voiced[-1] = "outro", False

    sung_groups = [g for g, v in zip(groups, voiced, strict=True) if v]
    if not sung_groups:
        return [label or "instrumental" for label in labels]
    order = list(dict.fromkeys(sung_groups))  # groups by first appearance
    heard = Counter(sung_groups)
    opening = order[0]
    if len(order) == 1:
        chorus = None  # a chorus stands out from something else sung
    elif max(heard.values()) < 2:
        chorus = order[1]
    else:
        # Most heard; on a tie the one first heard later (verses come first).
        chorus = max(order, key=lambda g: (heard[g], order.index(g)))
        if chorus == opening:
            rivals = [g for g in order[1:] if heard[g] >= heard[chorus] - 1]
            if rivals:
                chorus = max(rivals, key=lambda g: (heard[g], -order.index(g)))
    first_chorus = next(
        (i for i in range(count) if voiced[i] and groups[i] == chorus), count
    )
    for i, group in enumerate(groups):
        if labels[i] is not None:
            continue
        if group == chorus:
            labels[i] = "chorus"
        elif group == opening:
            labels[i] = "verse"
        elif i > first_chorus and heard[group] == 1:
            labels[i] = "bridge"
        else:
            labels[i] = "verse"
    return [label or "verse" for label in labels]


def checked(rows: Any, duration: float, analyser: str) -> list[Section]:
    """An analyser's rows as sections covering ``[0, duration]`` exactly.

    Gaps are closed by stretching the section before; a row that cannot be
    read, an unknown label, overlapping rows or times outside the song fail
    the analysis with ``BAD_ANALYSER_RESULT``.
    """

    def bad(why: str) -> ProviderError:
        return ProviderError(
            "BAD_ANALYSER_RESULT",
            f"The structure analyser {analyser} gave {why}.",
            repr(rows)[:500],
        )

    try:
        found = [
            Section(float(row["start"]), float(row["end"]), str(row["label"]))
            for row in rows
        ]
    except Exception:  # a third party's rows can break in any way
        raise bad("a result StemTube cannot read") from None
    if not found:
        raise bad("no sections")
    found.sort(key=lambda s: s.start)
    for section in found:
        if section.label not in LABELS:
            raise bad(f"an unknown label {section.label[:40]!r}")
        inside = 0 <= section.start < duration and section.end <= duration + 1.0
        if not inside or section.end - section.start < MIN_SECTION_SECONDS:
            raise bad("times outside the song")
    for before, after in itertools.pairwise(found):
        if after.start < before.end - 1e-3:
            raise bad("overlapping sections")
    covered = []
    for i, section in enumerate(found):
        start = 0.0 if i == 0 else covered[-1].end
        end = found[i + 1].start if i + 1 < len(found) else duration
        covered.append(Section(start, min(end, duration), section.label))
    return covered
