"""Lyrics with a start and end for every line and word: the karaoke view's data.

Lyric engines give either text (a lookup such as LRCLIB: synced lines, or
plain lines) or timed words (a transcription of the vocals stem). This
module turns what they give into one format and combines them:

- timed words are cut into lines at pauses, and lines sung where the vocals
  stem is silent are dropped (a transcriber's usual inventions);
- synced lines are moved by one global offset, found from where the vocals
  first sound, and each line's words take the times of the transcribed
  words they match;
- plain lines are placed where their words were transcribed;
- a word no engine timed gets a time interpolated between its neighbours,
  and says so (``interpolated: true``).

The alignment is StemTube's own (difflib's sequence matching on normalised
words): no maintained library aligns a lyric sheet with a transcription's
word times, and this is the core of the karaoke feature.
"""

from __future__ import annotations

import difflib
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: A pause at least this long between two words starts a new line.
LINE_GAP_SECONDS = 0.9
#: After a sentence's end (". ! ?") a shorter pause is enough.
SENTENCE_GAP_SECONDS = 0.3
#: The vocals' loudness is read in frames this long.
ENERGY_FRAME_SECONDS = 0.05
#: A frame quieter than the stem's loud level by this much is silence.
SILENCE_BELOW_DB = 35.0
#: A line with less voiced time than this share of its span is dropped.
MIN_VOICED_SHARE = 0.25
#: A line whose every word lasts less than this was not really heard.
COLLAPSED_SECONDS = 0.05
#: Lines whose first word the transcription confirms, needed to trust it
#: for the offset rather than the first vocal onset.
MIN_ANCHORS = 3
#: A global offset larger than this is not believed.
MAX_OFFSET_SECONDS = 30.0


@dataclass
class Word:
    start: float
    end: float
    word: str
    interpolated: bool = False

    def as_dict(self) -> dict:
        found = {"start": round(self.start, 3), "end": round(self.end, 3)}
        found["word"] = self.word
        if self.interpolated:
            found["interpolated"] = True
        return found


@dataclass
class Line:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "words": [w.as_dict() for w in self.words],
        }


def normalize(word: str) -> str:
    """A word as it is compared: lower case, no accents or punctuation."""
    folded = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in folded if c.isalnum())


def split_words(text: str) -> list[str]:
    return [w for w in text.split() if w]


# Timed words into lines.


def lines_from_words(
    words: Sequence[Word], silences: Sequence[tuple[float, float]] = ()
) -> list[Line]:
    """Words of a transcription cut into lines at pauses.

    A pause is a gap between two words' times, or a silence of the vocals
    stem between their starts (a transcriber often stretches a word over
    the breath that follows it). Words that are only punctuation go.
    """
    lines: list[list[Word]] = []
    for word in words:
        if not normalize(word.word):
            continue
        for low, high in silences:  # a start heard early, in the silence before
            if low <= word.start < high < word.end:
                word = Word(high, word.end, word.word, word.interpolated)
        if lines:
            previous = lines[-1][-1]
            gap = word.start - previous.end
            ends_sentence = previous.word.rstrip().endswith((".", "!", "?"))
            breath = any(
                previous.start < low < word.start and high - low >= LINE_GAP_SECONDS
                for low, high in silences
            )
            if (
                breath
                or gap >= LINE_GAP_SECONDS
                or (ends_sentence and gap >= SENTENCE_GAP_SECONDS)
            ):
                lines.append([word])
                continue
            lines[-1].append(word)
        else:
            lines.append([word])
    return [
        Line(
            group[0].start,
            group[-1].end,
            " ".join(w.word.strip() for w in group),
            group,
        )
        for group in lines
    ]


