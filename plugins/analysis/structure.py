"""Song sections from self-similarity and novelty, on the song's bars.

The method (Foote's checkerboard novelty on bar-level self-similarity,
several cues added; sections grouped by how alike they sound):

1. The bar grid comes from the rhythm analyser's downbeats
   (``stemtube.sections.bar_grid``); every boundary is a downbeat.
2. Three cues per half bar: chroma (librosa's constant-Q chroma of the
   harmonic stems, or of the mix without the vocals), timbre (MFCCs of the
   mix) and, when the song has a vocals stem, whether the vocals sound.
   Chroma is compared over two bars at a time, so a section is told apart by
   the order of its chords and not only by which chords it uses.
3. Each cue gives a self-similarity matrix between bars; a Gaussian
   checkerboard kernel slid along its diagonal scores how unlike the bars
   before each downbeat are from the bars after it (the novelty). The cues'
   novelties are added and their clear peaks, at least two bars apart,
   are the boundaries.
4. Sections are grouped by their average similarity (average-linkage
   clustering), and named by ``stemtube.sections.name_sections`` with the
   vocals stem's share of sung time.

librosa gives the features and scipy the peak picking and clustering; the
novelty is our own code because no maintained library ships it (msaf, which
did, no longer imports with current SciPy; see ../DEPENDENCIES.md).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from stemtube import sections
from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, ProgressFn, no_progress

#: librosa's analysis rate and hop: 23 ms frames are fine for bars.
FEATURE_RATE = 22050
HOP = 512
#: Bars each side of a candidate boundary that the checkerboard compares.
KERNEL_BARS = 4
#: How much each cue's novelty counts.
WEIGHTS = {"chroma": 1.0, "timbre": 0.25, "vocals": 1.0}
#: A peak must stand this far above its surroundings, as a share of the
#: highest one, and above ``MIN_NOVELTY`` (so a song that never changes has
#: one section).
PROMINENCE = 0.15
MIN_NOVELTY = 0.15
#: Sections at least this alike (0..1) are the same part of the song.
SAME_GROUP = 0.7
#: Vocals this far below the mix (in amplitude) are bleed, not singing.
VOCALS_RATIO = 0.1
SHORTEST_SONG_SECONDS = 10.0


class LibrosaStructure:
    """Sections found by checkerboard novelty on bar self-similarity."""

    name = "librosa-structure"
    version = "1"
    provides = ("structure",)

    def check(self) -> CheckResult:
        try:
            import librosa  # noqa: F401
            import scipy.cluster.hierarchy  # noqa: F401
        except ImportError as exc:
            return CheckResult(False, f"librosa or scipy is missing: {exc}")
        return CheckResult(True)

    def analyse(
        self,
        audio: np.ndarray,
        sample_rate: int,
        context: dict,
        progress: ProgressFn = no_progress,
    ) -> dict:
        duration = audio.shape[-1] / sample_rate
        stems = context.get("stems") or {}
        rhythm = context.get("rhythm") or {}
        edges = sections.bar_grid(rhythm.get("downbeats") or [], duration)
        bars = len(edges)
        loud = float(np.abs(audio).max(initial=0.0)) >= 1e-4
        mix = _at_feature_rate(audio, sample_rate)
        voice = voiced = None
        if stems.get("vocals") is not None:
            voice = _at_feature_rate(stems["vocals"], sample_rate)
            voiced = _voiced_frames(mix, voice)
        if duration < SHORTEST_SONG_SECONDS or bars < 2 * KERNEL_BARS or not loud:
            spans = [(0.0, duration)]
            groups = [0]
        else:
            progress(10, "Listening to the song's bars")
            cues = _cues(mix, voice, voiced, stems, sample_rate, edges)
            progress(60, "Looking for where sections change")
            novelty = sum(
                WEIGHTS[name] * checkerboard_novelty(matrix, KERNEL_BARS)
                for name, matrix in cues.items()
            )
            boundaries = pick_peaks(novelty)
            spans = sections.from_boundaries(edges, boundaries, duration)
            cuts = [0, *boundaries, bars]
            groups = group_sections(cues, cuts)
        shares = None
        if not loud:
            shares = [0.0]  # silence: nothing is sung
        elif voiced is not None:
            shares = _sung_shares(voiced, spans)
        labels = sections.name_sections(groups, shares)
        progress(100, "Sections found")
        return {
            "sections": [
                sections.Section(start, end, label).as_dict()
                for (start, end), label in zip(spans, labels, strict=True)
            ],
            "analyser": self.name,
            "version": self.version,
            "bars": bars,
        }


def _half_bars(edges: np.ndarray, frames: int) -> np.ndarray:
    """Frame indices of every bar's start and middle, for ``librosa.util.sync``."""
    import librosa

    ends = np.r_[edges[1:], edges[-1] + np.median(np.diff(edges))]
    marks = np.sort(np.r_[edges, (edges + ends) / 2])
    index = librosa.time_to_frames(marks, sr=FEATURE_RATE, hop_length=HOP)
    return np.clip(index, 0, max(frames - 1, 0))