def interpolate(words: list[Word], start: float, end: float) -> list[Word]:
    """Give untimed words (start < 0) times between their timed neighbours.

    The time between two timed words (or the line's own ``start`` and
    ``end``) is shared among the untimed words in it by their length.
    """
    timed = [i for i, w in enumerate(words) if w.start >= 0]
    result = list(words)
    bounds = [-1, *timed, len(words)]
    for left, right in itertools.pairwise(bounds):
        gap = list(range(left + 1, right))
        if not gap:
            continue
        low = result[left].end if left >= 0 else start
        high = result[right].start if right < len(words) else end
        high = max(high, low)
        weights = [max(1, len(words[i].word)) for i in gap]
        total = sum(weights)
        position = low
        for i, weight in zip(gap, weights, strict=True):
            span = (high - low) * weight / total
            result[i] = Word(position, position + span, words[i].word, True)
            position += span
    return result


# Where the vocals sound.


@dataclass
class VoiceActivity:
    """Which moments of the vocals stem are sung, from its loudness."""

    voiced: np.ndarray  # one boolean per frame
    frame_seconds: float = ENERGY_FRAME_SECONDS

    @classmethod
    def of(cls, vocals: np.ndarray, sample_rate: int) -> VoiceActivity:
        size = max(1, int(sample_rate * ENERGY_FRAME_SECONDS))
        frames = len(vocals) // size
        if frames == 0:
            return cls(np.zeros(0, dtype=bool))
        blocks = np.asarray(vocals[: frames * size], dtype=np.float64).reshape(
            frames, size
        )
        rms = np.sqrt((blocks**2).mean(axis=1))
        loud = float(np.percentile(rms, 95))
        if loud < 1e-4:  # a silent stem: nothing is sung
            return cls(np.zeros(frames, dtype=bool))
        threshold = loud * 10 ** (-SILENCE_BELOW_DB / 20)
        return cls(rms > max(threshold, 1e-4))

    def share(self, start: float, end: float) -> float:
        """The voiced share of [start, end)."""
        low = max(0, int(start / self.frame_seconds))
        high = min(
            len(self.voiced), max(low + 1, int(np.ceil(end / self.frame_seconds)))
        )
        if high <= low:
            return 0.0
        return float(self.voiced[low:high].mean())

    def silences(self, minimum_seconds: float = 0.6) -> list[tuple[float, float]]:
        """The stretches of at least ``minimum_seconds`` where nothing is sung."""
        found, start = [], None
        for i, voiced in enumerate([*self.voiced, True]):
            if not voiced and start is None:
                start = i
            elif voiced and start is not None:
                if (i - start) * self.frame_seconds >= minimum_seconds:
                    found.append((start * self.frame_seconds, i * self.frame_seconds))
                start = None
        return found

    def first_onset(self, minimum_seconds: float = 0.3) -> float | None:
        """Where the vocals first sound for ``minimum_seconds`` in a row."""
        need = max(1, int(minimum_seconds / self.frame_seconds))
        run = 0
        for i, voiced in enumerate(self.voiced):
            run = run + 1 if voiced else 0
            if run >= need:
                return (i - need + 1) * self.frame_seconds
        return None


def drop_unsung(lines: Sequence[Line], activity: VoiceActivity) -> list[Line]:
    """Lines a transcriber heard where the vocals stem is silent, removed.

    A line repeating the one before it must be sung too: looping the last
    words over an instrumental part is a transcriber's usual invention. So
    is a line whose words all have no length.
    """
    kept: list[Line] = []
    for line in lines:
        if all(w.end - w.start < COLLAPSED_SECONDS for w in line.words):
            continue  # words the transcriber could not place in time
        voiced = activity.share(line.start, line.end)
        repeated = bool(kept) and normalize(kept[-1].text) == normalize(line.text)
        if voiced < MIN_VOICED_SHARE or (repeated and voiced < 2 * MIN_VOICED_SHARE):
            continue
        kept.append(line)
    return kept


# Lyric sheets with transcribed words.


def parse_lrc(text: str) -> list[tuple[float, str]]:
    """``[mm:ss.xx] text`` lines (several stamps per line allowed), sorted."""
    stamp = re.compile(r"\[(\d+):(\d+(?:[.:]\d+)?)\]")
    found = []
    for raw in text.splitlines():
        stamps = stamp.findall(raw)
        words = stamp.sub("", raw).strip()
        for minutes, seconds in stamps:
            found.append((int(minutes) * 60 + float(seconds.replace(":", ".")), words))
    return sorted(found)


def _match(sheet: list[str], heard: Sequence[Word]) -> dict[int, int]:
    """Index in ``sheet`` -> index in ``heard`` for the words that agree."""
    matcher = difflib.SequenceMatcher(
        None,
        [normalize(w) for w in sheet],
        [normalize(w.word) for w in heard],
        autojunk=False,
    )
    pairs = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            pairs[block.a + k] = block.b + k
    return pairs


def estimate_offset(
    entries: Sequence[tuple[float, str]],
    activity: VoiceActivity | None,
    heard: Sequence[Word],
    pairs: dict[int, int],
) -> float:
    """How much later the sheet's lines are sung in this recording.

    When the transcription agrees with the first words of at least
    ``MIN_ANCHORS`` lines, the median of those lines' differences; else the
    difference between where the vocals first sound (or the first heard
    word) and the first line. 0 when nothing is known or the difference is
    not believable.
    """
    differences = []
    position = 0
    for start, text in entries:
        match = pairs.get(position)
        if match is not None:
            differences.append(heard[match].start - start)
        position += len(split_words(text))
    if len(differences) >= MIN_ANCHORS:
        offset = float(np.median(differences))
    else:
        onset = activity.first_onset() if activity is not None else None
        if onset is None and heard:
            onset = heard[0].start
        if onset is None:
            return 0.0
        offset = onset - entries[0][0]
    return offset if abs(offset) <= MAX_OFFSET_SECONDS else 0.0


def align_synced(
    synced: Sequence[tuple[float, str]],
    heard: Sequence[Word],
    duration: float,
    activity: VoiceActivity | None = None,
) -> list[Line]:
    """Synced lines moved by the global offset, with the heard words' times."""
    entries = [(t, text) for t, text in synced if text]
    if not entries:
        return []
    sheet = [(i, w) for i, (_, text) in enumerate(entries) for w in split_words(text)]
    pairs = _match([w for _, w in sheet], heard)
    offset = estimate_offset(entries, activity, heard, pairs)
    lines = []
    for index, (start, text) in enumerate(entries):
        begin = max(0.0, start + offset)
        following = (
            entries[index + 1][0] + offset if index + 1 < len(entries) else duration
        )
        finish = min(max(begin, following), duration) if duration else following
        words = []
        for position, (line_index, word) in enumerate(sheet):
            if line_index != index:
                continue
            match = pairs.get(position)
            inside = match is not None and begin - 1.0 <= heard[match].start <= finish
            if inside:
                w = heard[match]
                words.append(Word(w.start, w.end, word))
            else:
                words.append(Word(-1.0, -1.0, word))
        words = interpolate(words, begin, finish)
        end = max((w.end for w in words), default=finish)
        lines.append(Line(words[0].start if words else begin, end, text, words))
    return lines


def place_plain(
    plain: Sequence[str], heard: Sequence[Word], duration: float
) -> list[Line]:
    """Plain lines given the times of the heard words that match them."""
    texts = [t for t in (line.strip() for line in plain) if t]
    if not texts:
        return []
    sheet = [(i, w) for i, text in enumerate(texts) for w in split_words(text)]
    pairs = _match([w for _, w in sheet], heard)
    words_by_line: list[list[Word]] = [[] for _ in texts]
    for position, (line_index, word) in enumerate(sheet):
        match = pairs.get(position)
        if match is None:
            words_by_line[line_index].append(Word(-1.0, -1.0, word))
        else:
            w = heard[match]
            words_by_line[line_index].append(Word(w.start, w.end, word))
    # Lines with no heard word at all share the time between their neighbours.
    spans = [
        (
            min((w.start for w in ws if w.start >= 0), default=-1.0),
            max((w.end for w in ws if w.start >= 0), default=-1.0),
        )
        for ws in words_by_line
    ]
    lines = []
    for index, words in enumerate(words_by_line):
        start, end = spans[index]
        if start < 0:
            before = max(
                (spans[i][1] for i in range(index) if spans[i][0] >= 0), default=0.0
            )
            after = min(
                (spans[i][0] for i in range(index + 1, len(texts)) if spans[i][0] >= 0),
                default=duration or before,
            )
            start, end = before, max(before, after)
        timed = interpolate(words, start, end)
        lines.append(Line(timed[0].start, timed[-1].end, texts[index], timed))
    return lines