def _per_bar(features: np.ndarray, index: np.ndarray, bars: int, aggregate) -> Any:
    """``(dims, 2, bars)``: each half bar's aggregate of the frame features."""
    import librosa

    synced = librosa.util.sync(features, index, aggregate=aggregate, pad=False)
    synced = synced[:, : 2 * bars]
    if synced.shape[1] < 2 * bars:
        synced = np.pad(synced, ((0, 0), (0, 2 * bars - synced.shape[1])), "edge")
    return synced.reshape(features.shape[0], bars, 2).transpose(0, 2, 1)


def _cosine(vectors: np.ndarray, power: float = 1.0) -> np.ndarray:
    """Bar-by-bar cosine similarity of column vectors, negatives as 0."""
    norms = np.linalg.norm(vectors, axis=0, keepdims=True)
    unit = vectors / np.maximum(norms, 1e-9)
    return np.maximum(unit.T @ unit, 0.0) ** power


def _at_feature_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    import librosa

    audio = np.asarray(audio, dtype=np.float32)
    return librosa.resample(audio, orig_sr=sample_rate, target_sr=FEATURE_RATE)


def _cues(
    mix: np.ndarray,
    voice: np.ndarray | None,
    voiced: np.ndarray | None,
    stems: dict,
    sample_rate: int,
    edges: np.ndarray,
) -> dict[str, np.ndarray]:
    """The cues' bar self-similarity matrices, each ``bars x bars`` in 0..1.

    ``mix`` and ``voice`` (the vocals stem) are at ``FEATURE_RATE``;
    ``voiced`` is ``_voiced_frames`` of them.
    """
    import librosa

    bars = len(edges)
    harmonic_names = [n for n in stems if n not in ("vocals", "drums")]
    if harmonic_names and voice is not None:
        harmonic = _at_feature_rate(
            sum(np.asarray(stems[n]) for n in harmonic_names), sample_rate
        )
    elif voice is not None:
        harmonic = mix[: len(voice)] - voice[: len(mix)]
    else:
        harmonic = mix
    chroma = librosa.feature.chroma_cqt(y=harmonic, sr=FEATURE_RATE, hop_length=HOP)
    frames = chroma.shape[1]
    index = _half_bars(edges, frames)
    chroma = _per_bar(chroma, index, bars, np.median).reshape(-1, bars)
    chroma = chroma - chroma.mean(axis=1, keepdims=True)
    # Two bars at a time: the bar and the next one.
    pairs = np.vstack([chroma, np.pad(chroma[:, 1:], ((0, 0), (0, 1)), "edge")])
    cues = {"chroma": _cosine(pairs, power=2)}

    mfcc = librosa.feature.mfcc(y=mix, sr=FEATURE_RATE, hop_length=HOP, n_mfcc=14)
    timbre = _per_bar(mfcc[1:], index, bars, np.mean).mean(axis=1)
    timbre = (timbre - timbre.mean(axis=1, keepdims=True)) / (
        timbre.std(axis=1, keepdims=True) + 1e-9
    )
    cues["timbre"] = _cosine(timbre)

    if voiced is not None:
        sung = _per_bar(voiced[None, :frames], index, bars, np.mean)[0].mean(axis=0)
        # Each bar with the one before: sung lines often leave every other
        # bar free, and a section's last bar is often one of those.
        sung = (sung + np.r_[sung[:1], sung[:-1]]) / 2
        cues["vocals"] = np.exp(-(((sung[:, None] - sung[None, :]) / 0.25) ** 2))
    return cues


def _voiced_frames(mix: np.ndarray, voice: np.ndarray) -> np.ndarray:
    """1.0 for each frame where the vocals stem sounds above bleed, else 0.0.

    Both are at ``FEATURE_RATE``.
    """
    import librosa

    length = min(len(voice), len(mix))
    voice_rms = librosa.feature.rms(y=voice[:length], hop_length=HOP)[0]
    mix_rms = librosa.feature.rms(y=mix[:length], hop_length=HOP)[0]
    return ((voice_rms > VOCALS_RATIO * mix_rms) & (voice_rms > 1e-4)).astype(float)


def _sung_shares(voiced: np.ndarray, spans: list[tuple[float, float]]) -> list[float]:
    """Each span's share of frames in which the vocals stem sounds."""
    import librosa

    shares = []
    for start, end in spans:
        low, high = librosa.time_to_frames(
            [start, end], sr=FEATURE_RATE, hop_length=HOP
        )
        part = voiced[low : max(high, low + 1)]
        shares.append(float(part.mean()) if len(part) else 0.0)
    return shares


def checkerboard_novelty(similarity: np.ndarray, width: int) -> np.ndarray:
    """How unlike the ``width`` bars before each bar are from those after it.

    Foote's checkerboard, Gaussian-tapered, computed as the mean similarity
    within each side minus the mean across, so the song's first and last
    bars (where one side is short) are scored on what exists. Values are in
    -2..2; bars with less than two bars on either side score 0.
    """
    size = similarity.shape[0]
    taper = np.exp(-0.5 * ((np.arange(2 * width) - width + 0.5) / (0.75 * width)) ** 2)
    novelty = np.zeros(size)
    for i in range(2, size - 1):
        low, high = max(0, i - width), min(size, i + width)
        before = taper[width - (i - low) : width]
        after = taper[width : width + (high - i)]

        def mean(block: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> float:
            weights = np.outer(rows, cols)
            return float((block * weights).sum() / weights.sum())

        difference = (
            mean(similarity[low:i, low:i], before, before)
            + mean(similarity[i:high, i:high], after, after)
            - 2 * mean(similarity[low:i, i:high], before, after)
        )
        # Near the song's ends one side is short and looks unlike anything.
        novelty[i] = difference * np.sqrt(min(i - low, high - i) / width)
    return novelty


def pick_peaks(novelty: np.ndarray) -> list[int]:
    """Bar indices of the novelty's clear peaks, at least two bars apart."""
    from scipy.signal import find_peaks

    top = float(novelty.max(initial=0.0))
    if top < MIN_NOVELTY:
        return []
    peaks, _ = find_peaks(
        np.r_[0.0, novelty, 0.0],
        distance=2,
        prominence=PROMINENCE * top,
        height=MIN_NOVELTY,
    )
    return [int(p) - 1 for p in peaks if 0 < p - 1 < len(novelty)]


def group_sections(cues: dict[str, np.ndarray], cuts: list[int]) -> list[int]:
    """A group number per section (``cuts`` are bar indices), alike ones shared.

    Two sections are alike when every bar of each has a close match in the
    other (over the cues that describe the music itself: chroma and timbre,
    not the vocals): a section that only half repeats another is not it.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    spans = list(itertools.pairwise(cuts))
    if len(spans) < 2:
        return [0] * len(spans)
    music = [cues[name] for name in ("chroma", "timbre") if name in cues]
    similarity = sum(music) / len(music)
    count = len(spans)
    likeness = np.ones((count, count))
    for i, (a, b) in enumerate(spans):
        for j, (c, d) in enumerate(spans):
            if i != j:
                block = similarity[a:b, c:d]
                likeness[i, j] = min(block.max(axis=1).mean(), block.max(axis=0).mean())
    distance = 1.0 - np.clip(likeness, 0.0, 1.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    found = fcluster(tree, t=1.0 - SAME_GROUP, criterion="distance")
    # Number groups by first appearance, from 0.
    order = {g: i for i, g in enumerate(dict.fromkeys(found.tolist()))}
    return [order[g] for g in found.tolist()]


@hookimpl
def register_analysers(settings):
    return [LibrosaStructure()]