def spread_evenly(texts: Sequence[str], start: float, end: float) -> list[Line]:
    """Lines with no timing at all, spread over [start, end), flagged."""
    texts = [t for t in (t.strip() for t in texts) if t]
    if not texts or end <= start:
        return []
    step = (end - start) / len(texts)
    return [
        Line(
            start + i * step,
            start + (i + 1) * step,
            text,
            interpolate(
                [Word(-1.0, -1.0, w) for w in split_words(text)],
                start + i * step,
                start + (i + 1) * step,
            ),
        )
        for i, text in enumerate(texts)
    ]


# LRC export.


def _stamp(seconds: float, brackets: str = "[]") -> str:
    seconds = max(0.0, seconds)
    minutes = int(seconds // 60)
    return f"{brackets[0]}{minutes:02d}:{seconds - 60 * minutes:05.2f}{brackets[1]}"


def to_lrc(
    lines: Iterable[dict],
    *,
    title: str = "",
    artist: str = "",
    enhanced: bool = False,
    offset_ms: int = 0,
) -> str:
    """The lines as an LRC file; ``enhanced`` adds ``<mm:ss.xx>`` word stamps.

    ``offset_ms`` (the user's correction) is applied to every time.
    """
    shift = offset_ms / 1000
    out = []
    if title:
        out.append(f"[ti:{title}]")
    if artist:
        out.append(f"[ar:{artist}]")
    for line in lines:
        text = line["text"]
        if enhanced and line.get("words"):
            text = " ".join(
                f"{_stamp(w['start'] + shift, '<>')}{w['word']}" for w in line["words"]
            )
        out.append(f"{_stamp(line['start'] + shift)}{text}")
    return "\n".join(out) + "\n"


# What to look a song up by.

_NOISE = re.compile(
    r"[\(\[][^\)\]]*\b(official|video|audio|lyrics?|hd|hq|4k|visuali[sz]er|"
    r"remaster(ed)?|m/?v|clip|explicit)\b[^\)\]]*[\)\]]",
    re.IGNORECASE,
)
_FEATURING = re.compile(
    r"\s*[\(\[]?\b(ft|feat|featuring)\b\.?\s+[^\)\]\-]*[\)\]]?", re.I
)
_DASH = re.compile(r"\s+[-–—]\s+")
_CHANNEL_NOISE = re.compile(r"\s*(-\s*topic|vevo|official)\s*$", re.IGNORECASE)


def song_query(title: str, author: str = "") -> tuple[str, str]:
    """(track, artist) to look lyrics up by, without a video title's noise.

    ``"Artist - Title (Official Video) [Lyrics] ft. Someone"`` gives
    ``("Title", "Artist")``; without a dash the channel name is the artist.
    """
    text = _NOISE.sub(" ", title)
    text = _FEATURING.sub(" ", text)
    text = re.sub(r"[\(\[]\s*[\)\]]", " ", text)
    artist = _CHANNEL_NOISE.sub("", author or "").strip()
    parts = _DASH.split(text, maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        artist, text = parts[0], parts[1]
    clean = " ".join(text.replace('"', " ").split()).strip(" -–—")
    return clean, " ".join(artist.split())
